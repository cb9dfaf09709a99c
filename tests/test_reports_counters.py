"""Daily counters: a product page view is counted once the page is sent, never in its way."""

import logging
import sqlite3
from datetime import date

import pytest
from sqlalchemy import func, select, text

from shop.catalog.models import Category
from shop.extensions import db
from shop.reports import services
from shop.reports.models import DailyCount
from shop.reports.tracking import is_bot
from tests.factories import create_cooperative, create_product, load_taxonomy
from tests.helpers import page_text

BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY


def counts() -> list[tuple]:
    rows = db.session.execute(
        select(DailyCount.day, DailyCount.kind, DailyCount.subject_id, DailyCount.count).order_by(
            DailyCount.day, DailyCount.kind, DailyCount.subject_id
        )
    )
    return [tuple(row) for row in rows]


def view(client, slug, user_agent=BROWSER, method="GET"):
    """Request the product page as a server would serve it: the response is closed after."""
    response = client.open(
        f"/san-pham/{slug}", method=method, headers={"User-Agent": user_agent}, buffered=True
    )
    return response


@pytest.fixture
def product(client, demo):
    from shop.catalog.models import Product

    slug = next(p["slug"] for p in demo["products"] if p["status"] == "approved")
    return db.session.scalar(select(Product).where(Product.slug == slug))


# --------------------------------------------------------------------------- the upsert


def test_count_adds_one_to_todays_row_with_an_upsert(blank_db, count_queries):
    with blank_db.app_context():
        with count_queries() as counter:
            services.count("product_view", 7)
        services.count("product_view", 7)
        services.count("product_view", 8)
        services.count("qr_scan", 7)
        services.count("product_view", 7, day=date(2026, 11, 25))
        assert counter.count == 1  # one statement: INSERT … ON CONFLICT DO UPDATE
        assert "ON CONFLICT" in counter.statements[0].upper()
        assert counts() == [
            (date(2026, 11, 25), "product_view", 7, 1),
            (TODAY, "product_view", 7, 2),
            (TODAY, "product_view", 8, 1),
            (TODAY, "qr_scan", 7, 1),
        ]


def test_an_unknown_kind_is_refused(blank_db):
    with blank_db.app_context(), pytest.raises(ValueError):
        services.count("page_view", 1)


@pytest.mark.parametrize(
    "agent, bot",
    [
        (BROWSER, False),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1", False),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", True),
        ("facebookexternalhit/1.1", True),
        ("Zalo link preview", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32", True),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0 Safari/537.36", True),
        ("", True),
        (None, True),
    ],
)
def test_bots_are_recognised(agent, bot):
    assert is_bot(agent) is bot


# --------------------------------------------------------------------------- the product page


def test_a_view_of_the_product_page_is_counted(client, product):
    assert view(client, product.slug).status_code == 200
    assert counts() == [(TODAY, "product_view", product.id, 1)]
    view(client, product.slug)
    view(client, product.slug + "?lang=en")
    assert counts() == [(TODAY, "product_view", product.id, 3)]


@pytest.mark.parametrize(
    "agent", ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", ""]
)
def test_bots_are_not_counted(client, product, agent):
    assert view(client, product.slug, user_agent=agent).status_code == 200
    assert counts() == []


def test_head_requests_and_missing_products_are_not_counted(client, product):
    assert view(client, product.slug, method="HEAD").status_code == 200
    assert view(client, "khong-co-san-pham-nay").status_code == 404
    assert counts() == []


def test_the_page_is_served_before_the_count(client, product, monkeypatch):
    """The count runs when the server closes the response, after the body went out."""
    calls = []
    monkeypatch.setattr(services, "count", lambda *a, **k: calls.append(a))
    response = client.get(f"/san-pham/{product.slug}", headers={"User-Agent": BROWSER})
    assert response.status_code == 200 and product.name_vi in page_text(response)
    assert calls == []
    response.close()
    assert calls == [("product_view", product.id)]


def test_a_failing_counter_is_logged_and_the_page_still_served(
    client, product, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "count", broken)
    with caplog.at_level(logging.WARNING, logger="shop.reports.services"):
        response = view(client, product.slug)
    assert response.status_code == 200
    assert product.name_vi in page_text(response)
    assert "not recorded" in caplog.text


def test_a_locked_database_still_serves_the_page(demo_db, client, product, caplog):
    """Another connection holds the write lock: the page is 200, the view is dropped quickly."""
    import time

    with demo_db.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock; readers still read
        release = holder.rollback
    else:
        holder = engine.connect()
        holder.execute(text("LOCK TABLE daily_count IN EXCLUSIVE MODE"))
        release = holder.rollback
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="shop.reports.services"):
            response = view(client, product.slug)
        elapsed = time.monotonic() - started
    finally:
        release()
        holder.close()
    assert response.status_code == 200
    assert product.name_vi in page_text(response)
    assert "not recorded" in caplog.text
    assert elapsed < 3  # the counter gave up after COUNTER_LOCK_WAIT_MS, not 5 s or forever
    assert counts() == []
    # The database is fine afterwards and the next view counts.
    view(client, product.slug)
    assert counts() == [(TODAY, "product_view", product.id, 1)]


def test_the_product_page_statement_count_with_its_counter_is_constant(blank_db, count_queries):
    load_taxonomy()
    categories = list(db.session.scalars(select(Category).order_by(Category.sort_order)))[:3]
    coops = [create_cooperative() for _ in range(2)]
    products = [create_product(coops[i % 2], category=categories[i % 3]) for i in range(10)]
    db.session.commit()
    client = blank_db.test_client()
    target = products[0]

    def measure() -> int:
        with count_queries() as counter:
            assert view(client, target.slug).status_code == 200
        return counter.count

    small = measure()
    coops += [create_cooperative() for _ in range(5)]
    for i in range(90):
        create_product(coops[i % len(coops)], category=categories[i % 3])
    for day in range(1, 40):
        services.count("product_view", target.id, day=date(2026, 10, 1 + day % 28))
    db.session.commit()
    assert measure() == small
    total = db.session.scalar(
        select(func.sum(DailyCount.count)).where(DailyCount.subject_id == target.id)
    )
    assert total == 41
