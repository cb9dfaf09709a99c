"""Two staff deciding the same case at the same moment: exactly one decision is recorded.

A real gunicorn (two sync worker processes) serves the app on a fresh database of the current
backend (SQLite file or PostgreSQL), migrated and loaded with the demo data. Two staff members,
created with the CLI, log in with their own cookie jars, open the same case, then post opposite
decisions from two threads released together by a barrier. One answer is the winner's redirect;
the other is 409 naming the winner, and the database holds exactly one decision. Each case runs
several rounds on fresh products / cooperatives so a lucky serialization cannot hide a race.
"""

import html
import http.cookiejar
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser

import pytest
from sqlalchemy import create_engine, text

from tests.workers import GunicornServer

ROUNDS = 5
PASSWORD = "hai-cán-bộ-cùng-bấm-nút"
STAFF = ("duyet.mot@example.com", "duyet.hai@example.com")
LOGIN = "/tai-khoan/dang-nhap"
TIMEOUT = 30


# --------------------------------------------------------------------------- HTTP helpers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Forms(HTMLParser):
    """The POST forms of a page: {action: {field name: value}} (hidden inputs and textareas)."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = self.forms.setdefault(attrs.get("action") or "", {})
        elif self._current is not None and tag == "input" and attrs.get("name"):
            if (attrs.get("type") or "text") == "hidden":
                self._current[attrs["name"]] = attrs.get("value") or ""
        elif self._current is not None and tag == "textarea" and attrs.get("name"):
            self._current[attrs["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(page: str) -> dict[str, dict[str, str]]:
    parser = Forms()
    parser.feed(page)
    return parser.forms


class Browser:
    """One staff member's browser: a cookie jar, no redirects followed."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return response.status, html.unescape(response.read().decode())
        except urllib.error.HTTPError as error:
            return error.code, html.unescape(error.read().decode())

    def form(self, page_path: str, action: str) -> dict[str, str]:
        status, page = self.request(page_path)
        assert status == 200, (page_path, status)
        forms = forms_of(page)
        assert action in forms, f"no form posting to {action} on {page_path}: {list(forms)}"
        assert forms[action].get("csrf_token"), f"no CSRF token in the form of {action}"
        return forms[action]

    def log_in(self, email: str) -> None:
        fields = self.form(LOGIN, LOGIN)
        status, page = self.request(LOGIN, {**fields, "email": email, "password": PASSWORD})
        assert status == 302, f"login of {email} answered {status}:\n{page[:2000]}"


def at_once(*calls) -> list[tuple[int, str, float]]:
    """Run the calls in threads released together; (status, page, seconds) of each, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=TIMEOUT)
        started = time.monotonic()
        try:
            status, page = call()
        except Exception as error:  # reported by the assertion below, with the others
            status, page = -1, repr(error)
        results[index] = (status, page, time.monotonic() - started)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 5)
    assert all(r is not None for r in results), f"a decision did not finish: {results}"
    return results


# --------------------------------------------------------------------------- the server


class Site:
    def __init__(self, server: GunicornServer):
        self.server = server
        self.engine = create_engine(
            server.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
        )
        self.browsers = [Browser(server.url) for _ in STAFF]
        self.staff_ids: dict[str, int] = {}

    def sql(self, statement: str, **params):
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []

    def server_errors(self) -> str:
        """The tracebacks the workers logged, for a failing assertion's message."""
        log = self.server.error_log.read_text() if self.server.error_log.exists() else ""
        return (
            "\n".join(line for line in log.splitlines() if "Booting worker" not in line)
            or "(no errors logged)"
        )

    def post_pids(self, page: str) -> list[int]:
        """Worker pids that answered the two decision POSTs on `page` (polled: logged late)."""
        deadline = time.monotonic() + 5
        while True:
            pids = [
                pid
                for pid, request, _ in self.server.access_lines()
                if request.startswith(f"POST {page}/")
            ]
            if len(pids) >= 2 or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)


@pytest.fixture(scope="module")
def site(database_factory, redis_server, tmp_path_factory):
    name = f"decisions_{uuid.uuid4().hex[:8]}"
    server = GunicornServer(
        database_factory(name),
        tmp_path_factory.mktemp(name),
        workers=2,
        REDIS_URL=redis_server.url(12),
        SHOP_TODAY="2026-11-26",
    )
    site = None
    try:
        server.start()
        server.flask("data", "demo")
        for email in STAFF:
            server.flask("users", "create", email, "--role", "staff", SHOP_USER_PASSWORD=PASSWORD)
        site = Site(server)
        for browser, email in zip(site.browsers, STAFF, strict=True):
            browser.log_in(email)
        site.staff_ids = dict(
            site.sql('SELECT email, id FROM "user" WHERE email IN (:a, :b)', a=STAFF[0], b=STAFF[1])
        )
        assert len(server.worker_pids()) == 2
        yield site
    finally:
        if site is not None:
            site.engine.dispose()
        server.stop()  # terminate, then kill if it will not stop


def check_one_winner(site, results, outcomes: tuple[str, str], where: str) -> tuple[int, str]:
    """Exactly one answer is a success and the other 409 naming the winner; (winner, outcome)."""
    statuses = [status for status, _, _ in results]
    winners = [i for i, status in enumerate(statuses) if status in (200, 302)]
    losers = [i for i, status in enumerate(statuses) if status == 409]
    assert len(winners) == 1 and len(losers) == 1, (
        f"{where}: statuses {statuses}, expected one success and one 409\n"
        + "\n---\n".join(page[:3000] for _, page, _ in results)
        + "\nserver log:\n"
        + site.server_errors()
    )
    winner, loser = winners[0], losers[0]
    page = results[loser][1]
    assert "đã được xử lý bởi " + STAFF[winner] in page, (
        f"{where}: the 409 page does not name {STAFF[winner]}:\n{page[:3000]}"
    )
    assert "Quyết định của bạn không được ghi lại." in page
    return winner, outcomes[winner]


# --------------------------------------------------------------------------- product decisions


def submitted_products(site, count: int) -> list[int]:
    """Products waiting for review: the demo's pending ones, topped up from published ones."""
    ids = [
        row[0] for row in site.sql("SELECT id FROM product WHERE status = 'submitted' ORDER BY id")
    ]
    if len(ids) < count:
        extra = [
            row[0]
            for row in site.sql(
                "SELECT id FROM product WHERE status = 'published' ORDER BY id LIMIT :n",
                n=count - len(ids),
            )
        ]
        for product_id in extra:
            site.sql(
                "UPDATE product SET status = 'submitted', published_at = NULL WHERE id = :id",
                id=product_id,
            )
        ids += extra
    return ids[:count]


def test_two_staff_deciding_one_product_record_one_decision(site):
    products = submitted_products(site, ROUNDS)
    assert len(products) == ROUNDS
    report = []
    for round_no, product_id in enumerate(products, 1):
        page = f"/quan-tri/san-pham/{product_id}"
        approve = site.browsers[0].form(page, f"{page}/duyet")
        reject = site.browsers[1].form(page, f"{page}/tu-choi")
        assert approve["approve-seen"] and reject["reject-seen"]
        reject["reject-note"] = "Ảnh bìa không đúng sản phẩm (vòng thử song song)."

        started = time.monotonic()
        results = at_once(
            lambda p=page, f=approve: site.browsers[0].request(f"{p}/duyet", f),
            lambda p=page, f=reject: site.browsers[1].request(f"{p}/tu-choi", f),
        )
        elapsed = time.monotonic() - started
        winner, outcome = check_one_winner(
            site, results, ("published", "rejected"), f"product {product_id} round {round_no}"
        )

        (status,) = site.sql("SELECT status FROM product WHERE id = :id", id=product_id)[0]
        assert status == outcome
        decisions = site.sql(
            "SELECT action, actor_id FROM audit_entry WHERE target_type = 'product'"
            " AND target_id = :id AND action IN ('product.approved', 'product.changes_requested',"
            " 'product.rejected')",
            id=product_id,
        )
        expected_action = "product.approved" if winner == 0 else "product.rejected"
        assert decisions == [(expected_action, site.staff_ids[STAFF[winner]])], decisions
        report.append(
            (
                product_id,
                [r[0] for r in results],
                STAFF[winner],
                [round(r[2], 3) for r in results],
                site.post_pids(page),
            )
        )
        assert elapsed < TIMEOUT
    print("\nproduct rounds (id, [approve, reject] statuses, winner, seconds, worker pids):")
    for line in report:
        print("  ", line)
    assert any(len(set(pids)) == 2 for *_, pids in report), "both workers never raced"


# --------------------------------------------------------------------------- cooperative decisions


def pending_cooperatives(site, count: int) -> list[int]:
    """Cooperatives put back to waiting for verification (the demo's are all verified)."""
    ids = [
        row[0]
        for row in site.sql(
            "SELECT id FROM cooperative WHERE status = 'verified' ORDER BY id DESC LIMIT :n",
            n=count,
        )
    ]
    for cooperative_id in ids:
        site.sql(
            "UPDATE cooperative SET status = 'pending', verified_at = NULL WHERE id = :id",
            id=cooperative_id,
        )
    return ids


def test_two_staff_deciding_one_cooperative_record_one_decision(site):
    cooperatives = pending_cooperatives(site, ROUNDS)
    assert len(cooperatives) == ROUNDS
    report = []
    for round_no, cooperative_id in enumerate(cooperatives, 1):
        page = f"/quan-tri/htx/{cooperative_id}"
        verify = site.browsers[0].form(page, f"{page}/xac-minh")
        ask = site.browsers[1].form(page, f"{page}/can-bo-sung")
        assert verify["verify-seen_status"] == "pending" == ask["info-seen_status"]
        ask["info-reason"] = "Hãy gửi lại giấy chứng nhận đăng ký (vòng thử song song)."

        started = time.monotonic()
        results = at_once(
            lambda p=page, f=verify: site.browsers[0].request(f"{p}/xac-minh", f),
            lambda p=page, f=ask: site.browsers[1].request(f"{p}/can-bo-sung", f),
        )
        elapsed = time.monotonic() - started
        winner, outcome = check_one_winner(
            site,
            results,
            ("verified", "needs_info"),
            f"cooperative {cooperative_id} round {round_no}",
        )

        (status,) = site.sql("SELECT status FROM cooperative WHERE id = :id", id=cooperative_id)[0]
        assert status == outcome
        decisions = site.sql(
            "SELECT action, actor_id FROM audit_entry WHERE target_type = 'cooperative'"
            " AND target_id = :id AND action IN ('cooperative.verified', 'cooperative.needs_info')",
            id=cooperative_id,
        )
        assert decisions == [(f"cooperative.{outcome}", site.staff_ids[STAFF[winner]])], decisions
        report.append(
            (
                cooperative_id,
                [r[0] for r in results],
                STAFF[winner],
                [round(r[2], 3) for r in results],
                site.post_pids(page),
            )
        )
        assert elapsed < TIMEOUT
    print("\ncooperative rounds (id, [verify, ask] statuses, winner, seconds, worker pids):")
    for line in report:
        print("  ", line)
    assert any(len(set(pids)) == 2 for *_, pids in report), "both workers never raced"
