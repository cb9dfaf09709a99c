"""catalogue indexes: keyset sorts and the certification facet

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 12:00:00

The catalogue pages with a row comparison on each sort's key (shop.catalog.queries.sort_key),
so a deep page reads from the index where the last one stopped:
- newest: (status, published_at, id), which also serves what (status, published_at) did;
- price up / down: (status, coalesce(price_vnd, 2147483647), id) and
  (status, coalesce(price_vnd, 0), id): "Liên hệ" (no price) sorts last both ways;
- certification facet and filter: product_certification (certification_code, product_id);
- the catalogue version that keys the cached facet counts: product (updated_at) and
  cooperative (updated_at), so max(updated_at) reads one index entry.
Sector, category and cooperative already have their own indexes (0001).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_status_published_at')
        batch_op.create_index('ix_product_status_published_at_id', ['status', 'published_at', 'id'], unique=False)
    op.create_index(
        'ix_product_status_price_up',
        'product',
        ['status', sa.text('coalesce(price_vnd, 2147483647)'), 'id'],
        unique=False,
    )
    op.create_index(
        'ix_product_status_price_down',
        'product',
        ['status', sa.text('coalesce(price_vnd, 0)'), 'id'],
        unique=False,
    )
    with op.batch_alter_table('product_certification', schema=None) as batch_op:
        batch_op.create_index('ix_product_certification_code_product', ['certification_code', 'product_id'], unique=False)
    op.create_index('ix_product_updated_at', 'product', ['updated_at'], unique=False)
    op.create_index('ix_cooperative_updated_at', 'cooperative', ['updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_cooperative_updated_at', table_name='cooperative')
    op.drop_index('ix_product_updated_at', table_name='product')
    with op.batch_alter_table('product_certification', schema=None) as batch_op:
        batch_op.drop_index('ix_product_certification_code_product')
    op.drop_index('ix_product_status_price_down', table_name='product')
    op.drop_index('ix_product_status_price_up', table_name='product')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_status_published_at_id')
        batch_op.create_index('ix_product_status_published_at', ['status', 'published_at'], unique=False)
