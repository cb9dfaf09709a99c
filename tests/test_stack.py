"""The production stack on one machine, and how it survives PostgreSQL and Redis going away.

Decisions pinned down here:
- The database unreachable (restarting, failing over) → every page answers at once with a plain
  503 "Hệ thống đang bảo trì" page (English with ?lang=en, JSON for the API) and Retry-After;
  never a 500 or a hang. When PostgreSQL accepts connections again the same gunicorn workers
  serve 200 within 5 s (pool_pre_ping drops the dead connections; nothing is restarted).
- Redis down → pages keep serving; the throttles (login, password reset, reports, inquiries)
  count in each worker's memory until Redis answers again, then in Redis (fail open to
  per-process limits; shop.accounts.throttle.FallbackStorage says why).
- nginx (deploy/nginx.conf) serves /static itself with a week's cache and gzip, proxies the
  rest with X-Forwarded-* and a request id, hides its version, and refuses a body larger than
  the app's MAX_CONTENT_LENGTH with 413 before gunicorn sees it.

The tests that start servers of their own (a throwaway PostgreSQL cluster, redis-server, gunicorn,
nginx; never the shared PostgreSQL or Redis) are marked `stack`.
"""

import contextlib
import glob
import gzip
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import func, select

from config import Config
from shop import create_app
from shop.accounts import throttle
from shop.db import engine_options
from shop.extensions import db
from shop.moderation.models import ProductReport
from tests.conftest import make_config
from tests.factories import create_user
from tests.helpers import csrf_token, page_text, post_form
from tests.test_inquiry_send import SEND, VALID, fill, make_goods
from tests.workers import GunicornServer, RedisServer, _redis_ping, free_port

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/tai-khoan/dang-nhap"
MAINTENANCE_VI = "Hệ thống đang bảo trì, vui lòng thử lại sau ít phút"
MAINTENANCE_EN = "The system is under maintenance, please try again in a few minutes"
#: A port nothing listens on: connecting is refused at once.
DEAD_PORT = 1


# --------------------------------------------------------------------------- helpers


def get(url: str, timeout: float = 30, headers: dict | None = None):
    """(status, headers, body bytes, seconds) of one GET, errors included."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), time.monotonic() - started


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


class Cluster:
    """A throwaway PostgreSQL cluster (as tests/pg.py starts one) that a test stops and starts.

    It lives in a fresh folder under /tmp, not pytest's tmp_path: pytest's folders are private
    to root, and initdb / postgres run as the `postgres` user when the tests run as root.
    """

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            pytest.fail("no PostgreSQL server binaries (initdb) to start a cluster of our own")
        self.bindir = Path(binaries[-1]).parent
        self.base = Path(tempfile.mkdtemp(prefix="cho-htx-stack-pg-"))
        self.data = self.base / "data"
        self.run_as = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self.run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.base, "postgres")
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            [*self.run_as, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres"]
            + ["--auth=trust"],
            check=True,
            capture_output=True,
        )
        self.start()

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        self.pg_ctl("-w", "-l", str(self.base / "log"), "-o", options, "start")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = self.admin_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+psycopg://") + f"/{name}"

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, on a free port, that the test may stop and restart."""
    server = RedisServer.start_new(tmp_path)
    yield server
    stop_redis(server)


def stop_redis(server: RedisServer) -> None:
    if _redis_ping(server.port):
        server.stop()
    deadline = time.monotonic() + 10
    while _redis_ping(server.port):
        assert time.monotonic() < deadline, "redis-server did not stop"
        time.sleep(0.05)


def restart_redis(server: RedisServer, workdir: Path) -> RedisServer:
    return RedisServer.start_new(workdir, port=server.port)


# --------------------------------------------------------------------------- engine options


def test_postgresql_connections_give_up_fast_and_are_pinged_before_use():
    options = engine_options(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@db/shop",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
        }
    )
    assert options["pool_pre_ping"] is True
    assert options["connect_args"] == {"connect_timeout": 2}
    options = engine_options(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@db/shop",
            "DATABASE_CONNECT_TIMEOUT": 3,
            "DATABASE_STATEMENT_TIMEOUT_MS": 15000,
        }
    )
    assert options["connect_args"] == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=15000",
    }


def test_sqlite_gets_no_postgresql_connect_arguments(app):
    options = engine_options({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3"})
    assert options == {"pool_pre_ping": True}
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


# --------------------------------------------------------------------------- the 503 page


@pytest.fixture(scope="module")
def unreachable_app():
    """The app on a PostgreSQL that refuses every connection (nothing listens on port 1)."""
    return create_app(make_config(f"postgresql+psycopg://postgres@127.0.0.1:{DEAD_PORT}/shop"))


@pytest.mark.parametrize(
    "lang, message, title",
    [("vi", MAINTENANCE_VI, "Hệ thống đang bảo trì"), ("en", MAINTENANCE_EN, "Under maintenance")],
)
@pytest.mark.parametrize("path", ["/", "/san-pham", "/htx"])
def test_without_the_database_pages_answer_503_at_once(unreachable_app, path, lang, message, title):
    client = unreachable_app.test_client()
    started = time.monotonic()
    response = client.get(f"{path}?lang={lang}")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    text = page_text(response)
    assert message in text
    assert f"{title} · Chợ HTX" in text
    assert "500" not in text


def test_without_the_database_a_form_post_answers_503_and_the_api_json(unreachable_app):
    client = unreachable_app.test_client()
    response = client.get("/api/v1/products", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json() == {"error": "unavailable", "message": MAINTENANCE_VI}
    assert response.headers["Retry-After"] == "30"


def test_the_outage_is_logged(unreachable_app, caplog):
    with caplog.at_level("ERROR", logger="shop.pages.errors"):
        unreachable_app.test_client().get("/san-pham")
    assert any("database unavailable: GET /san-pham" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- throttles


def test_an_unreachable_redis_is_replaced_by_this_process_memory(app, caplog):
    storage = throttle.FallbackStorage(f"redis://127.0.0.1:{DEAD_PORT}/0", "test-fallback")
    with caplog.at_level("WARNING", logger="shop.accounts.throttle"):
        started = time.monotonic()
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.get("k") == 3
        storage.clear("k")
        assert storage.get("k") == 0
        assert time.monotonic() - started < 2
    warnings = [r for r in caplog.records if "counting in this process" in r.getMessage()]
    assert len(warnings) == 1  # Redis is retried every RETRY_SECONDS, not on every call


# --------------------------------------------------------------------------- stack: PostgreSQL


class Poller(threading.Thread):
    """GET `url` again and again until stopped, recording (start, status, seconds, body)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.results: list[tuple[float, int, float, bytes]] = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            started = time.monotonic()
            status, _, body, seconds = get(self.url, timeout=10)
            self.results.append((started, status, seconds, body))
            time.sleep(0.05)


@pytest.mark.stack
def test_postgresql_restarted_while_serving(tmp_path, own_redis):
    cluster = Cluster()
    try:
        url = cluster.create_database("stack")
        server = GunicornServer(url, tmp_path / "gunicorn", workers=2, REDIS_URL=own_redis.url(0))
        server.workdir.mkdir()
        server.start()
        try:
            for path in ("/", "/san-pham"):  # warm: the first answers build caches
                assert get(server.url + path, timeout=60)[0] == 200

            poller = Poller(server.url + "/san-pham")
            poller.start()
            time.sleep(0.5)
            cluster.stop()
            stopped_at = time.monotonic()
            time.sleep(3)
            outage = [r for r in poller.results if r[0] > stopped_at]
            english = get(server.url + "/?lang=en")
            assert not cluster.accepts_connections()
            cluster.start()
            back_at = time.monotonic()
            assert cluster.accepts_connections()
            recovered_at = None
            while time.monotonic() < back_at + 10:
                if get(server.url + "/san-pham")[0] == 200:
                    recovered_at = time.monotonic()
                    break
                time.sleep(0.05)
            poller.done.set()
            poller.join(15)

            statuses = sorted({r[1] for r in outage})
            slowest = max(r[2] for r in outage)
            print(
                f"\nPostgreSQL down: {len(outage)} requests, statuses {statuses}, "
                f"slowest answer {slowest * 1000:.0f} ms, "
                f"median {sorted(r[2] for r in outage)[len(outage) // 2] * 1000:.0f} ms"
            )
            assert len(outage) >= 10
            assert statuses == [503]
            assert slowest < 2
            assert MAINTENANCE_VI in outage[-1][3].decode()
            assert english[0] == 503 and english[1]["Retry-After"] == "30"
            assert MAINTENANCE_EN in english[2].decode()

            assert recovered_at is not None, "no 200 within 10 s of PostgreSQL's return"
            recovery = recovered_at - back_at
            print(f"PostgreSQL back: first 200 after {recovery:.2f} s (gunicorn not restarted)")
            assert recovery <= 5
            assert server.process.poll() is None
            # Every worker serves again, not only the one that answered first.
            assert all(get(server.url + "/")[0] == 200 for _ in range(8))
            assert len(server.worker_pids()) == 2  # no worker crashed and was replaced

            # Redis stopped too: pages keep serving.
            stop_redis(own_redis)
            started = time.monotonic()
            for path in ("/", "/san-pham", "/htx", LOGIN):
                assert get(server.url + path)[0] == 200, path
            print(f"Redis down: 4 pages 200 in {time.monotonic() - started:.2f} s")
        finally:
            server.stop()
    finally:
        cluster.remove()


# --------------------------------------------------------------------------- stack: Redis


@pytest.fixture
def redis_throttles(client, own_redis, monkeypatch):
    """The throttles of the test app kept in `own_redis` (as under REDIS_URL)."""
    prefix = f"test-stack-{uuid.uuid4().hex[:8]}"
    storage = throttle.FallbackStorage(own_redis.url(0), prefix)
    storage.RETRY_SECONDS = 0.2
    monkeypatch.setitem(client.application.extensions, "throttle_storage", storage)
    return storage


def redis_keys(server: RedisServer) -> list[str]:
    return sorted(k.decode() for k in redis.Redis.from_url(server.url(0)).keys("*"))


def login(client, email, password, address):
    return post_form(
        client,
        LOGIN,
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def send_report(client, product, address):
    url = f"/san-pham/{product.slug}/bao-cao"
    data = {"reason": "counterfeit", "details": "Nhãn giống hệt cơ sở khác.", "email": ""}
    data["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


@pytest.mark.stack
def test_redis_stopped_login_reports_and_inquiries_still_work(
    app, client, own_redis, redis_throttles, tmp_path
):
    user = create_user()
    goods = make_goods()
    product = goods["greens"]
    db.session.commit()

    # Redis up: counters live in Redis.
    assert login(client, user.email, "sai-rồi-nhé", "198.51.100.1").status_code == 400
    assert any("login-account" in key for key in redis_keys(own_redis))

    stop_redis(own_redis)
    started = time.monotonic()
    response = login(app.test_client(), user.email, user.password, "198.51.100.2")
    assert response.status_code == 302, page_text(response)
    before = db.session.scalar(select(func.count()).select_from(ProductReport))
    response = send_report(client, product, "198.51.100.3")
    assert response.status_code == 200
    assert "Chúng tôi đã nhận báo cáo của bạn" in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(ProductReport)) == before + 1
    fill(client, goods)
    data = {**VALID, "csrf_token": csrf_token(client)}
    response = client.post(SEND, data=data, environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert response.status_code == 302, page_text(response)
    assert time.monotonic() - started < 10

    # Still limited while Redis is away: the limits count in this process.
    for _ in range(5):
        assert login(client, user.email, "sai-rồi-nhé", "198.51.100.5").status_code in (400, 429)
    response = login(client, user.email, user.password, "198.51.100.6")
    assert response.status_code == 429
    assert "Bạn đã nhập sai quá nhiều lần" in page_text(response)

    # Redis back: the counters are in Redis again (the memory ones are not copied over).
    restart_redis(own_redis, tmp_path)
    time.sleep(redis_throttles.RETRY_SECONDS + 0.1)
    before = set(redis_keys(own_redis))
    other = create_user()
    db.session.commit()
    for _ in range(5):
        assert login(client, other.email, "sai-rồi-nhé", "198.51.100.7").status_code == 400
    assert login(client, other.email, other.password, "198.51.100.8").status_code == 429
    after = set(redis_keys(own_redis))
    assert any("login-account" in key for key in after - before)


# --------------------------------------------------------------------------- stack: nginx


def nginx_binary() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("no nginx: apt-get install nginx-light (.ci/run installs it)")
    return binary


def render_nginx(run_dir: Path, listen: int, upstream: str) -> Path:
    """deploy/nginx.conf with its @NAME@ placeholders filled, as deploy/serve-prod.sh does."""
    import getpass

    text = (ROOT / "deploy" / "nginx.conf").read_text()
    values = {
        "LISTEN": f"127.0.0.1:{listen}",
        "UPSTREAM": upstream,
        "STATIC_ROOT": str(ROOT / "static"),
        "CLIENT_MAX_BODY_SIZE": str(Config.MAX_CONTENT_LENGTH),
        "IMPORT_MAX_BODY_SIZE": str(Config.IMPORT_MAX_UPLOAD_BYTES),
        "RUN_DIR": str(run_dir),
        "USER": getpass.getuser(),
    }
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in "".join(line.split("#")[0] for line in text.splitlines())
    path = run_dir / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture
def nginx_stack(gunicorn_app, tmp_path):
    server = gunicorn_app(workers=1, SHOP_TRUSTED_PROXIES="1")
    port = free_port()
    conf = render_nginx(tmp_path, port, f"127.0.0.1:{server.port}")
    binary = nginx_binary()
    error_log = str(tmp_path / "error.log")
    subprocess.run([binary, "-t", "-q", "-c", str(conf), "-e", error_log], check=True)
    process = subprocess.Popen([binary, "-c", str(conf), "-e", error_log, "-g", "daemon off;"])
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", server
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.stack
def test_nginx_in_front_of_gunicorn(nginx_stack, tmp_path):
    front, server = nginx_stack

    # A page through nginx: the app's answer, nginx's version hidden, a request id passed on.
    # (The first answer of a fresh worker builds its caches: slow on a busy machine.)
    status, headers, body, _ = get(
        front + "/", timeout=60, headers={"X-Request-ID": "thu-nghiem-123"}
    )
    assert status == 200
    assert "Chợ HTX" in body.decode()
    assert headers["Server"] == "nginx"
    assert "Set-Cookie" in headers or "Vary" in headers
    status, headers, _, _ = get(front + "/api/v1/products")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"  # set by the app, passed through

    # /static from nginx itself: a week's cache, gzip, and gunicorn never sees it.
    css = (ROOT / "static" / "css" / "site.css").read_bytes()
    status, headers, body, _ = get(
        front + "/static/css/site.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=604800"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == css
    assert len(body) < len(css) / 2
    assert get(front + "/static/khong-co.css")[0] == 404

    # A body larger than the app's limit: 413 from nginx, before gunicorn reads it.
    connection = http.client.HTTPConnection("127.0.0.1", int(front.rsplit(":", 1)[1]), timeout=10)
    size = Config.MAX_CONTENT_LENGTH + 1024
    connection.putrequest("POST", "/tai-khoan/dang-nhap")
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.send(b"\0" * size)  # nginx may answer and close before all is sent
    response = connection.getresponse()
    assert response.status == 413
    connection.close()
    # The product import's upload alone takes more: nginx passes such a body to the app.
    connection = http.client.HTTPConnection("127.0.0.1", int(front.rsplit(":", 1)[1]), timeout=30)
    connection.putrequest("POST", "/quan-ly-htx/nhap-san-pham/")
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.send(b"\0" * size)
    response = connection.getresponse()
    response.read()
    connection.close()

    time.sleep(0.3)  # gunicorn logs a request just after answering it
    requests = [line[1] for line in server.access_lines()]
    assert any(line.startswith("GET / ") for line in requests)
    assert not any("/static/" in line for line in requests)
    assert not any(line.startswith("POST /tai-khoan/") for line in requests)
    assert any(line.startswith("POST /quan-ly-htx/nhap-san-pham/ ") for line in requests)
    access = (tmp_path / "access.log").read_text()
    assert "rid=thu-nghiem-123" in access
