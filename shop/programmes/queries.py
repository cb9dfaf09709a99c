"""Reads of public programmes and booths: helpers return a select() for views to run."""

from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalog.models import Product, ProductStatus
from shop.catalog.queries import public_products, with_card_data
from shop.cooperatives.models import Cooperative
from shop.cooperatives.queries import is_public_cooperative
from shop.programmes.models import (
    PUBLIC_PROGRAMME_STATUSES,
    Booth,
    BoothProduct,
    Programme,
    ProgrammeStatus,
)


def public_programmes() -> Select:
    """Programmes anyone may see (not drafts), latest first."""
    return (
        select(Programme)
        .where(Programme.status.in_(PUBLIC_PROGRAMME_STATUSES))
        .order_by(Programme.start_date.desc(), Programme.id.desc())
    )


def next_programme(day: date) -> Select:
    """The next public programme that starts after `day`."""
    return (
        public_programmes()
        .where(Programme.start_date > day)
        .order_by(None)
        .order_by(Programme.start_date, Programme.id)
        .limit(1)
    )


def programme_page(slug: str) -> Select:
    """One public programme with its booths, their cooperatives and sectors."""
    return (
        public_programmes()
        .where(Programme.slug == slug)
        .options(
            selectinload(Programme.booths)
            .joinedload(Booth.cooperative)
            .joinedload(Cooperative.sector)
        )
    )


def booth_page(slug: str, number: int) -> Select:
    """One booth of a public programme, with its cooperative and the cooperative's commune."""
    return (
        select(Booth)
        .join(Booth.programme)
        .where(
            Programme.slug == slug,
            Programme.status.in_(PUBLIC_PROGRAMME_STATUSES),
            Booth.number == number,
        )
        .options(
            contains_eager(Booth.programme),
            joinedload(Booth.cooperative).joinedload(Cooperative.locality),
            joinedload(Booth.cooperative).joinedload(Cooperative.sector),
            selectinload(Booth.slots),
        )
    )


def booth_products(booth: Booth) -> Select:
    """The booth's featured products that are still public, in the booth's order."""
    stmt = (
        public_products()
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id == booth.id)
        .order_by(BoothProduct.position, BoothProduct.id)
    )
    return with_card_data(stmt)


def booths_of_cooperative(cooperative: Cooperative) -> Select:
    """The cooperative's booths in public programmes, latest programme first."""
    return (
        select(Booth)
        .join(Booth.programme)
        .where(
            Booth.cooperative_id == cooperative.id,
            Programme.status.in_(PUBLIC_PROGRAMME_STATUSES),
        )
        .options(contains_eager(Booth.programme))
        .order_by(Programme.start_date.desc(), Programme.id.desc())
    )


# --------------------------------------------------------------------------- the console


def staff_programmes() -> Select:
    """Every programme for the console with its booth counts: rows (programme, booths, placed)."""
    counts = (
        select(
            Booth.programme_id,
            func.count(Booth.id).label("booths"),
            func.count(Booth.cooperative_id).label("placed"),
        )
        .group_by(Booth.programme_id)
        .subquery()
    )
    return (
        select(
            Programme,
            func.coalesce(counts.c.booths, 0).label("booths"),
            func.coalesce(counts.c.placed, 0).label("placed"),
        )
        .outerjoin(counts, counts.c.programme_id == Programme.id)
        .order_by(Programme.start_date.desc(), Programme.id.desc())
    )


def staff_programme(id: int) -> Select:
    """One programme, whatever its status, with its booths, their cooperatives and sectors."""
    return (
        select(Programme)
        .where(Programme.id == id)
        .options(
            selectinload(Programme.booths)
            .joinedload(Booth.cooperative)
            .joinedload(Cooperative.sector),
            selectinload(Programme.booths).selectinload(Booth.featured),
        )
    )


def staff_booth(programme_id: int, number: int) -> Select:
    """One booth for the console: its programme, cooperative, featured products and slots."""
    return (
        select(Booth)
        .join(Booth.programme)
        .where(Booth.programme_id == programme_id, Booth.number == number)
        .options(
            contains_eager(Booth.programme),
            joinedload(Booth.cooperative),
            selectinload(Booth.featured).joinedload(BoothProduct.product),
            selectinload(Booth.slots),
        )
    )


def not_public_condition():
    """SQL condition: a featured product buyers no longer see (not on sale, or its
    cooperative not verified)."""
    return (Product.status != ProductStatus.PUBLISHED) | ~is_public_cooperative()


def hidden_featured(programme_id: int) -> Select:
    """Featured products of the programme's booths that buyers no longer see:
    rows (booth number, product), by booth then position."""
    return (
        select(Booth.number, Product)
        .join(BoothProduct, BoothProduct.booth_id == Booth.id)
        .join(Product, Product.id == BoothProduct.product_id)
        .join(Cooperative, Cooperative.id == Product.cooperative_id)
        .where(Booth.programme_id == programme_id, not_public_condition())
        .options(contains_eager(Product.cooperative))
        .order_by(Booth.number, BoothProduct.position, BoothProduct.id)
    )


#: Programmes whose booths staff still look after (featured products that went away).
CURATED_STATUSES = (
    ProgrammeStatus.DRAFT,
    ProgrammeStatus.OPEN,
    ProgrammeStatus.PUBLISHED,
)


def booths_with_hidden_products() -> Select:
    """(programme id, title, number of booths) for curated programmes with booths showing a
    featured product buyers no longer see."""
    return (
        select(
            Programme.id,
            Programme.title_vi,
            Programme.title_en,
            func.count(func.distinct(Booth.id)).label("booths"),
        )
        .join(Booth, Booth.programme_id == Programme.id)
        .join(BoothProduct, BoothProduct.booth_id == Booth.id)
        .join(Product, Product.id == BoothProduct.product_id)
        .join(Cooperative, Cooperative.id == Product.cooperative_id)
        .where(Programme.status.in_(CURATED_STATUSES), not_public_condition())
        .group_by(Programme.id, Programme.title_vi, Programme.title_en, Programme.start_date)
        .order_by(Programme.start_date, Programme.id)
    )


def exhibitor_choices(programme_id: int, ids: list[int] | None = None) -> Select:
    """Verified cooperatives without a booth in the programme (narrowed to `ids`), by name."""
    placed = select(Booth.cooperative_id).where(
        Booth.programme_id == programme_id, Booth.cooperative_id.is_not(None)
    )
    stmt = select(Cooperative.id, Cooperative.name).where(
        is_public_cooperative(), Cooperative.id.not_in(placed)
    )
    if ids is not None:
        stmt = stmt.where(Cooperative.id.in_(ids))
    return stmt.order_by(Cooperative.name, Cooperative.id)


def products_to_feature(cooperative_id: int) -> Select:
    """The cooperative's published products, the ones a booth may feature, by name."""
    return (
        select(Product)
        .where(Product.cooperative_id == cooperative_id, Product.status == ProductStatus.PUBLISHED)
        .options(joinedload(Product.unit))
        .order_by(Product.name_vi, Product.id)
    )
