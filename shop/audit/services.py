"""Append audit entries; nothing here updates or deletes one."""

from shop.audit.models import AuditEntry
from shop.extensions import db


def record(actor, action: str, target, *, before=None, after=None, reason=None) -> AuditEntry:
    """Append who did `action` to `target` (a model instance), with what changed and why."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        before=before,
        after=after,
        reason=reason,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
