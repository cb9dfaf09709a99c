"""The staff audit log: entries with their actor's email, filtered, newest first."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.notify.messages import VIETNAM

ACTION_RE = re.compile(r"^[a-z0-9_.]{1,60}$")
TARGET_TYPE_RE = re.compile(r"^[a-z0-9_]{1,40}$")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
#: Dates outside these years are typing mistakes (and would overflow around midnight).
FIRST_YEAR, LAST_YEAR = 2000, 2999


def parse_date(raw: str) -> date | None:
    """'26/11/2026' or '2026-11-26'; None for anything else."""
    for fmt in DATE_FORMATS:
        try:
            value = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if FIRST_YEAR <= value.year <= LAST_YEAR:
            return value
    return None


def vietnam_midnight(day: date) -> datetime:
    """The UTC instant a Vietnamese calendar day starts."""
    return datetime.combine(day, time(), tzinfo=VIETNAM).astimezone(UTC)


@dataclass
class AuditFilters:
    action: str | None = None
    target_type: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: Field name -> the raw value that was ignored because it is not valid.
    invalid: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> "AuditFilters":
        filters = cls()
        action = (args.get("action") or "").strip()
        if action:
            if ACTION_RE.match(action):
                filters.action = action
            else:
                filters.invalid["action"] = action[:60]
        target_type = (args.get("target_type") or "").strip()
        if target_type:
            if TARGET_TYPE_RE.match(target_type):
                filters.target_type = target_type
            else:
                filters.invalid["target_type"] = target_type[:40]
        actor = (args.get("actor") or "").strip()
        if actor:
            filters.actor = actor[:254]
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if raw:
                value = parse_date(raw[:20])
                if value is None:
                    filters.invalid[name] = raw[:20]
                else:
                    setattr(filters, name, value)
        return filters

    def active(self) -> bool:
        return any(
            v is not None
            for v in (self.action, self.target_type, self.actor, self.date_from, self.date_to)
        )


def audit_log(filters: AuditFilters) -> Select:
    """(entry, actor email or None) matching `filters`, newest first."""
    stmt = select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.actor_id)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.target_type:
        stmt = stmt.where(AuditEntry.target_type == filters.target_type)
    if filters.actor:
        stmt = stmt.where(func.lower(User.email).contains(filters.actor.lower(), autoescape=True))
    if filters.date_from:
        stmt = stmt.where(AuditEntry.created_at >= vietnam_midnight(filters.date_from))
    if filters.date_to:
        end = vietnam_midnight(filters.date_to + timedelta(days=1))
        stmt = stmt.where(AuditEntry.created_at < end)
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
