"""Reads of the public cooperative directory: helpers return a select() for views to run."""

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    LegalForm,
    Locality,
    Membership,
    Sector,
)
from shop.extensions import db


def is_public_cooperative():
    """SQL condition: the cooperative is verified by the alliance, so anyone may see it."""
    return Cooperative.status == CooperativeStatus.VERIFIED


def public_cooperatives() -> Select:
    """Cooperatives anyone may see."""
    return select(Cooperative).where(is_public_cooperative())


def directory(
    *,
    sector: Sector | None = None,
    locality: Locality | None = None,
    legal_form: LegalForm | None = None,
) -> Select:
    """Public cooperatives narrowed by the directory's filters, with sector and commune."""
    stmt = public_cooperatives().options(
        joinedload(Cooperative.sector), joinedload(Cooperative.locality)
    )
    if sector is not None:
        stmt = stmt.where(Cooperative.sector_id == sector.id)
    if locality is not None:
        stmt = stmt.where(Cooperative.locality_id == locality.id)
    if legal_form is not None:
        stmt = stmt.where(Cooperative.legal_form == legal_form)
    return stmt.order_by(Cooperative.name, Cooperative.id)


def cooperative_page(slug: str) -> Select:
    """One public cooperative with its sector and commune."""
    return (
        public_cooperatives()
        .where(Cooperative.slug == slug)
        .options(joinedload(Cooperative.sector), joinedload(Cooperative.locality))
    )


def localities_with_cooperatives() -> Select:
    """Communes and wards where at least one public cooperative is based."""
    having = public_cooperatives().with_only_columns(Cooperative.locality_id).distinct()
    return select(Locality).where(Locality.id.in_(having)).order_by(Locality.short_name)


def membership_of(user) -> Membership | None:
    """The user's membership with its cooperative loaded, or None."""
    return db.session.scalar(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.cooperative))
    )
