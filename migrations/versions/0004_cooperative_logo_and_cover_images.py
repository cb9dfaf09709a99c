"""cooperative logo and cover images

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:08:24.115159

On SQLite the columns are added with plain ALTER TABLE statements instead of Alembic's batch
mode: batch mode rebuilds the table (create a copy, DROP TABLE cooperative, rename), and with
foreign keys on, that DROP fails on any database holding products (or, with no products,
cascades to every membership and invitation). ADD COLUMN ... REFERENCES touches nothing else.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COLUMNS = ('logo_image_id', 'cover_image_id')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for column in COLUMNS:
            op.execute(
                f'ALTER TABLE cooperative ADD COLUMN {column} INTEGER '
                f'CONSTRAINT fk_cooperative_{column}_stored_image '
                'REFERENCES stored_image (id)'
            )
        return
    with op.batch_alter_table('cooperative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_image_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cover_image_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cooperative_logo_image_id_stored_image'), 'stored_image', ['logo_image_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cooperative_cover_image_id_stored_image'), 'stored_image', ['cover_image_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35+) drops a column in place; the table is not rebuilt.
        for column in reversed(COLUMNS):
            op.execute(f'ALTER TABLE cooperative DROP COLUMN {column}')
        return
    with op.batch_alter_table('cooperative', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cooperative_cover_image_id_stored_image'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cooperative_logo_image_id_stored_image'), type_='foreignkey')
        batch_op.drop_column('cover_image_id')
        batch_op.drop_column('logo_image_id')
