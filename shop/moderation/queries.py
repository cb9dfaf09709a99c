"""Reads of moderation: every helper returns a select() for views to run or paginate."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, Select, String, func, literal_column, null, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.expression import type_coerce

from shop.audit.models import AuditEntry
from shop.catalog.models import Product, ProductRevision, ProductStatus, RevisionStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus, Sector
from shop.moderation.models import CaseStatus, ModerationCase

# --- the queue
#
# Everything that waits for staff, as one list: products sent for review, pending revisions
# of live products, open report cases, cooperatives awaiting verification. Each kind gives
# rows of the same shape (kind, id, product_id, cooperative_id, sector_id, waiting_since), so
# one UNION ALL orders them by age across kinds and one statement counts them.

#: The kinds of waiting items, in the order the queue's tabs show them.
KINDS = ("product", "revision", "report", "cooperative")


def _kind(name: str):
    # A literal in the SQL text, not a bound parameter: PostgreSQL cannot type a parameter
    # in a UNION's select list.
    return literal_column(f"'{name}'", String).label("kind")


def _since(expression):
    return type_coerce(expression, DateTime(timezone=True)).label("waiting_since")


def _last_audit(target_type: str, action: str, target_id):
    """When the target's last `action` entry was written (a correlated subquery)."""
    return (
        select(func.max(AuditEntry.created_at))
        .where(
            AuditEntry.target_type == target_type,
            AuditEntry.target_id == target_id,
            AuditEntry.action == action,
        )
        .scalar_subquery()
    )


def _waiting_products() -> Select:
    # Like catalog.queries.review_queue: since the last submission, else the last change.
    submitted_at = _last_audit(Product.__tablename__, "product.submitted", Product.id)
    return select(
        _kind("product"),
        Product.id.label("id"),
        Product.id.label("product_id"),
        Product.cooperative_id.label("cooperative_id"),
        Product.sector_id.label("sector_id"),
        _since(func.coalesce(submitted_at, Product.updated_at)),
    ).where(Product.status == ProductStatus.SUBMITTED)


def _waiting_revisions() -> Select:
    return (
        select(
            _kind("revision"),
            ProductRevision.id,
            Product.id,
            Product.cooperative_id,
            Product.sector_id,
            _since(ProductRevision.created_at),
        )
        .join(Product, Product.id == ProductRevision.product_id)
        .where(ProductRevision.status == RevisionStatus.PENDING)
    )


def _open_cases() -> Select:
    return (
        select(
            _kind("report"),
            ModerationCase.id,
            Product.id,
            Product.cooperative_id,
            Product.sector_id,
            _since(ModerationCase.created_at),
        )
        .join(Product, Product.id == ModerationCase.product_id)
        .where(ModerationCase.status == CaseStatus.OPEN)
    )


def _cooperatives_to_verify() -> Select:
    # A cooperative sent back for more information waits again from its resubmission.
    resubmitted_at = _last_audit(
        Cooperative.__tablename__, "cooperative.resubmitted", Cooperative.id
    )
    return select(
        _kind("cooperative"),
        Cooperative.id,
        sql_cast(null(), Integer),
        Cooperative.id,
        Cooperative.sector_id,
        _since(func.coalesce(resubmitted_at, Cooperative.created_at)),
    ).where(Cooperative.status == CooperativeStatus.PENDING)


def waiting_items():
    """Every waiting item as a subquery of (kind, id, product_id, cooperative_id, sector_id,
    waiting_since)."""
    return (
        _waiting_products()
        .union_all(_waiting_revisions(), _open_cases(), _cooperatives_to_verify())
        .subquery("waiting")
    )


def _filtered(stmt: Select, items, *, kind=None, sector_id=None, cooperative_id=None, before=None):
    if kind is not None:
        stmt = stmt.where(items.c.kind == kind)
    if sector_id is not None:
        stmt = stmt.where(items.c.sector_id == sector_id)
    if cooperative_id is not None:
        stmt = stmt.where(items.c.cooperative_id == cooperative_id)
    if before is not None:
        stmt = stmt.where(items.c.waiting_since < before)
    return stmt


def queue(
    *,
    kind: str | None = None,
    sector_id: int | None = None,
    cooperative_id: int | None = None,
    before: datetime | None = None,
) -> Select:
    """The waiting items that match, the longest waiting first, across kinds.

    `before`: only items waiting since before this instant (the age filter).
    """
    items = waiting_items()
    stmt = _filtered(
        select(items),
        items,
        kind=kind,
        sector_id=sector_id,
        cooperative_id=cooperative_id,
        before=before,
    )
    return stmt.order_by(items.c.waiting_since, items.c.kind, items.c.id)


def kind_counts(
    *,
    sector_id: int | None = None,
    cooperative_id: int | None = None,
    before: datetime | None = None,
) -> Select:
    """(kind, number waiting) under the other filters: the numbers on the queue's tabs."""
    items = waiting_items()
    stmt = select(items.c.kind, func.count()).group_by(items.c.kind)
    return _filtered(stmt, items, sector_id=sector_id, cooperative_id=cooperative_id, before=before)


def waiting_cooperatives() -> Select:
    """(slug, name, number waiting) of the cooperatives with something waiting, by name."""
    items = waiting_items()
    return (
        select(Cooperative.slug, Cooperative.name, func.count())
        .join(items, items.c.cooperative_id == Cooperative.id)
        .group_by(Cooperative.id, Cooperative.slug, Cooperative.name)
        .order_by(Cooperative.name, Cooperative.id)
    )


def sectors_in_order() -> Select:
    return select(Sector).order_by(Sector.sort_order, Sector.id)


def waiting_total() -> Select:
    """How many items wait for staff, all kinds together: one statement, for the console nav."""

    def count(model, condition):
        return select(func.count()).select_from(model).where(condition).scalar_subquery()

    return select(
        count(Product, Product.status == ProductStatus.SUBMITTED)
        + count(ProductRevision, ProductRevision.status == RevisionStatus.PENDING)
        + count(ModerationCase, ModerationCase.status == CaseStatus.OPEN)
        + count(Cooperative, Cooperative.status == CooperativeStatus.PENDING)
    )


def products_for_queue(ids) -> Select:
    """The queue's products, with what a row shows of them."""
    return (
        select(Product)
        .where(Product.id.in_(list(ids)))
        .options(
            joinedload(Product.cooperative),
            joinedload(Product.category),
            joinedload(Product.unit),
        )
    )


def revisions_for_queue(ids) -> Select:
    return (
        select(ProductRevision)
        .where(ProductRevision.id.in_(list(ids)))
        .options(joinedload(ProductRevision.product).joinedload(Product.cooperative))
    )


def cases_for_queue(ids) -> Select:
    return (
        select(ModerationCase)
        .where(ModerationCase.id.in_(list(ids)))
        .options(joinedload(ModerationCase.product).joinedload(Product.cooperative))
    )


def cooperatives_for_queue(ids) -> Select:
    return select(Cooperative).where(Cooperative.id.in_(list(ids)))


# --- buyer reports and cases

from sqlalchemy.orm import selectinload  # noqa: E402

from shop.accounts.models import User  # noqa: E402

#: How many decided cases the list of cases shows under the open ones.
RECENT_DECIDED = 20


def case_for_staff(case_id: int) -> Select:
    """(case, decider's email) with the product, its cooperative and every report loaded."""
    return (
        select(ModerationCase, User.email)
        .outerjoin(User, User.id == ModerationCase.decided_by_id)
        .where(ModerationCase.id == case_id)
        .options(
            joinedload(ModerationCase.product)
            .joinedload(Product.cooperative)
            .joinedload(Cooperative.locality),
            selectinload(ModerationCase.reports),
        )
    )


def report_emails(reports) -> Select:
    """(user id, email) of the signed-in reporters among `reports`."""
    ids = {report.reporter_user_id for report in reports if report.reporter_user_id}
    return select(User.id, User.email).where(User.id.in_(ids))


def past_cases(product_id: int, except_id: int) -> Select:
    """(case, decider's email) of the product's other cases, newest first."""
    return (
        select(ModerationCase, User.email)
        .outerjoin(User, User.id == ModerationCase.decided_by_id)
        .where(ModerationCase.product_id == product_id, ModerationCase.id != except_id)
        .order_by(ModerationCase.created_at.desc(), ModerationCase.id.desc())
    )


def open_cases() -> Select:
    """Open cases with their product and cooperative, the oldest first."""
    return (
        select(ModerationCase)
        .where(ModerationCase.status == CaseStatus.OPEN)
        .options(joinedload(ModerationCase.product).joinedload(Product.cooperative))
        .order_by(ModerationCase.created_at, ModerationCase.id)
    )


def recent_decided_cases(limit: int = RECENT_DECIDED) -> Select:
    """(case, decider's email) of the latest decided cases, the newest decision first."""
    return (
        select(ModerationCase, User.email)
        .outerjoin(User, User.id == ModerationCase.decided_by_id)
        .where(ModerationCase.status != CaseStatus.OPEN)
        .options(joinedload(ModerationCase.product).joinedload(Product.cooperative))
        .order_by(ModerationCase.decided_at.desc(), ModerationCase.id.desc())
        .limit(limit)
    )
