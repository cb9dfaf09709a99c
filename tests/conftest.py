"""Shared fixtures: databases on SQLite or PostgreSQL, the app, a client, factories, a browser.

The backend comes from TEST_DB (``sqlite`` by default, or ``postgresql``). PostgreSQL is found
at TEST_DATABASE_URL, else on 127.0.0.1:5432, else a throwaway cluster is created with initdb.
Each test runs inside a transaction that is rolled back, so tests never see each other's writes.
"""

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestConfig
from shop import create_app
from shop.dataset.commands import DEMO_FILE
from shop.dataset.importer import import_data, read_file
from shop.extensions import db
from tests import pg

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
REFERENCE_FILE = SHARED_DATA / "reference_dataset.json"
BACKEND = os.environ.get("TEST_DB", "sqlite")


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


def pytest_configure(config):
    """Compile the translation catalogues so tests see the current .po files."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "shop" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po)
        with mo_path.open("wb") as mo:
            write_mo(mo, catalog)


# --------------------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    """Make empty databases of the chosen backend; returns a function giving a new URL."""
    created: list[str] = []
    server = pg.Server.find_or_start(tmp_path_factory) if BACKEND == "postgresql" else None

    def make(name: str) -> str:
        if server is None:
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.sqlite3')}"
        url = server.create_database(name)
        created.append(name)
        return url

    yield make
    if server is not None:
        for name in created:
            server.drop_database(name)
        server.stop()


def make_config(url: str, **overrides):
    return type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


def migrated_app(url: str):
    """An app whose database has been brought to head by the Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def app(database_factory):
    """The app on a migrated database holding the project's demo data."""
    app = migrated_app(database_factory("demo"))
    with app.app_context():
        import_data(read_file(str(DEMO_FILE)), db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def blank_app(database_factory):
    """The app on a migrated, empty database."""
    app = migrated_app(database_factory("blank"))
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def rolled_back(app):
    """Run inside one outer transaction that is rolled back; commits become savepoints.

    No application context stays pushed, so every request gets a fresh one (and a fresh `g`),
    as in production. Objects stay readable after a request closes the session.
    """
    with app.app_context():
        engine = db.engine
    # The catalogue keeps the facet vocabularies by their tables' sizes and newest keys, which a
    # rolled-back test can repeat with other rows (SQLite reuses rolled-back ids).
    app.extensions.pop("catalogue_vocabularies", None)
    connection = engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
    )
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def demo_db(app):
    with rolled_back(app):
        yield app


@pytest.fixture
def blank_db(blank_app):
    with rolled_back(blank_app):
        yield blank_app


@pytest.fixture
def client(demo_db):
    return demo_db.test_client()


@pytest.fixture
def blank_client(blank_db):
    return blank_db.test_client()


@pytest.fixture(scope="session")
def demo():
    """The demo dataset as parsed JSON, to take expected names and slugs from."""
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def reference_data():
    """The shared reference dataset; required in CI, where ../shared is laid beside the project."""
    if not REFERENCE_FILE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{REFERENCE_FILE} is missing in CI")
        pytest.skip("../shared/data is not beside this checkout")
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


class QueryCounter:
    IGNORED = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK TO|BEGIN|COMMIT|ROLLBACK)\b", re.I)

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not self.IGNORED.match(statement):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries():
    """`with count_queries() as counter: client.get(...)`; counter.count = SQL statements."""

    @contextmanager
    def counting():
        counter = QueryCounter()
        event.listen(Engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(Engine, "before_cursor_execute", counter)

    return counting


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def phone(browser, live_server):
    """A page in a phone-sized browser (390×844, Vietnamese) on the live server."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def live_server(database_factory, tmp_path_factory):
    """The real app served over HTTP on loopback, set up the way `make run` sets it up."""
    from tests.live import LiveServer

    server = LiveServer(database_factory("live"), tmp_path_factory.mktemp("live"))
    server.start()
    yield server
    server.stop()


# --------------------------------------------------------------------------- throttles, workers


@pytest.fixture
def fresh_throttle(app):
    """Login and form throttles start (and end) empty: every test client shares 127.0.0.1."""
    from shop.accounts import throttle

    with app.app_context():
        throttle.reset()
    yield
    with app.app_context():
        throttle.reset()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis on loopback: the one on 127.0.0.1:6379, else one started for the session."""
    from tests.workers import RedisServer

    server = RedisServer.find_or_start(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def gunicorn_app(database_factory, redis_server, tmp_path_factory):
    """Start the app under gunicorn: `gunicorn_app(workers=2, **env)` on a fresh migrated database.

    Workers share the Redis of `redis_server` (REDIS_URL) and their own throttle key prefix;
    the returned server has `.url`, `.flask(*args)` for CLI commands on its database,
    `.worker_pids()` and `.access_lines()` (pid, request line, status).
    """
    import uuid

    from tests.workers import GunicornServer

    servers = []

    def start(workers: int = 2, redis_db: int = 11, **env):
        name = f"gunicorn_{uuid.uuid4().hex[:8]}"
        server = GunicornServer(
            database_factory(name),
            tmp_path_factory.mktemp(name),
            workers=workers,
            REDIS_URL=redis_server.url(redis_db),
            **env,
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- media


@pytest.fixture
def media_storage(request, tmp_path):
    """An empty local media folder for one test, used by the apps the test runs on.

    The session apps keep their storage in app.extensions; it is swapped for the test and put
    back afterwards, so no test writes into instance/media.
    """
    from shop.media.storage import LocalStorage

    storage = LocalStorage(tmp_path / "media")
    apps = [
        request.getfixturevalue(name)
        for name in ("app", "blank_app")
        if name in request.fixturenames
    ]
    saved = [(each, each.extensions.get("media_storage")) for each in apps]
    for each in apps:
        each.extensions["media_storage"] = storage
    yield storage
    for each, previous in saved:
        each.extensions["media_storage"] = previous
