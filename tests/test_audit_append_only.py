"""Nobody can edit or delete an audit entry: the database itself refuses."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from shop.audit.models import AuditEntry
from shop.audit.services import record
from shop.extensions import db
from tests.factories import create_cooperative, create_user, load_taxonomy


@pytest.fixture
def entry(blank_db):
    load_taxonomy()
    staff = create_user("staff")
    coop = create_cooperative()
    return record(
        staff,
        "cooperative.verified",
        coop,
        before={"status": "pending"},
        after={"status": "verified"},
        reason="Hồ sơ đủ",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET reason = 'đã sửa' WHERE id = :id",
        "UPDATE audit_entry SET actor_id = NULL WHERE id = :id",
        "DELETE FROM audit_entry WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_an_entry(entry, statement):
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": entry.id})
    savepoint.rollback()
    kept = db.session.get(AuditEntry, entry.id)
    db.session.refresh(kept)
    assert kept.reason == "Hồ sơ đủ" and kept.actor_id is not None


def test_appending_still_works(entry):
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    record(None, "product.ocop_reminder_sent", entry, after={"expires_on": "2026-12-18"})
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
