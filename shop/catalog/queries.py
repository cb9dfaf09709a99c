"""Reads of the public catalogue: every helper returns a select() for views to run or paginate."""

from datetime import date

from flask import abort, current_app, request
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalog.models import Category, Product, ProductCertification, ProductStatus
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.text.folding import SLUG_RE

#: Catalogue sort orders, by the value of the `sort` query argument.
SORTS = ("newest", "price_asc", "price_desc", "ocop")


def public_products() -> Select:
    """Products anyone may see: published, and sold by a verified cooperative.

    The one place this rule lives; every public page starts from it.
    """
    return (
        select(Product)
        .join(Product.cooperative)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            is_public_cooperative(),
        )
    )


def with_card_data(stmt: Select) -> Select:
    """Load what a product card shows (unit, category, sector, cooperative and its commune)."""
    return stmt.options(
        contains_eager(Product.cooperative).joinedload(Cooperative.locality),
        joinedload(Product.unit),
        joinedload(Product.category),
        joinedload(Product.sector),
    )


def ocop_valid(day: date):
    """SQL condition: the product holds OCOP stars whose certificate has not expired on `day`."""
    return (Product.ocop_stars > 0) & (
        Product.ocop_expires_on.is_(None) | (Product.ocop_expires_on >= day)
    )


def newest_first(stmt: Select) -> Select:
    return stmt.order_by(Product.published_at.desc().nulls_last(), Product.id.desc())


def sorted_products(stmt: Select, sort: str, day: date) -> Select:
    """Order products; those without a price ("Liên hệ") go last in price sorts."""
    if sort == "price_asc":
        return stmt.order_by(Product.price_vnd.is_(None), Product.price_vnd.asc(), Product.id)
    if sort == "price_desc":
        return stmt.order_by(Product.price_vnd.is_(None), Product.price_vnd.desc(), Product.id)
    if sort == "ocop":
        stars = case((ocop_valid(day), Product.ocop_stars), else_=0)
        return newest_first(stmt.order_by(stars.desc()))
    return newest_first(stmt)


def featured_products(day: date, limit: int = 8) -> Select:
    """The newest public products with a valid OCOP rating."""
    return with_card_data(newest_first(public_products().where(ocop_valid(day)))).limit(limit)


def catalogue(
    day: date,
    *,
    sector: Sector | None = None,
    category: Category | None = None,
    locality: Locality | None = None,
    ocop_min: int | None = None,
    cooperative: Cooperative | None = None,
    sort: str = "newest",
) -> Select:
    """Public products narrowed by the catalogue's filters, sorted, with card data loaded."""
    stmt = public_products()
    if sector is not None:
        stmt = stmt.where(Product.sector_id == sector.id)
    if category is not None:
        stmt = stmt.where(Product.category_id == category.id)
    if locality is not None:
        stmt = stmt.where(Cooperative.locality_id == locality.id)
    if cooperative is not None:
        stmt = stmt.where(Product.cooperative_id == cooperative.id)
    if ocop_min:
        stmt = stmt.where(ocop_valid(day), Product.ocop_stars >= ocop_min)
    return with_card_data(sorted_products(stmt, sort, day))


def product_page(slug: str) -> Select:
    """One public product with everything its page shows."""
    return (
        public_products()
        .where(Product.slug == slug)
        .options(
            contains_eager(Product.cooperative).joinedload(Cooperative.locality),
            joinedload(Product.unit),
            joinedload(Product.sector),
            joinedload(Product.category).joinedload(Category.ocop_group),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
        )
    )


def related_products(product: Product, limit: int = 4) -> Select:
    """Other public products of the same category, newest first."""
    stmt = public_products().where(
        Product.category_id == product.category_id, Product.id != product.id
    )
    return with_card_data(newest_first(stmt)).limit(limit)


def sectors_with_counts() -> Select:
    """Every sector with its number of public products, in one grouped query."""
    counts = (
        public_products()
        .with_only_columns(Product.sector_id, func.count(Product.id).label("n"))
        .group_by(Product.sector_id)
        .subquery()
    )
    return (
        select(Sector, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.sector_id == Sector.id)
        .order_by(Sector.sort_order, Sector.id)
    )


def categories_with_counts(sector: Sector | None = None) -> Select:
    """Categories with their number of public products (within a sector when given)."""
    counts = public_products().with_only_columns(
        Product.category_id, func.count(Product.id).label("n")
    )
    if sector is not None:
        counts = counts.where(Product.sector_id == sector.id)
    counts = counts.group_by(Product.category_id).subquery()
    stmt = (
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.sort_order, Category.id)
    )
    if sector is not None:
        stmt = stmt.where(counts.c.n > 0)
    return stmt


def product_counts_by_cooperative(cooperative_ids) -> Select:
    """(cooperative id, number of public products) for the given cooperatives."""
    return (
        public_products()
        .with_only_columns(Product.cooperative_id, func.count(Product.id))
        .where(Product.cooperative_id.in_(list(cooperative_ids)))
        .group_by(Product.cooperative_id)
    )


def localities_with_products() -> Select:
    """Communes and wards where at least one public product is made."""
    having = public_products().with_only_columns(Cooperative.locality_id).distinct()
    return (
        select(Locality).where(Locality.id.in_(having)).order_by(Locality.short_name, Locality.id)
    )


# --------------------------------------------------------------------------- request arguments


def is_slug(value: str | None) -> bool:
    """Only well-formed slugs reach the database (PostgreSQL rejects NUL bytes with a 500)."""
    return bool(value) and len(value) <= 160 and SLUG_RE.match(value) is not None


def by_slug(model, slug: str | None):
    """The row of `model` with this slug, or None for an empty, malformed or unknown slug."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(model).where(model.slug == slug))


def first_or_404(stmt: Select, slug: str):
    """Run a page's query for `slug`; a malformed slug or no row is a 404."""
    if not is_slug(slug):
        abort(404)
    row = db.session.scalar(stmt)
    if row is None:
        abort(404)
    return row


# --------------------------------------------------------------------------- pagination


def page_number() -> int:
    """The `page` query argument; anything but a positive whole number is a 404."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    # isdecimal() alone would let "٣" or "²" through to int() or make it raise.
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 6 or int(raw) < 1:
        abort(404)
    return int(raw)


def paginate(stmt: Select, per_page: int | None = None):
    """Run one page of `stmt`; a page past the last one is a 404 (page 1 may be empty)."""
    page = page_number()
    per_page = per_page or current_app.config["PRODUCTS_PER_PAGE"]
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    if page > 1 and page > (pagination.pages or 1):
        abort(404)
    return pagination
