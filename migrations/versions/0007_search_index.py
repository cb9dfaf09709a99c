"""search index: FTS5 on SQLite, tsvector + GIN on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00

The index holds folded text (shop.search.terms), so neither backend folds: SQLite's
unicode61 never folds "đ", and PostgreSQL needs no unaccent. The table is kept out of the
models' metadata (migrations/env.py skips it). Existing products are indexed here, so an
upgraded database searches at once; `flask search reindex` rebuilds it at any time.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute(
            "CREATE VIRTUAL TABLE product_search USING fts5("
            "name, name_en, context, description, names UNINDEXED, tokenize = 'unicode61')"
        )
    else:
        op.create_table(
            'product_search',
            sa.Column('product_id', sa.Integer(), nullable=False),
            sa.Column('document', postgresql.TSVECTOR(), nullable=False),
            sa.Column('name', sa.Text(), nullable=False),
            sa.Column('name_en', sa.Text(), nullable=False),
            sa.Column('context', sa.Text(), nullable=False),
            sa.Column('names', sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ['product_id'], ['product.id'],
                name=op.f('fk_product_search_product_id_product'), ondelete='CASCADE',
            ),
            sa.PrimaryKeyConstraint('product_id', name=op.f('pk_product_search')),
        )
        op.create_index(
            'ix_product_search_document', 'product_search', ['document'],
            postgresql_using='gin',
        )
    from shop.search.index import rebuild

    rebuild(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_index('ix_product_search_document', table_name='product_search')
    op.drop_table('product_search')
