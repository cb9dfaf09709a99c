"""programme applications, booth slots, zones, inquiry lists and threads

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 04:45:12

- booth_application: a cooperative's request for a booth; the partial unique index keeps one
  application that still holds a place (pending, accepted, waitlisted) per cooperative and
  programme, so two submissions at once cannot both land;
- booth_slot: a booth's time slots (livestreams, tastings);
- programme.zones: the zone names of the floor plan;
- inquiry_list_item: a signed-in buyer's saved inquiry list;
- inquiry_message: the thread of an inquiry after its first message (replies, internal notes);
  inquiry.buyer_lang: the language emails to the buyer are written in.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inquiry_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('buyer', 'cooperative', 'staff', name='messageauthor', native_enum=False, length=24), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['user.id'], name=op.f('fk_inquiry_message_author_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiry.id'], name=op.f('fk_inquiry_message_inquiry_id_inquiry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_message'))
    )
    with op.batch_alter_table('inquiry_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_message_inquiry_id'), ['inquiry_id'], unique=False)

    with op.batch_alter_table('inquiry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_lang', sa.String(length=5), nullable=False, server_default='vi'))

    op.create_table('booth_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'waitlisted', 'declined', 'withdrawn', name='applicationstatus', native_enum=False, length=24), nullable=False),
    sa.Column('preferred_zone', sa.String(length=60), nullable=True),
    sa.Column('product_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('booth_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booth_id'], ['booth.id'], name=op.f('fk_booth_application_booth_id_booth'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperative.id'], name=op.f('fk_booth_application_cooperative_id_cooperative'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_booth_application_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_booth_application_programme_id_programme'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_booth_application_submitted_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booth_application'))
    )
    with op.batch_alter_table('booth_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booth_application_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index('ix_booth_application_programme_status', ['programme_id', 'status'], unique=False)
        batch_op.create_index('uq_booth_application_active', ['programme_id', 'cooperative_id'], unique=True, sqlite_where=sa.text("status IN ('pending', 'accepted', 'waitlisted')"), postgresql_where=sa.text("status IN ('pending', 'accepted', 'waitlisted')"))

    op.create_table('booth_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booth_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title_vi', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['booth_id'], ['booth.id'], name=op.f('fk_booth_slot_booth_id_booth'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booth_slot'))
    )
    with op.batch_alter_table('booth_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booth_slot_booth_id'), ['booth_id'], unique=False)

    op.create_table('inquiry_list_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('booth_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booth_id'], ['booth.id'], name=op.f('fk_inquiry_list_item_booth_id_booth'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_inquiry_list_item_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_inquiry_list_item_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_list_item')),
    sa.UniqueConstraint('user_id', 'product_id', name=op.f('uq_inquiry_list_item_user_id_product_id'))
    )
    with op.batch_alter_table('inquiry_list_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_list_item_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zones', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('inquiry', schema=None) as batch_op:
        batch_op.drop_column('buyer_lang')

    with op.batch_alter_table('inquiry_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_message_inquiry_id'))

    op.drop_table('inquiry_message')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_column('zones')

    with op.batch_alter_table('inquiry_list_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_list_item_user_id'))

    op.drop_table('inquiry_list_item')
    with op.batch_alter_table('booth_slot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booth_slot_booth_id'))

    op.drop_table('booth_slot')
    with op.batch_alter_table('booth_application', schema=None) as batch_op:
        batch_op.drop_index('uq_booth_application_active', sqlite_where=sa.text("status IN ('pending', 'accepted', 'waitlisted')"), postgresql_where=sa.text("status IN ('pending', 'accepted', 'waitlisted')"))
        batch_op.drop_index('ix_booth_application_programme_status')
        batch_op.drop_index(batch_op.f('ix_booth_application_cooperative_id'))

    op.drop_table('booth_application')
