"""Reads of public programmes and booths: helpers return a select() for views to run."""

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalog.models import Product
from shop.catalog.queries import public_products, with_card_data
from shop.cooperatives.models import Cooperative
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Booth, BoothProduct, Programme


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
