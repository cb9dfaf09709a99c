"""Write the daily counters: one upsert per event, never in the way of the page.

Counters are anonymous tallies, not decisions: they take no acting user and add no audit
entry (a log line per page view would drown the audit log).
"""

import logging
from datetime import date

from flask import current_app
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from shop import clock
from shop.extensions import db
from shop.reports.models import DailyCount

log = logging.getLogger(__name__)

KINDS = (
    "product_view",
    "booth_view",
    "qr_scan",
    "product_contact",
    "cooperative_contact",
    "booth_contact",
    "product_qr_scan",  # a product's code printed at a booth (shop/programmes/qr.py)
)
#: How long a counter waits for a busy database before it gives up (milliseconds).
DEFAULT_LOCK_WAIT_MS = 500

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def count(kind: str, subject_id: int, *, day: date | None = None) -> None:
    """Add one to `kind` of `subject_id` on `day` (today in Vietnam) with a single upsert."""
    if kind not in KINDS:
        raise ValueError(f"unknown counter kind: {kind!r}")
    table = DailyCount.__table__
    insert = _INSERTS[db.session.get_bind().dialect.name]
    stmt = insert(table).values(day=day or clock.today(), kind=kind, subject_id=subject_id, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day, table.c.kind, table.c.subject_id],
        set_={"count": table.c.count + 1},
    )
    db.session.execute(stmt)


def count_quietly(
    kind: str, subject_id: int, *, day: date | None = None, wait_ms: int | None = None
) -> bool:
    """Count in a short transaction of its own; on any failure log it and drop the count.

    Waits at most COUNTER_LOCK_WAIT_MS (or `wait_ms`) for a lock: a busy database loses a
    page view rather than holding a worker (SQLite's busy timeout is otherwise five seconds).
    Rarer, weightier counts (a QR code scanned at the fair) pass a longer wait.
    """
    if wait_ms is None:
        wait_ms = int(current_app.config.get("COUNTER_LOCK_WAIT_MS", DEFAULT_LOCK_WAIT_MS))
    dialect = db.session.get_bind().dialect.name
    previous = None
    try:
        if dialect == "sqlite":
            previous = db.session.execute(text("PRAGMA busy_timeout")).scalar()
            db.session.execute(text(f"PRAGMA busy_timeout = {wait_ms}"))
        elif dialect == "postgresql":
            db.session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
        count(kind, subject_id, day=day)
        db.session.commit()
        return True
    except OperationalError as error:  # busy or locked: expected now and then, one line
        db.session.rollback()
        log.warning("counter %s of %s not recorded: %s", kind, subject_id, error.orig)
        return False
    except Exception:  # a lost page view must never become an error page or a crash
        db.session.rollback()
        log.warning("counter %s of %s not recorded", kind, subject_id, exc_info=True)
        return False
    finally:
        if previous is not None:
            try:
                db.session.execute(text(f"PRAGMA busy_timeout = {int(previous)}"))
            except Exception:
                db.session.rollback()
