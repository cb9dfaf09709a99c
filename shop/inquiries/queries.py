"""Reads of the cooperative's inquiry inbox and the staff's support view.

Members' reads are scoped to their cooperative at the source: every statement that can return
an inquiry to a member takes the cooperative's id, so another cooperative's id finds nothing.
Each page loads what it shows in a fixed number of statements (items by selectinload, the
thread with its authors' names in one statement), whatever the number of inquiries or messages.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.inquiries.models import Inquiry, InquiryMessage, InquiryStatus
from shop.notify.messages import VIETNAM
from shop.programmes.models import Booth

#: The inbox's tabs: everything but spam (the default), then one per status.
ALL = "all"
TABS = (ALL, *(status.value for status in InquiryStatus))


def _newest_first(stmt: Select) -> Select:
    return stmt.order_by(Inquiry.created_at.desc(), Inquiry.id.desc())


def inbox(cooperative_id: int, tab: str = ALL) -> Select:
    """The cooperative's inquiries of one tab, newest first, with their items."""
    stmt = select(Inquiry).where(Inquiry.cooperative_id == cooperative_id)
    if tab == ALL:
        stmt = stmt.where(Inquiry.status != InquiryStatus.SPAM)
    else:
        stmt = stmt.where(Inquiry.status == InquiryStatus(tab))
    return _newest_first(stmt.options(selectinload(Inquiry.items)))


def status_counts(cooperative_id: int) -> dict[str, int]:
    """{tab: inquiries} of the cooperative, in one grouped statement ("all" leaves out spam)."""
    rows = db.session.execute(
        select(Inquiry.status, func.count(Inquiry.id))
        .where(Inquiry.cooperative_id == cooperative_id)
        .group_by(Inquiry.status)
    ).all()
    counts = dict.fromkeys(TABS, 0)
    for status, count in rows:
        counts[InquiryStatus(status).value] = count
    counts[ALL] = sum(n for tab, n in counts.items() if tab not in (ALL, InquiryStatus.SPAM.value))
    return counts


def new_count(cooperative_id: int) -> Select:
    """How many of the cooperative's inquiries nobody has answered yet."""
    return select(func.count(Inquiry.id)).where(
        Inquiry.cooperative_id == cooperative_id, Inquiry.status == InquiryStatus.NEW
    )


def _one() -> Select:
    return select(Inquiry).options(joinedload(Inquiry.cooperative), selectinload(Inquiry.items))


def of_cooperative(cooperative_id: int, inquiry_id: int) -> Select:
    """One inquiry, only if it was sent to this cooperative."""
    return _one().where(Inquiry.id == inquiry_id, Inquiry.cooperative_id == cooperative_id)


def for_staff(inquiry_id: int) -> Select:
    """One inquiry, whichever cooperative it went to (staff support)."""
    return _one().where(Inquiry.id == inquiry_id)


def thread(inquiry_id: int) -> Select:
    """(message, author's name or None) of one inquiry, oldest first, internal notes included."""
    return (
        select(InquiryMessage, User.name)
        .outerjoin(User, User.id == InquiryMessage.author_user_id)
        .where(InquiryMessage.inquiry_id == inquiry_id)
        .order_by(InquiryMessage.created_at, InquiryMessage.id)
    )


def booth_of(inquiry: Inquiry) -> Booth | None:
    """The booth the buyer came from, with its programme, or None."""
    if inquiry.booth_id is None:
        return None
    return db.session.scalar(
        select(Booth).where(Booth.id == inquiry.booth_id).options(joinedload(Booth.programme))
    )


def last_status_change(inquiry_id: int):
    """(audit entry, actor's name) of the inquiry's latest status change, or None."""
    return db.session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.target_type == Inquiry.__tablename__,
            AuditEntry.target_id == inquiry_id,
            AuditEntry.action == "inquiry.status_changed",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()


# --------------------------------------------------------------------------- staff support


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC instants where a month of Vietnam's calendar starts and the next one starts."""
    start = datetime(month.year, month.month, 1, tzinfo=VIETNAM)
    following = (start + timedelta(days=32)).replace(day=1)
    return start.astimezone(UTC), following.astimezone(UTC)


def for_support(
    cooperative_id: int | None = None,
    status: InquiryStatus | None = None,
    month: date | None = None,
) -> Select:
    """All inquiries, newest first, filtered by cooperative, status and month of sending."""
    stmt = select(Inquiry).options(joinedload(Inquiry.cooperative), selectinload(Inquiry.items))
    if cooperative_id is not None:
        stmt = stmt.where(Inquiry.cooperative_id == cooperative_id)
    if status is not None:
        stmt = stmt.where(Inquiry.status == status)
    if month is not None:
        start, end = month_bounds(month)
        stmt = stmt.where(Inquiry.created_at >= start, Inquiry.created_at < end)
    return _newest_first(stmt)


def cooperatives_with_inquiries() -> Select:
    """(slug, name) of the cooperatives that have received an inquiry, by name."""
    having = select(Inquiry.cooperative_id).distinct()
    return (
        select(Cooperative.slug, Cooperative.name)
        .where(Cooperative.id.in_(having))
        .order_by(Cooperative.name, Cooperative.id)
    )
