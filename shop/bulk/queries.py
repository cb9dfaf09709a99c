"""Reads of the product exports and feeds: plain rows, in keyset batches by id.

A long export never becomes thousands of ORM objects, and never one huge result: each batch is
one statement for the products (their names and the names they refer to, joined) and one for
the photos of that batch. So the number of statements grows with the batches, not the rows.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from shop.catalog.models import Category, Product, ProductImage, ProductStatus, Unit
from shop.catalog.queries import public_products
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.extensions import db
from shop.media.models import StoredImage

#: Products read per statement while an export or a feed is written.
BATCH = 500


@dataclass(frozen=True)
class ExportFilters:
    """Which products an export holds: one cooperative's, or the catalogue narrowed by staff."""

    cooperative_id: int | None = None
    status: ProductStatus | None = None
    sector_id: int | None = None
    #: A cooperative's export leaves its archived products out (they are in the archive tab
    #: and re-importing the file must not bring them back); the staff's export keeps them.
    with_archived: bool = True


def export_rows(filters: ExportFilters) -> Select:
    """Products with everything an export shows, as plain columns (no ORM objects)."""
    stmt = (
        select(
            Product.id,
            Product.slug,
            Product.name_vi,
            Product.name_en,
            Product.description_vi,
            Product.pack_size_vi,
            Product.price_vnd,
            Product.min_order_qty,
            Product.season_months,
            Product.made_to_order,
            Product.status,
            Product.ocop_stars,
            Product.ocop_expires_on,
            Product.created_at,
            Product.updated_at,
            Product.published_at,
            Category.name_vi.label("category"),
            Unit.name_vi.label("unit"),
            Sector.name_vi.label("sector"),
            Cooperative.name.label("cooperative"),
            Cooperative.tax_code,
            Locality.name_vi.label("commune"),
        )
        .join(Category, Category.id == Product.category_id)
        .join(Unit, Unit.code == Product.unit_code)
        .join(Sector, Sector.id == Product.sector_id)
        .join(Cooperative, Cooperative.id == Product.cooperative_id)
        .join(Locality, Locality.id == Cooperative.locality_id)
    )
    if filters.cooperative_id is not None:
        stmt = stmt.where(Product.cooperative_id == filters.cooperative_id)
    if filters.status is not None:
        stmt = stmt.where(Product.status == filters.status)
    elif not filters.with_archived:
        stmt = stmt.where(Product.status != ProductStatus.ARCHIVED)
    if filters.sector_id is not None:
        stmt = stmt.where(Product.sector_id == filters.sector_id)
    return stmt


def feed_products() -> Select:
    """What a marketplace feed may list: the public catalogue's products that have a price.

    The visibility rule is the catalogue's own (shop.catalog.queries.public_products: published,
    sold by a verified cooperative). Products quoted on request ("Liên hệ") are left out: Google
    Merchant and the marketplaces that follow its format refuse an item without a price.
    """
    return public_products().where(Product.price_vnd.is_not(None))


def feed_rows() -> Select:
    """feed_products() with what one feed item says, as plain columns."""
    return (
        feed_products()
        .join(Sector, Sector.id == Product.sector_id)
        .join(Category, Category.id == Product.category_id)
        .with_only_columns(
            Product.id,
            Product.slug,
            Product.name_vi,
            Product.name_en,
            Product.description_vi,
            Product.description_en,
            Product.price_vnd,
            Product.made_to_order,
            Cooperative.name.label("cooperative"),
            Cooperative.name_en.label("cooperative_en"),
            Sector.name_vi.label("sector_vi"),
            Sector.name_en.label("sector_en"),
            Category.name_vi.label("category_vi"),
            Category.name_en.label("category_en"),
        )
    )


def feed_version() -> tuple:
    """(number of items, newest product change, newest cooperative change) of the feed.

    One statement; what the feed's ETag and Last-Modified are made of. A product that leaves
    the feed (archived, its cooperative suspended) changes the count or a date.
    """
    stmt = feed_products().with_only_columns(
        func.count(Product.id), func.max(Product.updated_at), func.max(Cooperative.updated_at)
    )
    return tuple(db.session.execute(stmt).one())


@dataclass(frozen=True)
class Photo:
    sha256: str
    mime_type: str


def photos_of(product_ids: list[int]) -> dict[int, list[Photo]]:
    """The live photos of these products, cover first, by product id (one statement)."""
    found: dict[int, list[Photo]] = {product_id: [] for product_id in product_ids}
    if not product_ids:
        return found
    stmt = (
        select(ProductImage.product_id, StoredImage.sha256, StoredImage.mime_type)
        .join(StoredImage, StoredImage.id == ProductImage.image_id)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position)
    )
    for product_id, sha256, mime_type in db.session.execute(stmt):
        found[product_id].append(Photo(sha256, mime_type))
    return found


def in_batches(stmt: Select, size: int | None = None) -> Iterator[tuple[list, dict]]:
    """Run `stmt` (which selects Product.id) in keyset batches by id: (rows, photos by id).

    Two statements per batch whatever its size; a batch shorter than `size` is the last one.
    """
    size = size or BATCH
    last_id = 0
    while True:
        rows = db.session.execute(
            stmt.where(Product.id > last_id).order_by(Product.id).limit(size)
        ).all()
        if not rows:
            return
        yield rows, photos_of([row.id for row in rows])
        if len(rows) < size:
            return
        last_id = rows[-1].id


def sector_by_slug(slug: str) -> Sector | None:
    return db.session.scalar(select(Sector).where(Sector.slug == slug))


def sectors_in_order() -> Select:
    return select(Sector).order_by(Sector.sort_order, Sector.id)
