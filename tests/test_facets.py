"""The catalogue's facet counts: one combination table folded in Python, cached by version.

The fold must give exactly what counting each facet in SQL gave (the reference below is the
former per-facet implementation); the cache must follow every change that the services make,
never serve another database's counts, and keep the page's statement count constant.
"""

import random
import re
import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from shop.accounts.models import Role
from shop.catalog import queries, services
from shop.catalog.models import (
    Category,
    CertificationKind,
    Product,
    ProductCertification,
    ProductRevision,
    ProductStatus,
)
from shop.cooperatives import services as coop_services
from shop.cooperatives.models import Cooperative, CooperativeStatus, Locality, Sector
from shop.extensions import db
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import page_text

TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY
CERTS = ("vietgap", "pgs_organic", "traceability_qr")


# --------------------------------------------------------------------------- reference


def sql_facet_counts(f: queries.Filters, day: date) -> dict:
    """Each facet counted by its own grouped SQL query: the former implementation."""

    def grouped(skip, key, join_certs=False):
        stmt = queries.public_products()
        if join_certs:
            stmt = stmt.join(ProductCertification, ProductCertification.product_id == Product.id)
        stmt = stmt.with_only_columns(key, func.count(Product.id)).where(
            *queries.filter_conditions(f, day, skip)
        )
        return {k: n for k, n in db.session.execute(stmt.group_by(key)) if n}

    def small(skip):
        """Count with every filter but `skip` among the three small facets."""
        g = queries.Filters(**{**f.__dict__})
        setattr(g, skip, None if skip != "in_season" else False)
        return queries.filter_conditions(g, day)

    def counted(conditions):
        stmt = queries.public_products().with_only_columns(func.count(Product.id))
        return db.session.scalar(stmt.where(*conditions))

    ocop = {
        level: counted([*small("ocop_min"), queries.valid_stars(day) >= level])
        for level in queries.OCOP_LEVELS
    }
    price = {
        key: counted([*small("price"), queries.price_in_band(key)]) for key in queries.PRICE_BANDS
    }
    return {
        "sectors": grouped("sector", Product.sector_id),
        "categories": grouped("category", Product.category_id),
        "localities": grouped("locality", Cooperative.locality_id),
        "certifications": grouped(
            "certification", ProductCertification.certification_code, join_certs=True
        ),
        "ocop": ocop,
        "price": price,
        "in_season": counted([*small("in_season"), queries.in_season(day)]),
        "total": counted(queries.filter_conditions(f, day)),
    }


def as_plain(facets: queries.Facets) -> dict:
    def nonzero(rows, key="id"):
        return {getattr(row, key): n for row, n in rows if n}

    return {
        "sectors": nonzero(facets.sectors),
        "categories": nonzero(facets.categories),
        "localities": nonzero(facets.localities),
        "certifications": nonzero(facets.certifications, "code"),
        "ocop": facets.ocop,
        "price": facets.price,
        "in_season": facets.in_season,
        "total": facets.total,
    }


# --------------------------------------------------------------------------- data


def random_shop(rng: random.Random, products: int = 80) -> dict:
    """Cooperatives over four communes and three sectors, products of every kind of facet."""
    load_taxonomy()
    sectors = list(db.session.scalars(select(Sector).order_by(Sector.id)))[:3]
    categories = list(db.session.scalars(select(Category).order_by(Category.id)))[:5]
    localities = list(db.session.scalars(select(Locality).order_by(Locality.id)))[:4]
    statuses = [CooperativeStatus.VERIFIED] * 6 + [
        CooperativeStatus.SUSPENDED,
        CooperativeStatus.PENDING,
    ]
    coops = [
        create_cooperative(
            sector=rng.choice(sectors), locality=rng.choice(localities), status=status
        )
        for status in statuses
    ]
    made = []
    for _ in range(products):
        price = rng.choice([None, 20_000, 60_000, 150_000, 300_000, 900_000])
        made.append(
            create_product(
                rng.choice(coops),
                category=rng.choice(categories),
                price_vnd=price,
                ocop_stars=rng.choice([0, 3, 4, 5]),
                ocop_expires_on=TODAY + timedelta(days=rng.choice([-30, -1, 0, 1, 400])),
                certifications=rng.sample(CERTS, rng.randint(0, 3)),
                season_months=rng.randint(0, 4095),
                status=rng.choice([ProductStatus.PUBLISHED] * 4 + [ProductStatus.DRAFT]),
            )
        )
    db.session.commit()
    return {"sectors": sectors, "categories": categories, "localities": localities, "coops": coops}


def random_filters(rng: random.Random, world: dict) -> queries.Filters:
    def maybe(values):
        return rng.choice([None, None, *values])

    return queries.Filters(
        sector=maybe(world["sectors"]),
        category=maybe(world["categories"]),
        locality=maybe(world["localities"]),
        ocop_min=maybe(queries.OCOP_LEVELS),
        certifications=tuple(rng.sample(CERTS, rng.choice([0, 0, 1, 2]))),
        price=maybe(list(queries.PRICE_BANDS)),
        in_season=rng.random() < 0.3,
    )


# --------------------------------------------------------------------------- the fold


def test_fold_equals_per_facet_sql_counts_on_random_filter_states(blank_db):
    rng = random.Random(20261126)
    world = random_shop(rng)
    states = [queries.Filters()] + [random_filters(rng, world) for _ in range(60)]
    with blank_db.app_context():  # through the cache, as a page reads them
        for filters in states:
            expected = sql_facet_counts(filters, TODAY)
            assert as_plain(queries.facet_counts(filters, TODAY)) == expected, filters


def test_fold_with_a_search_query_or_a_cooperative_counts_only_those(blank_db):
    rng = random.Random(7)
    world = random_shop(rng, products=40)
    coop = world["coops"][0]
    for filters in [
        queries.Filters(cooperative=coop),
        queries.Filters(cooperative=coop, price="lien-he", ocop_min=3),
    ]:
        assert as_plain(queries.facet_counts(filters, TODAY)) == sql_facet_counts(filters, TODAY)


def test_a_row_failing_two_filters_counts_nowhere():
    table = [(1, 10, 100, 3, "duoi-50k", 1, frozenset({"vietgap"}), 2)]
    both_wrong = queries.Filters(ocop_min=4, price="tren-500k")
    counts = queries.fold_facets(table, both_wrong)
    assert counts["total"] == 0 and counts["sector"] == {} and counts["stars"] == {}
    one_wrong = queries.Filters(ocop_min=4)
    counts = queries.fold_facets(table, one_wrong)
    assert counts["total"] == 0 and counts["sector"] == {}
    assert counts["stars"] == {3: 2}  # its own facet still shows it


def test_combination_table_merges_certification_sets_in_any_order(blank_db):
    load_taxonomy()
    coop = create_cooperative()
    create_product(coop, certifications=["vietgap", "pgs_organic"], price_vnd=20_000)
    create_product(coop, certifications=["pgs_organic", "vietgap"], price_vnd=20_000)
    db.session.commit()
    table = queries.combinations(TODAY)
    assert len(table) == 1 and table[0][-1] == 2
    assert table[0][6] == frozenset({"vietgap", "pgs_organic"})


# --------------------------------------------------------------------------- freshness


@pytest.fixture
def live(blank_db):
    """One cooperative with two published products, a staff member, and a client."""
    load_taxonomy()
    coop = create_cooperative(slug="htx-tuoi")
    first = create_product(coop, slug="rau-1", certifications=["vietgap"])
    second = create_product(coop, slug="rau-2", certifications=[])
    staff = create_user(Role.STAFF)
    db.session.commit()
    return {
        "coop": coop.id,
        "first": first.id,
        "second": second.id,
        "staff": staff,
        "client": blank_db.test_client(),
        "app": blank_db,
    }


def shown(client, url="/san-pham") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return page_text(response)


def found(client) -> int:
    match = re.search(r"(\d+) sản phẩm", shown(client))
    return int(match.group(1))


def version(app):
    return queries.catalogue_version()  # on the test's session: no context to close it


def test_archive_and_publish_move_the_version_and_the_counts(live):
    client, app, staff = live["client"], live["app"], live["staff"]
    assert found(client) == 2
    first = db.session.get(Product, live["first"])
    before = version(app)
    services.archive(first, staff)
    db.session.commit()
    assert version(app) != before
    assert found(client) == 1

    first = db.session.get(Product, live["first"])
    services.restore(first, staff)
    services.submit(first, staff)
    db.session.commit()
    assert found(client) == 1  # waiting for review: not public yet
    first = db.session.get(Product, live["first"])
    before = version(app)
    services.approve(first, staff)
    db.session.commit()
    assert version(app) != before
    assert found(client) == 2


def test_suspension_and_lift_move_the_version_and_the_counts(live):
    client, app, staff = live["client"], live["app"], live["staff"]
    assert found(client) == 2
    before = version(app)
    with app.test_request_context():  # the service notifies the owners in their language
        coop = db.session.get(Cooperative, live["coop"])
        coop_services.suspend(db.session.merge(staff), coop, "Kiểm tra hồ sơ")
        db.session.commit()
    assert version(app) != before
    assert found(client) == 0

    before = version(app)
    with app.test_request_context():
        coop = db.session.get(Cooperative, live["coop"])
        coop_services.lift(db.session.merge(staff), coop)
        db.session.commit()
    assert version(app) != before
    assert found(client) == 2


def test_a_certification_edit_moves_the_version_and_the_counts(live):
    client, app, staff = live["client"], live["app"], live["staff"]
    product = db.session.get(Product, live["second"])
    with app.app_context():
        counts = queries.facet_counts(queries.Filters(), TODAY)
    assert dict((k.code, n) for k, n in counts.certifications)["vietgap"] == 1
    shown(client)  # fills the cache
    before = version(app)
    revision = services.update_product(product, staff, {"certifications": ["vietgap"]})
    db.session.commit()
    assert version(app) == before  # a pending revision changes nothing live
    services.approve_revision(db.session.get(ProductRevision, revision.id), staff)
    db.session.commit()
    assert version(app) != before
    assert found_in(client.get("/san-pham?cert=vietgap")) == 2


def found_in(response) -> int:
    return int(re.search(r"(\d+) sản phẩm", page_text(response)).group(1))


def test_a_change_outside_the_services_shows_within_the_time_to_live(live, monkeypatch):
    client, app = live["client"], live["app"]
    assert found_in(client.get("/san-pham?cert=vietgap")) == 1
    # Raw SQL moves no updated_at: the cached table is served until it expires.
    db.session.execute(text("DELETE FROM product_certification"))
    db.session.commit()
    with app.app_context():
        stale = queries.facet_counts(queries.Filters(certifications=("vietgap",)), TODAY)
    assert stale.total == 1
    later = queries.time.monotonic() + queries.FACET_CACHE_SECONDS + 1
    monkeypatch.setattr(queries.time, "monotonic", lambda: later)
    with app.app_context():
        fresh = queries.facet_counts(queries.Filters(certifications=("vietgap",)), TODAY)
    assert fresh.total == 0


# --------------------------------------------------------------------------- the cache


def test_the_cache_is_per_app_and_database(app, blank_app):
    assert queries.FacetCache.of(app) is queries.FacetCache.of(app)
    assert queries.FacetCache.of(app) is not queries.FacetCache.of(blank_app)
    assert queries.FacetCache.of(app).prefix != queries.FacetCache.of(blank_app).prefix


def test_another_apps_counts_are_never_served(app, live):
    # The demo app's cache holds a table under exactly the key this database has now…
    key = (TODAY.isoformat(), *version(live["app"]))
    poisoned = [(1, 1, 1, 0, "lien-he", 0, frozenset(), 999)]
    queries.FacetCache.of(app).get(key, lambda: poisoned)
    # …and this app still counts its own two products.
    assert found(live["client"]) == 2


def test_a_second_request_reads_no_combination_table(live, count_queries):
    client = live["client"]
    client.get("/san-pham")
    with count_queries() as cold:
        client.get("/san-pham?price=duoi-50k")
    queries.FacetCache.of(live["app"]).clear()
    with count_queries() as miss:
        client.get("/san-pham?price=duoi-50k")
    # The grouped query, once per version (the certification kinds come with the facets).
    assert miss.count == cold.count + 1


def test_statement_count_does_not_grow_with_products(blank_db, count_queries):
    load_taxonomy()
    categories = list(db.session.scalars(select(Category).order_by(Category.id)))[:4]
    coop = create_cooperative()
    client = blank_db.test_client()

    def measure():
        counts = []
        for url in ("/san-pham", "/san-pham?cert=vietgap&price=duoi-50k&ocop=3", "/san-pham"):
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append(counter.count)
        return counts

    # The vocabularies are read once and kept while they stand: both measures find them kept.
    db.session.commit()
    assert client.get("/san-pham").status_code == 200
    for i in range(5):
        create_product(coop, category=categories[i % 4])
    db.session.commit()
    small = measure()
    for i in range(60):
        create_product(create_cooperative(), category=categories[i % 4], certifications=CERTS)
    db.session.commit()
    assert measure() == small


def test_each_choice_of_filters_is_folded_once_per_table(live, monkeypatch):
    folds = []
    real = queries.fold_facets
    monkeypatch.setattr(queries, "fold_facets", lambda t, f: folds.append(1) or real(t, f))
    client = live["client"]
    for url in ("/san-pham", "/san-pham?sort=price_asc", "/san-pham?price=duoi-50k", "/san-pham"):
        assert client.get(url).status_code == 200
    assert len(folds) == 2  # no filter, and one price band: the sort is not a facet


def test_redis_shares_the_table_between_workers(blank_db, redis_server, monkeypatch):
    load_taxonomy()
    create_product(create_cooperative())
    db.session.commit()
    monkeypatch.setitem(blank_db.config, "REDIS_URL", f"redis://127.0.0.1:{redis_server.port}/0")
    first, second = queries.FacetCache(blank_db), queries.FacetCache(blank_db)
    key = ("2026-11-26", "test", str(random.random()))
    with blank_db.app_context():
        table = first.get(key, lambda: queries.combinations(TODAY))
    assert table and second.get(key, lambda: pytest.fail("computed twice")) == table
    first.redis.delete(first._redis_key(key))


def test_an_unreachable_redis_only_costs_the_cache(blank_db, monkeypatch):
    monkeypatch.setitem(blank_db.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    cache = queries.FacetCache(blank_db)
    assert cache.get(("k",), lambda: [(1, 2, 3, 0, "lien-he", 0, frozenset(), 1)])


def test_certification_kinds_listed_even_without_products(live):
    with live["app"].app_context():
        counts = queries.facet_counts(queries.Filters(), TODAY)
    kinds = db.session.scalar(select(func.count(CertificationKind.code)))
    assert len(counts.certifications) == kinds  # zero counts too: the template leaves them out


# --------------------------------------------------------------------------- in a browser


@pytest.mark.browser
def test_every_count_shown_is_the_number_of_results_it_leads_to(browser, live_server, tmp_path):
    """On a desktop, each certification's count is what ticking it then shows (served cached)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    page.goto("/san-pham?sector=nong-nghiep")
    boxes = page.locator("fieldset.facet-checks label.check")
    shown = {}
    for i in range(boxes.count()):
        label = boxes.nth(i)
        code = label.locator("input").get_attribute("value")
        shown[code] = int(re.sub(r"\D", "", label.locator(".count").inner_text()))
    assert shown
    page.screenshot(path=str(tmp_path / "catalogue-desktop.png"), full_page=True)
    for code, count in shown.items():
        page.goto(f"/san-pham?sector=nong-nghiep&cert={code}")
        text = page.locator(".result-count").inner_text()
        assert int(re.sub(r"\D", "", text)) == count, code
    context.close()


# --------------------------------------------------------------------------- stale while revalidate


@pytest.fixture(scope="module")
def background_app(database_factory):
    """An app that rebuilds counts in the background, on a database its writes really reach.

    A background rebuild reads through a connection of its own, which would not see the
    rolled-back transaction the other tests write in: these tests commit.
    """
    from flask_migrate import upgrade

    from shop import create_app
    from tests.conftest import make_config

    url = database_factory("facets_background")
    app = create_app(make_config(url, FACET_COUNTS_IN_BACKGROUND=True))
    with app.app_context():
        upgrade()
        load_taxonomy()
        create_product(create_cooperative(slug="htx-nen"), certifications=["vietgap"])
        db.session.commit()
    yield app
    queries.FacetCache.of(app).join(10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def background(background_app):
    """The background app with nothing cached, and no rebuild left running afterwards."""
    cache = queries.FacetCache.of(background_app)
    cache.join(10)
    cache.clear()
    yield background_app
    cache.join(10)


def publish_one(app, **values) -> str:
    """Publish one more product, committed: the catalogue version moves."""
    with app.app_context():
        coop = db.session.scalar(select(Cooperative).where(Cooperative.slug == "htx-nen"))
        slug = create_product(coop, **values).slug
        db.session.commit()
    return slug


class HeldRebuilds:
    """Background rebuilds wait for `release`; `calls` names the thread of each grouping."""

    def __init__(self):
        self.release = threading.Event()
        self.calls: list[str] = []


@pytest.fixture
def held(monkeypatch):
    gate = HeldRebuilds()
    real = queries.combinations

    def waiting(*args, **kwargs):
        name = threading.current_thread().name
        gate.calls.append(name)
        if name == "facet-counts":
            assert gate.release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "combinations", waiting)
    yield gate
    gate.release.set()


def test_after_a_change_the_next_page_counts_from_the_previous_table(
    background, held, count_queries
):
    client = background.test_client()
    before = found(client)  # nothing at hand yet: this request builds the first table
    assert held.calls == ["MainThread"]
    slug = publish_one(background)
    with count_queries() as counter:
        response = client.get("/san-pham")
    # The previous counts, beside a listing that already shows the new product…
    assert response.status_code == 200
    assert found_in(response) == before
    assert f'href="/san-pham/{slug}"' in response.get_data(as_text=True)
    # …without the grouped query: it waits in the background.
    assert not [s for s in counter.statements if "GROUP BY" in s]
    assert counter.count <= 6
    assert held.calls == ["MainThread", "facet-counts"]
    held.release.set()
    queries.FacetCache.of(background).join(10)
    assert found(client) == before + 1  # caught up


def test_two_requests_at_once_start_one_rebuild(background, held):
    client = background.test_client()
    before = found(client)
    publish_one(background)
    barrier = threading.Barrier(2)
    seen = []

    def visit():
        other = background.test_client()
        barrier.wait(10)
        seen.append(found(other))

    visitors = [threading.Thread(target=visit) for _ in range(2)]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join(20)
    assert seen == [before, before]
    assert found(client) == before  # a third, while the rebuild still runs
    held.release.set()
    queries.FacetCache.of(background).join(10)
    assert held.calls == ["MainThread", "facet-counts"]
    assert found(client) == before + 1


def test_a_failed_rebuild_keeps_the_old_counts_and_is_tried_again(background, monkeypatch):
    client = background.test_client()
    before = found(client)
    publish_one(background)
    real, failures = queries.combinations, []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(threading.current_thread().name)
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "combinations", flaky)
    cache = queries.FacetCache.of(background)
    assert found(client) == before
    cache.join(10)
    assert failures == ["facet-counts"]
    assert found(client) == before  # still the old counts; this request starts another
    cache.join(10)
    assert found(client) == before + 1


def test_a_table_past_its_time_to_live_is_served_while_it_is_rebuilt(background, monkeypatch):
    client = background.test_client()
    before = found_in(client.get("/san-pham?cert=haccp"))
    # Raw SQL moves no updated_at: only the time to live brings the change in.
    with background.app_context():
        holders = select(ProductCertification.product_id).where(
            ProductCertification.certification_code == "haccp"
        )
        product = db.session.scalar(select(Product.id).where(~Product.id.in_(holders)).limit(1))
        db.session.execute(
            text(
                "INSERT INTO product_certification (product_id, certification_code, verified) "
                "VALUES (:id, 'haccp', :no)"
            ),
            {"id": product, "no": False},
        )
        db.session.commit()
    assert found_in(client.get("/san-pham?cert=haccp")) == before
    later = queries.time.monotonic() + queries.FACET_CACHE_SECONDS + 1
    monkeypatch.setattr(queries.time, "monotonic", lambda: later)
    assert found_in(client.get("/san-pham?cert=haccp")) == before  # served, and rebuilt…
    queries.FacetCache.of(background).join(10)
    assert found_in(client.get("/san-pham?cert=haccp")) == before + 1  # …for the next one


def rows_of(n: int) -> list:
    return [(1, 1, 1, 0, "lien-he", 0, frozenset({"vietgap"}), n)]


def test_workers_sharing_redis_rebuild_once_and_share_the_table(
    blank_app, redis_server, monkeypatch
):
    monkeypatch.setitem(blank_app.config, "REDIS_URL", f"redis://127.0.0.1:{redis_server.port}/0")
    monkeypatch.setitem(blank_app.config, "FACET_COUNTS_IN_BACKGROUND", True)
    first, second = queries.FacetCache(blank_app), queries.FacetCache(blank_app)
    first.prefix = second.prefix = f"chohtx:test:{uuid.uuid4().hex}"
    release, built = threading.Event(), []

    def build():
        built.append(threading.current_thread().name)
        assert release.wait(10)
        return rows_of(6)

    try:
        assert first.get(("v1",), lambda: rows_of(5)) == rows_of(5)  # nothing anywhere yet
        # The version moves. Both workers serve what they have (the second, which has
        # nothing of its own, the newest table in Redis) and only one builds the new table.
        assert first.get(("v2",), build) == rows_of(5)
        assert second.get(("v2",), build) == rows_of(5)
        release.set()
        first.join(10)
        second.join(10)
        assert built == ["facet-counts"]
        assert first.get(("v2",), build) == second.get(("v2",), build) == rows_of(6)
        assert built == ["facet-counts"]
    finally:
        release.set()
        first.join(10)
        second.join(10)
        first.redis.delete(*first.redis.keys(f"{first.prefix}:*") or ["-"])


def test_an_unreachable_redis_rebuilds_in_this_process(blank_app, monkeypatch):
    monkeypatch.setitem(blank_app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(blank_app.config, "FACET_COUNTS_IN_BACKGROUND", True)
    cache = queries.FacetCache(blank_app)
    assert cache.get(("v1",), lambda: rows_of(5)) == rows_of(5)
    assert cache.get(("v2",), lambda: rows_of(6)) == rows_of(5)
    cache.join(10)
    assert cache.get(("v2",), lambda: pytest.fail("built twice")) == rows_of(6)
