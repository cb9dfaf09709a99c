"""SQLite's write lock and work done outside a request (a bulk import's job, shop.bulk.jobs).

Two transactions that both begin by reading and then write can deadlock on SQLite: the one
that commits waits for the other's read lock, the other wants the write lock, and SQLite
fails it at once ("database is locked"), whatever the busy timeout. A POST avoids this by
taking the write lock first (shop.db); a background writer (shop.db.background_writer) does
the same. This is what failed an import in a browser test: its job read, then tried to write
while the confirming request was committing.
"""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from shop.cooperatives.models import Sector
from shop.db import background_writer
from shop.extensions import db
from tests.conftest import migrated_app

pytestmark = pytest.mark.backend_independent


@pytest.fixture
def sqlite_app(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    yield app, tmp_path / "locks.sqlite3"
    with app.app_context():
        db.engine.dispose()


def read_then_write(app, as_background_writer: bool, outcome: dict) -> None:
    """Read, wait while the other connection starts committing, then write."""
    if as_background_writer:
        background_writer.set(True)
    with app.app_context():
        try:
            db.session.scalars(select(Sector)).all()
            time.sleep(0.6)
            db.session.add(Sector(slug="cong-viec-nen", name_vi="Việc chạy nền"))
            db.session.commit()
            outcome["ok"] = True
        except OperationalError as error:
            outcome["error"] = str(error)
            db.session.rollback()
        finally:
            db.session.remove()


def race(app, path, as_background_writer: bool) -> dict:
    """A request-like writer holds the write lock and commits 0.3 s into the other's work."""
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO sector (slug, name_vi, sort_order) VALUES ('yeu-cau', 'Yêu cầu', 0)")
    outcome: dict = {}
    worker = threading.Thread(target=read_then_write, args=(app, as_background_writer, outcome))
    worker.start()
    time.sleep(0.3)
    other.execute("COMMIT")
    worker.join(10)
    other.close()
    return outcome


def test_a_background_writer_waits_for_the_lock_instead_of_failing(sqlite_app):
    app, path = sqlite_app
    outcome = race(app, path, as_background_writer=True)
    assert outcome == {"ok": True}
    with app.app_context():
        slugs = set(db.session.scalars(text("SELECT slug FROM sector")))
    assert {"yeu-cau", "cong-viec-nen"} <= slugs


def test_without_it_the_same_work_is_refused_at_once(sqlite_app):
    """The failure the flag prevents, so the test above cannot pass for another reason."""
    app, path = sqlite_app
    started = time.monotonic()
    outcome = race(app, path, as_background_writer=False)
    assert "database is locked" in outcome.get("error", "")
    assert time.monotonic() - started < 4  # at once, not after the 5 s busy timeout
