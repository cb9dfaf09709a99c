"""Reads of the public cooperative directory: helpers return a select() for views to run."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    LegalForm,
    Locality,
    Membership,
    MembershipRole,
    Sector,
)
from shop.cooperatives.rules import normalize_tax_code
from shop.extensions import db
from shop.text.folding import fold


def is_public_cooperative():
    """SQL condition: the cooperative is verified by the alliance, so anyone may see it."""
    return Cooperative.status == CooperativeStatus.VERIFIED


def public_cooperatives() -> Select:
    """Cooperatives anyone may see."""
    return select(Cooperative).where(is_public_cooperative())


def directory_conditions(
    *,
    sector: Sector | None = None,
    locality: Locality | None = None,
    legal_form: LegalForm | None = None,
    skip: str | None = None,
) -> list:
    """SQL conditions of the directory's filters, but for facet `skip`."""
    wanted = []
    if sector is not None and skip != "sector":
        wanted.append(Cooperative.sector_id == sector.id)
    if locality is not None and skip != "locality":
        wanted.append(Cooperative.locality_id == locality.id)
    if legal_form is not None and skip != "legal_form":
        wanted.append(Cooperative.legal_form == legal_form)
    return wanted


def directory(
    *,
    sector: Sector | None = None,
    locality: Locality | None = None,
    legal_form: LegalForm | None = None,
) -> Select:
    """Public cooperatives narrowed by the directory's filters, with sector, commune and logo."""
    stmt = public_cooperatives().options(
        joinedload(Cooperative.sector),
        joinedload(Cooperative.locality),
        joinedload(Cooperative.logo_image),
    )
    stmt = stmt.where(
        *directory_conditions(sector=sector, locality=locality, legal_form=legal_form)
    )
    return stmt.order_by(Cooperative.name, Cooperative.id)


def directory_facets(
    *,
    sector: Sector | None = None,
    locality: Locality | None = None,
    legal_form: LegalForm | None = None,
) -> dict:
    """Each filter's values with the number of public cooperatives matching the other filters.

    {'sectors': [(Sector, n)], 'localities': [(Locality, n)], 'legal_forms': {form: n},
    'total': n}: three grouped queries; the total is read off the legal-form counts.
    """
    chosen = {"sector": sector, "locality": locality, "legal_form": legal_form}

    def grouped(skip, key):
        return (
            select(key.label("key"), func.count(Cooperative.id).label("n"))
            .where(is_public_cooperative(), *directory_conditions(**chosen, skip=skip))
            .group_by(key)
            .subquery()
        )

    counts = grouped("sector", Cooperative.sector_id)
    sectors = db.session.execute(
        select(Sector, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.key == Sector.id)
        .order_by(Sector.sort_order, Sector.id)
    ).all()
    counts = grouped("locality", Cooperative.locality_id)
    localities = db.session.execute(
        select(Locality, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.key == Locality.id)
        .order_by(Locality.short_name, Locality.id)
    ).all()
    forms = dict.fromkeys(LegalForm, 0)
    for value, n in db.session.execute(select(grouped("legal_form", Cooperative.legal_form))):
        forms[LegalForm(value)] = n
    total = forms[legal_form] if legal_form is not None else sum(forms.values())
    return {"sectors": sectors, "localities": localities, "legal_forms": forms, "total": total}


def cooperative_page(slug: str) -> Select:
    """One public cooperative with its sector, commune, logo and cover photo."""
    return (
        public_cooperatives()
        .where(Cooperative.slug == slug)
        .options(
            joinedload(Cooperative.sector),
            joinedload(Cooperative.locality),
            joinedload(Cooperative.logo_image),
            joinedload(Cooperative.cover_image),
        )
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


# -------------------------------------------------------------------- the dashboard and the console


def cooperative_with_places(cooperative_id: int) -> Select:
    """One cooperative with its sector and commune (any status: for its members and staff)."""
    return (
        select(Cooperative)
        .where(Cooperative.id == cooperative_id)
        .options(joinedload(Cooperative.sector), joinedload(Cooperative.locality))
    )


def sectors_in_order() -> Select:
    return select(Sector).order_by(Sector.sort_order, Sector.id)


def localities_in_order() -> Select:
    return select(Locality).order_by(Locality.short_name, Locality.id)


def tax_code_taken(code: str, exclude_id: int | None = None) -> bool:
    """Whether another cooperative already holds this tax code."""
    stmt = select(Cooperative.id).where(Cooperative.tax_code == code)
    if exclude_id is not None:
        stmt = stmt.where(Cooperative.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def team_of(cooperative_id: int) -> Select:
    """(membership, user) rows of a cooperative: owners first, then by when they joined."""
    from shop.accounts.models import User

    return (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.cooperative_id == cooperative_id)
        .order_by(Membership.role.desc(), Membership.created_at, Membership.id)
    )


def membership_in(cooperative_id: int, membership_id: int) -> Select:
    """A membership of this cooperative only: ids of other cooperatives find nothing."""
    return select(Membership).where(
        Membership.id == membership_id, Membership.cooperative_id == cooperative_id
    )


def open_invitations(cooperative_id: int) -> Select:
    """Invitations of a cooperative neither accepted nor revoked (expired ones included)."""
    return (
        select(Invitation)
        .where(
            Invitation.cooperative_id == cooperative_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


def open_invitation_in(cooperative_id: int, invitation_id: int) -> Select:
    return open_invitations(cooperative_id).where(Invitation.id == invitation_id)


def invitation_by_token_hash(token_hash: str) -> Select:
    return (
        select(Invitation)
        .where(Invitation.token_hash == token_hash)
        .options(joinedload(Invitation.cooperative))
    )


def owner_emails(cooperative_ids) -> dict[int, list[str]]:
    """{cooperative id: [owner email, …]} for the given cooperatives, in one query."""
    from shop.accounts.models import User

    ids = list(cooperative_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = db.session.execute(
        select(Membership.cooperative_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.cooperative_id.in_(ids), Membership.role == MembershipRole.OWNER)
        .order_by(Membership.id)
    )
    for cooperative_id, email in rows:
        found[cooperative_id].append(email)
    return found


def notifications_of(cooperative_id: int, limit: int = 20) -> Select:
    from shop.notify.models import Notification

    return (
        select(Notification)
        .where(Notification.cooperative_id == cooperative_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )


def status_counts() -> dict[CooperativeStatus, int]:
    """How many cooperatives are in each status."""
    rows = db.session.execute(
        select(Cooperative.status, func.count(Cooperative.id)).group_by(Cooperative.status)
    )
    counts = dict.fromkeys(CooperativeStatus, 0)
    counts.update({CooperativeStatus(status): n for status, n in rows})
    return counts


def staff_directory(status: CooperativeStatus | None = None, q: str | None = None) -> Select:
    """Every cooperative for the console, narrowed by status and a diacritic-blind search.

    The search folds names in Python (a few hundred rows); the search index is for products.
    """
    stmt = select(Cooperative).options(
        joinedload(Cooperative.sector), joinedload(Cooperative.locality)
    )
    if status is not None:
        stmt = stmt.where(Cooperative.status == status)
    if q:
        needle = fold(q)
        digits = normalize_tax_code(q)
        rows = db.session.execute(
            select(Cooperative.id, Cooperative.name, Cooperative.slug, Cooperative.tax_code)
        )
        ids = [
            row.id
            for row in rows
            if needle in fold(row.name)
            or needle in row.slug
            or (row.tax_code and digits and digits in row.tax_code)
        ]
        stmt = stmt.where(Cooperative.id.in_(ids))
    return stmt.order_by(Cooperative.name, Cooperative.id)


def verification_queue() -> Select:
    """Cooperatives waiting for the alliance to verify them, oldest first."""
    return (
        select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.PENDING)
        .options(joinedload(Cooperative.sector), joinedload(Cooperative.locality))
        .order_by(Cooperative.created_at, Cooperative.id)
    )


def audit_history(cooperative_id: int) -> Select:
    """(entry, actor email) of everything recorded about a cooperative, newest first."""
    from shop.accounts.models import User
    from shop.audit.models import AuditEntry

    return (
        select(AuditEntry, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.target_type == Cooperative.__tablename__)
        .where(AuditEntry.target_id == cooperative_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )


#: Audit actions that are a staff decision on a cooperative's verification.
DECISION_ACTIONS = (
    "cooperative.verified",
    "cooperative.needs_info",
    "cooperative.suspended",
    "cooperative.reinstated",
)


def last_decision(cooperative_id: int):
    """(entry, actor email) of the latest staff decision on its status, or None."""
    from shop.audit.models import AuditEntry

    stmt = audit_history(cooperative_id).where(AuditEntry.action.in_(DECISION_ACTIONS)).limit(1)
    return db.session.execute(stmt).first()
