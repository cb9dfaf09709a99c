"""Security headers: the Content-Security-Policy and its nonce on every page, nosniff, the
referrer policy, HSTS and the `__Host-` session cookie in production, and no CSP violation in a
real browser on the pages that run scripts."""

import re
import uuid
from html.parser import HTMLParser

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from config import ProductionConfig
from shop import create_app
from shop.access import ACCOUNT, ADMIN, MEMBER, PUBLIC, STAFF
from shop.catalog.models import Product, ProductStatus
from shop.extensions import db
from shop.programmes.models import Booth, Programme
from shop.security import content_security_policy
from tests.browser import log_in
from tests.helpers import sign_in
from tests.test_access_matrix import audience_of, build_url, routes, world  # noqa: F401
from tests.test_browser_photos import product_id
from tests.test_media_images import jpeg

#: Who walks the pages of each audience (the one visitor who gets through its guard).
WALKER = {PUBLIC: "anonymous", ACCOUNT: "buyer", MEMBER: "member_a", STAFF: "staff", ADMIN: "admin"}

NONCE_RE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{22,})'")


class PageScripts(HTMLParser):
    """What in a page CSP would block: scripts, styles and event handlers written inline."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str | None] = []  # the nonce of each inline <script>
        self.script_sources: list[str] = []
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.script_sources.append(attrs["src"])
            else:
                self.inline_scripts.append(attrs.get("nonce"))
        if tag == "style":
            self.blocked.append("<style> element")
        for name, value in attrs.items():
            if name == "style":
                self.blocked.append(f'<{tag} style="{value}">')
            elif name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…> handler")
            elif name in ("href", "action", "formaction") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.blocked.append(f"<{tag} {name}=javascript:…>")


def check_page(response, where: str) -> tuple[str | None, list[str], int]:
    """(nonce, problems, inline scripts) of one response; no nonce when it is not HTML."""
    problems = []
    headers = response.headers
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options {headers.get('X-Content-Type-Options')}")
    if headers.get("Referrer-Policy") not in ("strict-origin-when-cross-origin", "no-referrer"):
        problems.append(f"{where}: Referrer-Policy {headers.get('Referrer-Policy')}")
    if "Strict-Transport-Security" in headers:
        problems.append(f"{where}: HSTS outside production")
    if response.mimetype != "text/html":
        return None, problems, 0
    policy = headers.get("Content-Security-Policy", "")
    found = NONCE_RE.search(policy)
    if not found:
        problems.append(f"{where}: no nonce in Content-Security-Policy {policy!r}")
        return None, problems, 0
    nonce = found.group(1)
    if policy != content_security_policy(nonce):
        problems.append(f"{where}: unexpected policy {policy!r}")
    if headers.get("X-Frame-Options") != "DENY":
        problems.append(f"{where}: X-Frame-Options {headers.get('X-Frame-Options')}")
    parser = PageScripts()
    parser.feed(response.get_data(as_text=True))
    for script_nonce in parser.inline_scripts:
        if script_nonce != nonce:
            problems.append(f"{where}: inline <script> with nonce {script_nonce!r}, not {nonce!r}")
    for src in parser.script_sources:
        if not src.startswith("/") or src.startswith("//"):
            problems.append(f"{where}: script from another origin {src}")
    problems.extend(f"{where}: {blocked}" for blocked in parser.blocked)
    return nonce, problems, len(parser.inline_scripts)


class Walk:
    """Visit pages as the given visitors, checking each and collecting nonces and problems."""

    def __init__(self, app, people):
        self.app = app
        self.people = people
        self.clients = {}
        self.nonces: list[str] = []
        self.problems: list[str] = []
        self.inline_scripts = 0
        self.html_pages = 0

    def client(self, who):
        if who not in self.clients:
            client = self.app.test_client()
            if who != "anonymous":
                sign_in(client, self.people["users"][who])
            self.clients[who] = client
        return self.clients[who]

    def get(self, who, url):
        response = self.client(who).get(url)
        nonce, problems, scripts = check_page(response, f"{who} GET {url} ({response.status_code})")
        response.close()
        if nonce:
            self.nonces.append(nonce)
            self.html_pages += 1
        self.problems.extend(problems)
        self.inline_scripts += scripts
        return response


def representative_urls(people) -> list[tuple[str, str]]:
    """Pages with their real data (the route walk fills every <int:id> with one cooperative id)."""
    product = db.session.scalar(
        select(Product)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Product.cooperative_id == people["coop_a"].id,
        )
        .order_by(Product.slug)
    )
    booth = db.session.scalar(select(Booth).where(Booth.cooperative_id.is_not(None)))
    programme = db.session.get(Programme, booth.programme_id)
    return [
        ("anonymous", "/"),
        ("anonymous", "/?lang=en"),
        ("anonymous", "/san-pham?sector=nong-nghiep"),
        ("anonymous", "/tim-kiem?q=banh"),
        ("anonymous", f"/san-pham/{product.slug}"),
        ("anonymous", f"/san-pham/{product.slug}?lang=en"),
        ("anonymous", f"/htx/{people['coop_a'].slug}"),
        ("anonymous", f"/chuong-trinh/{programme.slug}"),
        ("anonymous", f"/chuong-trinh/{programme.slug}/gian-hang/{booth.number}"),
        ("anonymous", f"/chuong-trinh/{programme.slug}/ban-in"),
        ("anonymous", "/khong-co-trang-nay"),
        ("member_a", f"/quan-ly-htx/san-pham/{product.id}"),
        ("member_a", f"/quan-ly-htx/san-pham/{product.id}/anh"),
        ("member_a", f"/quan-ly-htx/san-pham/{product.id}/sua"),
        ("staff", f"/quan-tri/chuong-trinh/{programme.id}"),
        ("staff", f"/quan-tri/chuong-trinh/{programme.id}/ban-in"),
        ("staff", f"/quan-tri/san-pham/{product.id}"),
    ]


# --------------------------------------------------------------------------- the policy


def test_the_policy_allows_only_this_site_and_the_nonce():
    policy = content_security_policy("abc")
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self' 'nonce-abc'",
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


def test_the_check_catches_what_the_policy_would_block(app):
    nonce = "n" * 24
    body = (
        f'<script nonce="{nonce}">ok()</script><script>bad()</script>'
        '<script src="https://cdn.example/x.js"></script><p style="color:red" onclick="x()">'
    )
    response = app.response_class(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers.update(
        {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        }
    )
    found, problems, scripts = check_page(response, "page")
    assert found == nonce and scripts == 2
    assert len(problems) == 4, problems
    assert "inline <script> with nonce None" in problems[0]


def test_every_page_has_the_headers_and_no_inline_script_without_its_nonce(demo_db, request):
    """Every GET route as a visitor its guard lets through, plus pages with real data."""
    people = request.getfixturevalue("world")  # tests/test_access_matrix.py's visitors and data
    walk = Walk(demo_db, people)
    for rule, method in routes(demo_db):
        if method != "GET":
            continue
        walk.get(WALKER[audience_of(demo_db, rule.endpoint)], build_url(rule, people))
    for who, url in representative_urls(people):
        response = walk.get(who, url)
        expected = 404 if "khong-co" in url else 200
        assert response.status_code == expected, url
    assert not walk.problems, "\n".join(walk.problems)
    # The walk saw pages with inline scripts (JSON-LD), and a fresh nonce on every page.
    assert walk.html_pages > 60 and walk.inline_scripts >= 8
    assert len(set(walk.nonces)) == len(walk.nonces)


def test_the_nonce_changes_on_every_request_and_is_the_one_in_the_page(client):
    nonces = []
    for _ in range(3):
        response = client.get("/")
        nonce = NONCE_RE.search(response.headers["Content-Security-Policy"]).group(1)
        assert f'<script type="application/ld+json" nonce="{nonce}">' in response.text
        nonces.append(nonce)
    assert len(set(nonces)) == 3


def test_views_keep_their_stricter_headers(client, app, media_storage):
    """Stored media keep their sandbox policy; a private-link page keeps no-referrer."""
    with app.test_request_context():
        from shop.media.services import store_image, url_for_image

        image = store_image(jpeg((400, 300)))
        url = url_for_image(image, 320)
    response = client.get(url)
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers
    dead_reset_link = client.get("/tai-khoan/dat-lai-mat-khau/khong-hop-le")
    assert dead_reset_link.status_code == 400
    assert dead_reset_link.headers["Referrer-Policy"] == "no-referrer"
    assert "nonce-" in dead_reset_link.headers["Content-Security-Policy"]


def test_json_and_static_files_get_nosniff_but_no_page_policy(client):
    for url in ("/api/v1/products", "/static/css/site.css", "/tim-kiem/goi-y?q=banh"):
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in response.headers, url


# --------------------------------------------------------------------------- production


@pytest.fixture
def production_client(app, monkeypatch):
    """A client of the production configuration on the test database (read-only use)."""
    monkeypatch.setenv("SHOP_ALLOW_SQLITE", "1")
    config = type(
        "ProductionTestConfig",
        (ProductionConfig,),
        {
            "SECRET_KEY": "production-test-secret-" + "x" * 32,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "FACET_COUNTS_IN_BACKGROUND": False,
        },
    )
    production = create_app(config)
    yield production.test_client()
    with production.app_context():
        db.engine.dispose()


def test_production_sends_hsts_and_a_host_only_secure_session_cookie(production_client):
    response = production_client.get("/tai-khoan/dang-nhap", base_url="https://cho-htx.test")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "nonce-" in response.headers["Content-Security-Policy"]
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("__Host-session=")
    attributes = [part.strip().lower() for part in cookies[0].split(";")[1:]]
    assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes
    assert "samesite=lax" in attributes
    assert not any(part.startswith("domain=") for part in attributes)


def test_the_production_session_cookie_comes_back_over_https(production_client):
    """The language chosen is kept in the session: it holds when the cookie is sent back."""
    production_client.get("/?lang=en", base_url="https://cho-htx.test")
    assert production_client.get_cookie("__Host-session", domain="cho-htx.test").secure
    again = production_client.get("/", base_url="https://cho-htx.test")
    assert '<html lang="en">' in again.text


def test_development_has_no_hsts_and_the_plain_cookie_name(client):
    response = client.get("/tai-khoan/dang-nhap")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Set-Cookie"].startswith("session=")


# --------------------------------------------------------------------------- in a browser

#: Collects CSP violations the page reports, from before its first script runs.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI);
});
"""
PASSWORD = "men-gốm-lửa-củi-2026"
COOPERATIVE = "htx-gom-lua-cui-phu-lang-demo"
PRODUCT = "binh-gom-ve-hoa-sen-cao-40-cm"
PROGRAMME = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"


@pytest.mark.browser
def test_pages_with_scripts_raise_no_csp_violation(browser, live_server):
    email = f"csp-{uuid.uuid4().hex[:8]}@gom-phu-lang.example"
    live_server.flask(
        "users", "create", email, "--role", "member", "--cooperative", COOPERATIVE,
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )  # fmt: skip
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    )
    context.add_init_script(LISTEN)
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    violations = []

    def collect(where):
        violations.extend(f"{where}: {text}" for text in page.evaluate("window.__csp"))

    try:
        # Search suggestions (every page) on the home page, with its JSON-LD.
        page.goto("/")
        page.get_by_role("combobox", name="Tìm sản phẩm", exact=True).fill("gom")
        expect(page.get_by_role("listbox")).to_be_visible()
        collect("home")
        # Filters of the catalogue send the form as soon as one changes.
        page.goto("/san-pham")
        page.get_by_text("Bộ lọc", exact=True).click()
        page.get_by_label("Lĩnh vực").select_option("nong-nghiep")
        page.wait_for_url(re.compile(r"sector=nong-nghiep"))
        collect("catalogue")
        # Gallery and contact links of a product.
        page.goto(f"/san-pham/{PRODUCT}")
        page.wait_for_load_state("load")
        collect("product")
        # The print button of a printable (shown only when its script ran).
        page.goto(f"/chuong-trinh/{PROGRAMME}/ban-in")
        expect(page.get_by_role("button", name="In trang này")).to_be_visible()
        collect("print")
        # The photo uploader of the cooperative's dashboard, and its cooperative profile.
        log_in(page, email, PASSWORD)
        page.goto(f"/quan-ly-htx/san-pham/{product_id(live_server.database_url)}/anh")
        expect(page.get_by_label("Chọn ảnh")).to_be_visible()
        collect("photos")
        page.goto("/quan-ly-htx/ho-so")
        page.wait_for_load_state("load")
        collect("profile")
        assert not violations and not console, "\n".join(violations + console)
        # The listeners hear a violation: an inline script without the nonce is refused.
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = true'; document.body.append(s); }"
        )
        page.wait_for_function("window.__csp.length > 0")
        assert page.evaluate("window.ran") is None
        assert any("Content Security Policy" in text for text in console)
    finally:
        context.close()
