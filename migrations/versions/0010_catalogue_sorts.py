"""catalogue sorts: OCOP stars, and a sector's or a category's products newest first

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 06:00:00

- OCOP sort: (status, ocop_stars, published_at, id). The sort's first key is the stars a
  product holds *today* (expired ones count as none), which no index can hold, so the
  catalogue reads two ranges (shop.catalog.queries.ocop_window): the valid stars from this
  index, read backwards, and the rest from (status, published_at, id) (0008). The same index
  answers the "from 3 stars" filter.
- (status, sector_id, published_at, id) and (status, category_id, published_at, id): the sector
  and category pages, the catalogue filtered by one of them, and a product's related products,
  newest first without sorting every product of a big category.
Each index goes on with the facets' columns (stars and their expiry, price, season, sector or
category): SQLite tests those filters on the index entry and reads only the rows that pass
(the catalogue with a sector, "from 3 stars" and a price band: 5.5 → 0.8 ms at 100.000).
On SQLite a database that was analysed before gets its product statistics refreshed: without
them the planner mistakes the new indexes for very selective ones (a page then takes seconds).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # After each sort key, the facets' columns: SQLite then tests a filter (stars, price,
    # season…) on the index entry and reads only the rows that pass.
    op.create_index(
        'ix_product_status_ocop_published_at_id',
        'product',
        ['status', 'ocop_stars', 'published_at', 'id',
         'ocop_expires_on', 'sector_id', 'category_id', 'price_vnd', 'season_months'],
        unique=False,
    )
    op.create_index(
        'ix_product_status_sector_published_at_id',
        'product',
        ['status', 'sector_id', 'published_at', 'id',
         'category_id', 'ocop_stars', 'ocop_expires_on', 'price_vnd', 'season_months'],
        unique=False,
    )
    op.create_index(
        'ix_product_status_category_published_at_id',
        'product',
        ['status', 'category_id', 'published_at', 'id',
         'ocop_stars', 'ocop_expires_on', 'price_vnd', 'season_months'],
        unique=False,
    )
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # A database analysed before (sqlite_stat1) has no statistics for the new indexes, and
        # SQLite then takes them for the most selective ones: refresh the product table's.
        analysed = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
        ).first()
        if analysed:
            op.execute('ANALYZE product')


def downgrade():
    op.drop_index('ix_product_status_category_published_at_id', table_name='product')
    op.drop_index('ix_product_status_sector_published_at_id', table_name='product')
    op.drop_index('ix_product_status_ocop_published_at_id', table_name='product')
