"""JSON log lines with one request id per request, the health probes, the slow-query log."""

import io
import json
import logging
import re
import time
from datetime import datetime

import pytest
from sqlalchemy import text

from shop import create_app
from shop.extensions import db
from shop.observability import (
    JsonFormatter,
    RequestIdMiddleware,
    current_request_id,
    json_handler,
    request_id_var,
    valid_request_id,
)
from tests.conftest import BACKEND, make_config
from tests.workers import RedisServer, free_port

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class Lines:
    """The JSON lines written while it is attached to the root logger."""

    def __init__(self):
        self.stream = io.StringIO()

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def of(self, logger: str) -> list[dict]:
        return [line for line in self.all() if line["logger"] == logger]

    def clear(self):
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def log_lines():
    """Every record at DEBUG and above, formatted as production formats it."""
    lines = Lines()
    handler = json_handler(lines.stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # A test client leaves responses unclosed, so an earlier test's id may linger here.
    token = request_id_var.set(None)
    try:
        yield lines
    finally:
        request_id_var.reset(token)
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def clean_root():
    """Undo what configure_logging does to the root logger in a test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def slow_statement():
    """A statement that takes a few hundred milliseconds, with one bound parameter."""
    if BACKEND == "postgresql":
        return text("SELECT :marker AS marker, pg_sleep(0.3)")
    return text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
        "SELECT :marker AS marker, count(*) FROM c"
    )


def closed_port() -> int:
    return free_port()  # bound, then released: nothing listens there


def sibling_app(app, tmp_path, **overrides):
    """Another app on the demo database, its media in tmp_path unless told otherwise."""
    settings = {"MEDIA_ROOT": str(tmp_path / "media"), **overrides}
    return create_app(make_config(app.config["SQLALCHEMY_DATABASE_URI"], **settings))


# --------------------------------------------------------------------------- request ids


def test_valid_request_ids():
    assert valid_request_id("abc-DEF_123.4")
    assert valid_request_id("a" * 64)
    for bad in (None, "", "a" * 65, "has space", "semi;colon", 'quote"', "việt", "a\nb"):
        assert not valid_request_id(bad), bad


def test_the_id_lives_until_the_server_closes_the_body():
    seen = []

    class ServerFileWrapper:  # what gunicorn hands out as wsgi.file_wrapper
        def __init__(self):
            self.closed = False

        def __iter__(self):
            return iter([b"photo"])

        def close(self):
            self.closed = True

    def inner(environ, start_response):
        seen.append(current_request_id())
        return ServerFileWrapper() if environ["want_file"] else [b"page"]

    middleware = RequestIdMiddleware(inner)
    token = request_id_var.set(None)
    try:
        for want_file in (False, True):
            environ = {"HTTP_X_REQUEST_ID": "body-1", "want_file": want_file}
            environ["wsgi.file_wrapper"] = ServerFileWrapper
            body = middleware(environ, lambda *args: None)
            assert isinstance(body, ServerFileWrapper) is want_file  # sendfile still possible
            assert current_request_id() == "body-1"
            assert list(body)
            body.close()
            assert current_request_id() is None
        assert seen == ["body-1", "body-1"]
    finally:
        request_id_var.reset(token)


def test_every_line_of_a_request_is_json_with_the_same_id(client, app, log_lines, monkeypatch):
    monkeypatch.setitem(app.config, "SLOW_QUERY_MS", 0)  # every statement logs a line

    response = client.get("/san-pham")

    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]
    assert GENERATED_ID.fullmatch(request_id)
    lines = log_lines.all()
    assert len(log_lines.of("shop.sql.slow")) >= 2
    assert {line["request_id"] for line in lines} == {request_id}
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
        stamp = datetime.fromisoformat(line["time"])
        assert stamp.utcoffset().total_seconds() == 0
    (access,) = log_lines.of("shop.access")
    assert access["level"] == "INFO"
    assert access["method"] == "GET"
    assert access["path"] == "/san-pham"
    assert access["status"] == 200
    assert isinstance(access["duration_ms"], int | float) and access["duration_ms"] >= 0
    assert access["message"].startswith("GET /san-pham 200 ")


def test_two_requests_get_two_ids(client, log_lines):
    first = client.get("/").headers["X-Request-Id"]
    second = client.get("/").headers["X-Request-Id"]

    assert first != second
    assert [line["request_id"] for line in log_lines.of("shop.access")] == [first, second]


def test_a_valid_incoming_id_is_kept(client, log_lines):
    incoming = "nginx-3f2a.9_B"
    response = client.get("/?lang=en", headers={"X-Request-Id": incoming})

    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == incoming
    assert [line["request_id"] for line in log_lines.all()] == [incoming]


@pytest.mark.parametrize("incoming", ["a" * 65, "two words", "<script>", "id;drop", ""])
def test_a_bad_incoming_id_is_replaced(client, log_lines, incoming):
    response = client.get("/", headers={"X-Request-Id": incoming})

    replaced = response.headers["X-Request-Id"]
    assert replaced != incoming
    assert GENERATED_ID.fullmatch(replaced)
    assert [line["request_id"] for line in log_lines.all()] == [replaced]


def test_error_pages_carry_the_id_too(client, log_lines):
    response = client.get("/khong-co-trang-nay", headers={"X-Request-Id": "req-404"})

    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "req-404"
    (access,) = log_lines.of("shop.access")
    assert (access["status"], access["request_id"]) == (404, "req-404")


def test_no_id_outside_a_request(client, log_lines):
    client.get("/").close()  # the server closes the body: the request's after-work is done
    logging.getLogger("shop.test").warning("after the request")

    assert log_lines.of("shop.test")[0]["request_id"] is None


def test_an_unhandled_error_is_one_json_line_with_its_traceback(app, tmp_path, log_lines):
    broken = sibling_app(app, tmp_path, PROPAGATE_EXCEPTIONS=False)

    @broken.get("/hong")
    def fail():
        raise RuntimeError("the cause of the failure")

    response = broken.test_client().get("/hong", headers={"X-Request-Id": "req-500"})

    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "req-500"
    errors = [line for line in log_lines.all() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "req-500"
    assert "RuntimeError: the cause of the failure" in errors[0]["exc_info"]
    assert "Traceback" in errors[0]["exc_info"]
    (access,) = log_lines.of("shop.access")
    assert (access["status"], access["request_id"]) == (500, "req-500")


def test_json_format_writes_to_stderr(app, tmp_path, capsys, clean_root):
    json_app = sibling_app(app, tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")

    response = json_app.test_client().get("/healthz?lang=en", headers={"X-Request-Id": "abc"})
    json_app.test_client().get("/", headers={"X-Request-Id": "home-1"})
    logging.getLogger("shop.test").info("Chợ HTX: một dòng")

    assert response.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    # The probe's access line is DEBUG: below LOG_LEVEL, so absent.
    assert [line["request_id"] for line in lines if line["logger"] == "shop.access"] == ["home-1"]
    assert lines[-1]["message"] == "Chợ HTX: một dòng"


def test_text_format_leaves_the_console_alone(app, tmp_path, clean_root):
    root = logging.getLogger()
    before = list(root.handlers)

    sibling_app(app, tmp_path, LOG_FORMAT="text")

    assert root.handlers == before


def test_formatter_keeps_vietnamese_and_extras():
    record = logging.LogRecord("shop.x", logging.INFO, __file__, 1, "Đã lưu %s", ("Gạo",), None)
    record.request_id = "r1"
    record.status = 201

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "Đã lưu Gạo"
    assert (line["request_id"], line["status"], line["level"]) == ("r1", 201, "INFO")
    assert "Gạo" in JsonFormatter().format(record)  # not \\u-escaped


# --------------------------------------------------------------------------- health probes


def test_healthz_touches_no_database(client, count_queries, log_lines):
    with count_queries() as counter:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert counter.count == 0
    (access,) = log_lines.of("shop.access")
    assert access["level"] == "DEBUG"


def test_readyz_checks_database_and_storage(client, count_queries, log_lines):
    with count_queries() as counter:
        response = client.get("/readyz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"
    assert counter.count <= 2  # SELECT 1 (and SET LOCAL statement_timeout on PostgreSQL)
    (access,) = log_lines.of("shop.access")
    assert access["level"] == "DEBUG"
    assert not [line for line in log_lines.all() if line["level"] in ("INFO", "WARNING")]


def test_readyz_with_redis(app, tmp_path, tmp_path_factory):
    redis_server = RedisServer.find_or_start(tmp_path_factory.mktemp("redis"))
    try:
        ready = sibling_app(app, tmp_path, REDIS_URL=redis_server.url())
        response = ready.test_client().get("/readyz")
    finally:
        redis_server.stop()

    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "storage": "ok", "redis": "ok"}


def test_readyz_fails_when_redis_is_unreachable(app, tmp_path, log_lines):
    ready = sibling_app(app, tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")

    started = time.monotonic()
    response = ready.test_client().get("/readyz")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.get_json()
    assert body == {
        "status": "fail",
        "checks": {"database": "ok", "storage": "ok", "redis": "fail"},
    }
    (warning,) = [line for line in log_lines.all() if line["level"] == "WARNING"]
    assert "redis" in warning["message"]
    assert warning["request_id"] == response.headers["X-Request-Id"]


def test_readyz_fails_when_the_database_is_unreachable(tmp_path):
    url = f"postgresql+psycopg://shop:secret@127.0.0.1:{closed_port()}/shop"
    ready = create_app(make_config(url, MEDIA_ROOT=str(tmp_path / "media")))

    started = time.monotonic()
    response = ready.test_client().get("/readyz")
    healthz = ready.test_client().get("/healthz")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "fail",
        "checks": {"database": "fail", "storage": "ok"},
    }
    assert "secret" not in response.get_data(as_text=True)
    assert healthz.status_code == 200  # alive, only not ready


def test_readyz_fails_when_media_storage_is_not_writable(app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    ready = sibling_app(app, tmp_path, MEDIA_ROOT=str(blocker / "media"))

    response = ready.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "storage": "fail"}


# --------------------------------------------------------------------------- slow queries


def test_a_slow_statement_is_logged_without_its_values(demo_db, log_lines, monkeypatch):
    monkeypatch.setitem(demo_db.config, "SLOW_QUERY_MS", 100)
    with demo_db.app_context():
        db.session.execute(slow_statement(), {"marker": "secret-value-42"}).all()

    (slow,) = log_lines.of("shop.sql.slow")
    assert slow["level"] == "WARNING"
    assert slow["duration_ms"] >= 100
    assert slow["message"].startswith("slow query: ")
    assert "marker" in slow["statement"]
    assert "secret-value-42" not in json.dumps(log_lines.all())
    assert slow["request_id"] is None  # outside a request


def test_a_statement_under_the_threshold_is_not_logged(demo_db, log_lines, monkeypatch):
    monkeypatch.setitem(demo_db.config, "SLOW_QUERY_MS", 60_000)
    with demo_db.app_context():
        db.session.execute(slow_statement(), {"marker": "x"}).all()
        db.session.execute(text("SELECT 1")).all()

    assert log_lines.of("shop.sql.slow") == []


def test_the_default_threshold_ignores_a_fast_page(client, log_lines):
    assert client.application.config["SLOW_QUERY_MS"] == 200
    client.get("/")

    assert log_lines.of("shop.sql.slow") == []


def test_slow_query_lines_in_a_request_carry_its_id(client, app, log_lines, monkeypatch):
    monkeypatch.setitem(app.config, "SLOW_QUERY_MS", 0)

    response = client.get("/?lang=en", headers={"X-Request-Id": "slow-1"})

    slow = log_lines.of("shop.sql.slow")
    assert response.status_code == 200
    assert slow and {line["request_id"] for line in slow} == {"slow-1"}
    assert all(len(line["statement"]) <= 500 for line in slow)


# --------------------------------------------------------------------------- under gunicorn


@pytest.mark.stack
def test_gunicorn_workers_write_json_lines_with_the_request_id(app, tmp_path, capfd):
    """The demo database is migrated already and the requests only read it."""
    import urllib.error
    import urllib.request

    from tests.workers import GunicornServer

    server = GunicornServer(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path,
        workers=1,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        REDIS_URL="",
    )

    def get(path, request_id):
        request = urllib.request.Request(server.url + path, headers={"X-Request-Id": request_id})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers["X-Request-Id"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["X-Request-Id"], error.read()

    try:
        server.start()
        missing = get("/khong-co-trang-nay?lang=en", "stack-404-1")
        ready = get("/readyz", "stack-ready-1")
    finally:
        server.stop()

    assert missing[:2] == (404, "stack-404-1")
    assert ready[:2] == (200, "stack-ready-1")
    assert json.loads(ready[2])["checks"]["database"] == "ok"
    lines = [json.loads(raw) for raw in capfd.readouterr().err.splitlines() if raw[:1] == "{"]
    access = [line for line in lines if line["logger"] == "shop.access"]
    # The probe's line is DEBUG, below LOG_LEVEL; gunicorn's own access log is another file.
    assert [(line["request_id"], line["path"], line["status"]) for line in access] == [
        ("stack-404-1", "/khong-co-trang-nay", 404)
    ]
