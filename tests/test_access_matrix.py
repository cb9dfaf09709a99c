"""Every route × every kind of visitor: who may see and do what.

The expected answer follows from the audience each blueprint declares (shop.access):
anonymous visitors of a protected page go to the login page, signed-in users without the right
get 403, the others get through. Routes are read from app.url_map, so a new route is covered
as soon as it exists; a route whose URL arguments this file cannot fill fails the test.
"""

import re

import pytest
from sqlalchemy import select

from shop.access import ACCOUNT, ADMIN, MEMBER, PUBLIC, STAFF
from shop.accounts.models import Role
from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes.models import Booth, Programme
from tests.factories import create_cooperative, create_user
from tests.helpers import csrf_token, sign_in

VISITORS = ("anonymous", "buyer", "member_a", "member_b", "staff", "admin")

#: Which visitors get through each audience's guard.
ALLOWED = {
    PUBLIC: set(VISITORS),
    ACCOUNT: {"buyer", "member_a", "member_b", "staff", "admin"},
    MEMBER: {"member_a", "member_b"},
    STAFF: {"staff", "admin"},
    ADMIN: {"admin"},
}


def audience_of(app, endpoint: str) -> str:
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    return getattr(blueprint, "audience", None)


def routes(app):
    """(rule, method) for every route of the app except static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


@pytest.fixture
def world(client):
    """Two verified cooperatives A and B, each with an owner; a buyer, staff and an admin."""
    coop_a = db.session.scalar(
        select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.VERIFIED)
        .order_by(Cooperative.slug)
    )
    coop_b = create_cooperative(name="HTX Ma trận B", slug="htx-ma-tran-b")
    users = {
        "buyer": create_user(Role.BUYER),
        "member_a": create_user(cooperative=coop_a),
        "member_b": create_user(cooperative=coop_b),
        "staff": create_user(Role.STAFF),
        "admin": create_user(Role.ADMIN),
    }
    db.session.commit()
    product = db.session.scalar(
        select(Product)
        .where(Product.status == ProductStatus.PUBLISHED, Product.cooperative_id == coop_a.id)
        .order_by(Product.slug)
    )
    booth = db.session.scalar(
        select(Booth).where(Booth.cooperative_id.is_not(None)).order_by(Booth.id)
    )
    programme = db.session.get(Programme, booth.programme_id)
    return {
        "users": users,
        "coop_a": coop_a,
        "coop_b": coop_b,
        "values": {
            # URL arguments by name, with values that exist in the demo data.
            "slug": {
                "catalog.product": product.slug,
                "moderation.report": product.slug,
                "catalog.sector": "nong-nghiep",
                "catalog.category": "rau-cu-qua-tuoi",
                "cooperatives.cooperative": coop_a.slug,
                "programmes.programme": programme.slug,
                "programmes.booth": programme.slug,
                "programme_dashboard.apply": programme.slug,
                "programme_qr.booth_png": programme.slug,
                "programme_qr.booth_svg": programme.slug,
                "programme_qr.product_png": programme.slug,
                "programme_qr.product_svg": programme.slug,
                "programme_qr.product_scan": programme.slug,
                "programme_print.catalogue": programme.slug,
                "api.product": product.slug,
                "api.cooperative": coop_a.slug,
                "api.programme": programme.slug,
            },
            "unknown": "khong-co",  # /api/v1/<path:unknown>: the API's JSON 404
            "number": booth.number,
            "part": "products-1",  # /sitemap-<part>.xml
            "id": coop_a.id,
            "cooperative_id": coop_a.id,
            "token": "khong-hop-le",
            # A stored image that does not exist: the media route answers 404 to everyone.
            "sha256": "0" * 64,
            "name": "320.webp",
            "table": "hop-tac-xa",
            "batch_id": 999999999,  # an import batch that does not exist: 404 past the guard
            "line": 2,
        },
    }


def build_url(rule, world) -> str:
    values = {}
    for name in rule.arguments:
        value = world["values"].get(name)
        if isinstance(value, dict):
            value = value.get(rule.endpoint)
        if value is None:
            pytest.fail(f"{rule.rule}: no test value for <{name}>; add one to the world fixture")
        values[name] = value
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), url)
    return url


def visit(app, world, who, rule, method):
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, world["users"][who])
    url = build_url(rule, world)
    if method == "GET":
        return client.get(url)
    # Carry a valid CSRF token so the access guard, not CSRF protection, answers.
    return client.open(url, method=method, data={"csrf_token": csrf_token(client)})


def _route_table():
    from config import TestConfig
    from shop import create_app

    app = create_app(TestConfig)
    return [(rule.rule, method) for rule, method in routes(app)]


ROUTES = _route_table()


def test_every_route_is_in_the_matrix(app):
    assert sorted(ROUTES) == sorted((rule.rule, method) for rule, method in routes(app))


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("path, method", ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_access(demo_db, world, path, method, who):
    app = demo_db
    rule = next(r for r in app.url_map.iter_rules() if r.rule == path and method in r.methods)
    audience = audience_of(app, rule.endpoint)
    assert audience in ALLOWED, f"{path} has no declared audience"
    response = visit(app, world, who, rule, method)
    status = response.status_code
    location = response.headers.get("Location", "")
    sent_to_login = status == 302 and "/tai-khoan/dang-nhap" in location
    if who in ALLOWED[audience]:
        # Through the guard: any answer but "go and log in" or "forbidden".
        assert status != 403, f"{who} refused"
        assert audience == PUBLIC or not sent_to_login, f"{who} sent to login"
    elif who == "anonymous":
        assert sent_to_login, f"anonymous got {status} {location}"
    else:
        assert status == 403, f"{who} got {status}"


POST_ROUTES = [(path, method) for path, method in ROUTES if method != "GET"]
GET_ROUTES = [(path, method) for path, method in ROUTES if method == "GET"]


@pytest.mark.parametrize("path, method", POST_ROUTES, ids=[f"{m} {p}" for p, m in POST_ROUTES])
def test_every_state_change_needs_the_csrf_token(demo_db, world, path, method):
    """Without the token every POST is refused (400) before anything runs, for any visitor."""
    rule = next(r for r in demo_db.url_map.iter_rules() if r.rule == path and method in r.methods)
    for who in ("anonymous", "member_a", "admin"):
        client = demo_db.test_client()
        if who != "anonymous":
            sign_in(client, world["users"][who])
        before = fingerprint()
        response = client.open(build_url(rule, world), method=method, data={"x": "1"})
        assert response.status_code == 400, (who, response.status_code)
        assert fingerprint() == before, f"{method} {path} as {who} wrote without a CSRF token"


def fingerprint(skip: tuple[str, ...] = ()) -> str:
    """A digest of every row of every table: equal digests mean nothing was written."""
    import hashlib

    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in skip:
            continue
        rows = db.session.execute(table.select().order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.mark.parametrize("who", ["anonymous", "buyer", "member_a", "staff", "admin"])
def test_get_never_changes_state(demo_db, world, who):
    client = demo_db.test_client()
    if who != "anonymous":
        sign_in(client, world["users"][who])
    # Visit counters (daily_count) are the one thing a GET may add to: a QR code scanned at the
    # fair is counted before its redirect (shop/programmes/qr.py). Nothing else may change.
    before = fingerprint(skip=("daily_count",))
    for path, _method in GET_ROUTES:
        rule = next(r for r in demo_db.url_map.iter_rules() if r.rule == path)
        client.get(build_url(rule, world))
    assert fingerprint(skip=("daily_count",)) == before
