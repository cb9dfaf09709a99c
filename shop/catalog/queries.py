"""Reads of the public catalogue: every helper returns a select() for views to run or paginate."""

from datetime import date
from decimal import Decimal

from flask import abort, current_app, request
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalog.models import (
    Category,
    CertificationKind,
    Product,
    ProductCertification,
    ProductImage,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    Unit,
)
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
    """Load what a product card shows: unit, category, sector, cooperative, commune, cover."""
    return stmt.options(
        contains_eager(Product.cooperative).joinedload(Cooperative.locality),
        joinedload(Product.unit),
        joinedload(Product.category),
        joinedload(Product.sector),
        joinedload(Product.cover).joinedload(ProductImage.image),
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
            contains_eager(Product.cooperative).joinedload(Cooperative.logo_image),
            joinedload(Product.unit),
            joinedload(Product.sector),
            joinedload(Product.category).joinedload(Category.ocop_group),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            # The live photos (ProductImage rows), never a pending revision's.
            selectinload(Product.images).joinedload(ProductImage.image),
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


#: The largest id an integer primary key holds (SQLite raises on bigger ones, PostgreSQL's is int4).
MAX_ROW_ID = 2**31 - 1


def is_row_id(value) -> bool:
    """Only ids a table can hold reach the database (a URL's <int:id> has no upper bound)."""
    return isinstance(value, int) and 0 < value <= MAX_ROW_ID


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


# --------------------------------------------------------------------------- dashboard and console


def categories_in_order() -> Select:
    return select(Category).order_by(Category.sort_order, Category.id)


def units_in_order() -> Select:
    return select(Unit).order_by(Unit.name_vi, Unit.code)


def certification_kinds_in_order() -> Select:
    return select(CertificationKind).order_by(CertificationKind.name_vi, CertificationKind.code)


def cooperative_products(cooperative_id: int, *, archived: bool = False) -> Select:
    """A cooperative's own products (archived ones, or all the others), last changed first."""
    stmt = select(Product).where(Product.cooperative_id == cooperative_id)
    if archived:
        stmt = stmt.where(Product.status == ProductStatus.ARCHIVED)
    else:
        stmt = stmt.where(Product.status != ProductStatus.ARCHIVED)
    return stmt.options(joinedload(Product.unit), joinedload(Product.category)).order_by(
        Product.updated_at.desc(), Product.id.desc()
    )


def cooperative_product_counts(cooperative_id: int) -> Select:
    """(archived?, number of products) of a cooperative: the counts on the list's tabs."""
    archived = Product.status == ProductStatus.ARCHIVED
    return (
        select(archived.label("archived"), func.count(Product.id))
        .where(Product.cooperative_id == cooperative_id)
        .group_by(archived)
    )


def own_product(cooperative_id: int, product_id: int) -> Select:
    """One product of this cooperative only: another cooperative's id finds nothing."""
    return (
        select(Product)
        .where(Product.id == product_id, Product.cooperative_id == cooperative_id)
        .options(
            joinedload(Product.unit),
            joinedload(Product.category),
            joinedload(Product.sector),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            selectinload(Product.links),
        )
    )


def product_for_staff(product_id: int) -> Select:
    """Any product, with its cooperative and everything the console's product page shows."""
    return (
        select(Product)
        .where(Product.id == product_id)
        .options(
            joinedload(Product.cooperative).joinedload(Cooperative.locality),
            joinedload(Product.unit),
            joinedload(Product.category),
            joinedload(Product.sector),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            selectinload(Product.links),
        )
    )


def pending_revision(product_id: int) -> Select:
    return select(ProductRevision).where(
        ProductRevision.product_id == product_id,
        ProductRevision.status == RevisionStatus.PENDING,
    )


def latest_revisions(product_ids) -> Select:
    """The newest revision of each given product (pending or decided)."""
    ids = list(product_ids)
    newest = (
        select(func.max(ProductRevision.id))
        .where(ProductRevision.product_id.in_(ids))
        .group_by(ProductRevision.product_id)
    )
    return select(ProductRevision).where(ProductRevision.id.in_(newest))


def photo_ids(product_id: int) -> Select:
    """The stored image ids of a product's live photos, cover first."""
    return (
        select(ProductImage.image_id)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position)
    )


def photo_counts(product_ids) -> Select:
    """(product id, number of live photos) for the given products."""
    return (
        select(ProductImage.product_id, func.count(ProductImage.id))
        .where(ProductImage.product_id.in_(list(product_ids)))
        .group_by(ProductImage.product_id)
    )


def ocop_expiring(day: date, until: date) -> Select:
    """Published products whose OCOP certificate is still valid on `day` and expires by `until`,
    soonest first, with their cooperative."""
    return (
        select(Product)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Product.ocop_stars > 0,
            Product.ocop_expires_on >= day,
            Product.ocop_expires_on <= until,
        )
        .options(joinedload(Product.cooperative))
        .order_by(Product.ocop_expires_on, Product.id)
    )


def ocop_expired(day: date) -> Select:
    """Published products whose OCOP certificate expired before `day`, the latest first."""
    return (
        select(Product)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Product.ocop_stars > 0,
            Product.ocop_expires_on < day,
        )
        .options(joinedload(Product.cooperative))
        .order_by(Product.ocop_expires_on.desc(), Product.id)
    )


def ocop_reminders_sent(product_ids) -> Select:
    """(product id, audit `after`) of the OCOP reminders already sent for these products."""
    from shop.audit.models import AuditEntry

    return select(AuditEntry.target_id, AuditEntry.after).where(
        AuditEntry.target_type == Product.__tablename__,
        AuditEntry.target_id.in_(list(product_ids)),
        AuditEntry.action == "product.ocop_reminder_sent",
    )


def review_queue() -> Select:
    """(product, waiting since) of products sent for review, the longest waiting first.

    A product waits since its last "product.submitted" audit entry (an edit while it waits
    does not send it to the back); one imported as submitted has none and waits since its
    last change.
    """
    from shop.audit.models import AuditEntry

    submitted_at = (
        select(func.max(AuditEntry.created_at))
        .where(
            AuditEntry.target_type == Product.__tablename__,
            AuditEntry.target_id == Product.id,
            AuditEntry.action == "product.submitted",
        )
        .correlate(Product)
        .scalar_subquery()
    )
    waiting_since = func.coalesce(submitted_at, Product.updated_at)
    return (
        select(Product, waiting_since.label("waiting_since"))
        .where(Product.status == ProductStatus.SUBMITTED)
        .options(
            joinedload(Product.cooperative), joinedload(Product.category), joinedload(Product.unit)
        )
        .order_by(waiting_since, Product.id)
    )


def revision_queue() -> Select:
    """Pending revisions of products, the longest waiting first, with their product."""
    return (
        select(ProductRevision)
        .join(ProductRevision.product)
        .where(ProductRevision.status == RevisionStatus.PENDING)
        .options(
            contains_eager(ProductRevision.product).joinedload(Product.cooperative),
        )
        .order_by(ProductRevision.created_at, ProductRevision.id)
    )


def review_counts() -> dict[str, int]:
    """How many products and revisions wait for staff: {'products': n, 'revisions': n}."""
    products = db.session.scalar(
        select(func.count(Product.id)).where(Product.status == ProductStatus.SUBMITTED)
    )
    revisions = db.session.scalar(
        select(func.count(ProductRevision.id)).where(
            ProductRevision.status == RevisionStatus.PENDING
        )
    )
    return {"products": products or 0, "revisions": revisions or 0}


def product_history(product_id: int) -> Select:
    """(entry, actor email) of everything recorded about a product, newest first."""
    from shop.accounts.models import User
    from shop.audit.models import AuditEntry

    return (
        select(AuditEntry, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.target_type == Product.__tablename__)
        .where(AuditEntry.target_id == product_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )


def display_names() -> dict:
    """The vocabularies a product's values refer to, by key: what labels them on a page."""
    return {
        "category": {c.id: c for c in db.session.scalars(categories_in_order())},
        "unit": {u.code: u for u in db.session.scalars(units_in_order())},
        "certification": {k.code: k for k in db.session.scalars(certification_kinds_in_order())},
    }


def same_value(old, new) -> bool:
    """Whether two editable values mean the same ('' and None and [] alike; 1 and 1.000 alike)."""
    if old in (None, "", []) and new in (None, "", []):
        return True
    numbers = (Decimal, int)
    if isinstance(old, numbers) and isinstance(new, numbers) and bool not in (type(old), type(new)):
        return Decimal(old) == Decimal(new)
    return old == new


def revision_changes(product: Product, revision: ProductRevision) -> dict:
    """What a pending revision would change on the live product.

    Returns {'fields': [(field, live value, proposed value), …] in form order, 'photos': None
    when the photos stay as they are, else {'added': ids, 'removed': ids, 'reordered': bool,
    'cover_changed': bool, 'described': ids whose alt text changes, 'count': n}}.
    """
    from shop.catalog.services import EDITABLE_FIELDS, current_values, from_json

    live = current_values(product)
    proposed = from_json(revision.data or {})
    fields = [
        (key, live.get(key), proposed[key])
        for key in EDITABLE_FIELDS
        if key in proposed and not same_value(live.get(key), proposed[key])
    ]
    photos = None
    if revision.images is not None:
        rows = db.session.execute(
            select(ProductImage.image_id, ProductImage.alt_vi, ProductImage.alt_en)
            .where(ProductImage.product_id == product.id)
            .order_by(ProductImage.position)
        ).all()
        old = [row.image_id for row in rows]
        new = [item["image_id"] for item in revision.images]
        old_alt = {row.image_id: (row.alt_vi or "", row.alt_en or "") for row in rows}
        described = [
            item["image_id"]
            for item in revision.images
            if item["image_id"] in old_alt
            and old_alt[item["image_id"]] != (item.get("alt_vi") or "", item.get("alt_en") or "")
        ]
        kept_old = [i for i in old if i in new]
        kept_new = [i for i in new if i in old]
        if old != new or described:
            photos = {
                "added": [i for i in new if i not in old],
                "removed": [i for i in old if i not in new],
                "reordered": kept_old != kept_new,
                "cover_changed": old[:1] != new[:1],
                "described": described,
                "count": len(new),
            }
    return {"fields": fields, "photos": photos}
