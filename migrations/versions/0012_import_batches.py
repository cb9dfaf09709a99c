"""import batches: bulk imports of products and of the cooperatives' registry

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 08:08:51

An uploaded sheet's rows are kept in import_batch between the preview and the confirmation,
so a member can fix a bad row on the page; the job that writes them reports its progress
(progress_done of progress_total) and its heartbeat there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('products', 'cooperatives', name='batchkind', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('preview', 'running', 'done', 'failed', 'cancelled', name='batchstatus', native_enum=False, length=24), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('archive_key', sa.String(length=255), nullable=True),
    sa.Column('archive_names', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=True),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_ids', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperative.id'], name=op.f('fk_import_batch_cooperative_id_cooperative'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_import_batch_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index('ix_import_batch_owner', ['kind', 'cooperative_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_import_batch_owner')

    op.drop_table('import_batch')
