"""Search at scale: the ranking tiers read from the index, deep pages, the capped count.

shop.search.queries reads the results tier by tier, newest first inside a tier, and stops at
the page's end. These tests hold the rule where it could slip: an exact match among a
thousand ordinary ones, every tier in its place whatever the age of its products, the page
that straddles two tiers, the last page under the cap, and what the index holds per product.
"""

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text

from shop import create_app
from shop.catalog.models import Category, Product, ProductStatus
from shop.db import utcnow
from shop.extensions import db
from shop.search import index, queries
from shop.search.models import TABLE
from shop.search.queries import search_products
from shop.search.terms import parse_query
from tests.conftest import make_config
from tests.factories import create_cooperative, create_product, load_taxonomy
from tests.helpers import page_text


def card_slugs(response) -> list[str]:
    """The product links of the result cards, in page order."""
    html = response.get_data(as_text=True)
    return re.findall(r'class="card-link" href="/san-pham/([^"]+)"', html)


def ranked_slugs(q: str) -> list[str]:
    """Every match in ranking order, as the catalogue and the API read it (all at once)."""
    return [p.slug for p in db.session.scalars(search_products(parse_query(q))).unique()]


def bulk_products(coop, names: list[str], description: str = "Hàng làm thủ công.") -> list[int]:
    """Insert many published products at once and index them; their ids, oldest first."""
    category = db.session.scalar(select(Category).order_by(Category.sort_order))
    now = utcnow()
    start = db.session.scalar(select(Product.id).order_by(Product.id.desc()).limit(1)) or 0
    rows = [
        {
            "slug": f"hang-loat-{start + n}",
            "cooperative_id": coop.id,
            "sector_id": coop.sector_id,
            "category_id": category.id,
            "name_vi": name,
            "description_vi": description,
            "unit_code": "kg",
            "price_vnd": 50000,
            "status": ProductStatus.PUBLISHED,
            "published_at": now,
            "min_order_qty": 1,
            "ocop_stars": 0,
            "season_months": 4095,
            "created_at": now,
            "updated_at": now,
        }
        for n, name in enumerate(names, start=1)
    ]
    ids = list(db.session.scalars(insert(Product).returning(Product.id), rows))
    index.reindex(db.session.connection(), ids)
    return sorted(ids)


@pytest.fixture
def shop(blank_db):
    load_taxonomy()
    return blank_db


# --------------------------------------------------------------------------- the rule


def test_an_exact_match_among_a_thousand_ordinary_ones_comes_first(shop):
    coop = create_cooperative(name="HTX Làng nghề Thử")
    exact = create_product(coop, name_vi="Tranh Đông Hồ lợn đàn")  # the oldest of them all
    bulk_products(coop, [f"Đồng hồ treo tường mẫu {n}" for n in range(1100)])
    db.session.commit()
    client = shop.test_client()

    typed = client.get("/tim-kiem?q=đông+hồ")
    assert card_slugs(typed)[0] == exact.slug
    assert "Hơn 1.000 sản phẩm khớp với “đông hồ”" in page_text(typed)
    # Without diacritics nothing is exact: the newest of the 1,101 comes first.
    plain = card_slugs(client.get("/tim-kiem?q=dong+ho"))
    assert plain[0] != exact.slug and exact.slug not in plain
    # Suggestions are the first results.
    suggested = client.get("/tim-kiem/goi-y?q=đông+hồ").get_json()["suggestions"]
    assert suggested[0]["label"] == "Tranh Đông Hồ lợn đàn"


@pytest.mark.parametrize(
    "few, window",
    [(queries.FEW_MATCHES, queries.RECENT_WINDOW), (0, queries.RECENT_WINDOW), (0, 3)],
    ids=["sorted at once", "tier by tier", "tier by tier, newest 3 then the index"],
)
def test_every_tier_in_its_place_whatever_the_age_of_its_products(shop, monkeypatch, few, window):
    """Best tier first; inside a tier the newest listed first. Created worst tier first.

    PostgreSQL sorts the matches of a query that has few at once, else reads tier by tier,
    each first among the newest entries and then through the index among the older ones
    (with a window of 3, most tiers straddle it): every way gives this order.
    """
    monkeypatch.setattr(queries, "FEW_MATCHES", few)
    monkeypatch.setattr(queries, "RECENT_WINDOW", window)
    plain_coop = create_cooperative(name="HTX Nông sản Thử")
    honey_coop = create_cooperative(name="HTX Mật ong rừng Thử")
    made = {}

    def make(key, coop, name, description="Sản phẩm của hợp tác xã."):
        made[key] = create_product(coop, name_vi=name, description_vi=description).slug

    make("rest, older", plain_coop, "Kẹo gừng", "Nấu với mật ong rừng.")
    make("rest", plain_coop, "Kẹo lạc", "Nấu với mật ong rừng.")
    make("words in names", plain_coop, "Ong mat rung")
    make("phrase in context", honey_coop, "Nến sáp")
    make("phrase in a name", plain_coop, "Mat ong rung nuoi")
    make("exact, words in names", plain_coop, "Ong rừng cho mật")
    make("exact, phrase in context", honey_coop, "Sáp ong rừng, mật")
    make("exact, phrase in a name, older", plain_coop, "Mật ong rừng U Minh")
    make("exact, phrase in a name", plain_coop, "Mật ong rừng Tam Đảo")
    make("no match", plain_coop, "Mật ong hoa nhãn")
    db.session.commit()
    expected = [
        made[key]
        for key in (
            "exact, phrase in a name",
            "exact, phrase in a name, older",
            "exact, phrase in context",
            "exact, words in names",
            "phrase in a name",
            "phrase in context",
            "words in names",
            "rest",
            "rest, older",
        )
    ]
    client = shop.test_client()
    assert card_slugs(client.get("/tim-kiem?q=mật+ong+rừng")) == expected
    assert ranked_slugs("mật ong rừng") == expected  # the catalogue's and the API's order
    # Typed without diacritics there is no exact tier: where the words stand, then recency.
    plain = card_slugs(client.get("/tim-kiem?q=mat+ong+rung"))
    names = [made[key] for key in ("exact, phrase in a name", "exact, phrase in a name, older")]
    assert plain[:3] == [*names, made["phrase in a name"]]
    assert plain == ranked_slugs("mat ong rung")


def test_a_page_straddling_two_tiers_and_the_last_page_under_the_cap(shop, monkeypatch):
    monkeypatch.setitem(shop.config, "PRODUCTS_PER_PAGE", 24)
    coop = create_cooperative(name="HTX Thử Sứ")
    # 610 names hold the word (tier "phrase in a name"), 450 only their description: the
    # boundary falls on page 26 (results 601-624), after 25 full pages of names.
    in_names = bulk_products(coop, [f"Bình gốm men lam số {n}" for n in range(610)])
    bulk_products(coop, [f"Bình men lam số {n}" for n in range(450)], "Làm bằng gốm nung củi.")
    db.session.commit()
    client = shop.test_client()
    expected = ranked_slugs("gom")
    assert len(expected) == 1060

    page26 = client.get("/tim-kiem?q=gom&page=26")
    assert card_slugs(page26) == expected[600:624]
    slugs = dict(db.session.execute(select(Product.slug, Product.id)).all())
    assert [slugs[s] in in_names for s in card_slugs(page26)] == [True] * 10 + [False] * 14
    # 1,060 matches, 1,000 shown: page 42 holds results 985-1000, page 43 is not offered.
    last = client.get("/tim-kiem?q=gom&page=42")
    assert card_slugs(last) == expected[984:1000]
    assert "Trang 42 / 42" in page_text(last)
    assert client.get("/tim-kiem?q=gom&page=43").status_code == 404
    assert card_slugs(client.get("/tim-kiem?q=gom")) == expected[:24]


def test_a_deep_page_runs_as_many_statements_as_the_first(shop, count_queries):
    coop = create_cooperative(name="HTX Thử Đếm")
    bulk_products(coop, [f"Chiếu cói Kim Sơn số {n}" for n in range(300)])
    db.session.commit()
    client = shop.test_client()
    counts = []
    for url in ("/tim-kiem?q=chieu+coi", "/tim-kiem?q=chieu+coi&page=12"):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 4


# --------------------------------------------------------------------------- the index


def test_an_entry_holds_marked_words(shop):
    coop = create_cooperative(name="HTX Gốm Thổ Hà")
    product = create_product(coop, name_vi="Bình gốm", name_en="Clay vase")
    if db.session.get_bind().dialect.name == "sqlite":
        sql = f"SELECT body, marks FROM {TABLE} WHERE rowid = :id"
        body, marks = db.session.execute(text(sql), {"id": product.id}).one()
        assert body.startswith("binh gom clay vase ")
        # A lone NAME mark between the two names: no phrase runs from one into the other.
        assert marks.startswith("=binh =gom = =clay =vase @")
        assert "@tho @ha" in marks and marks.endswith("^bình ^gốm ^clay ^vase")
    else:
        sql = f"SELECT tsvector_to_array(document) FROM {TABLE} WHERE product_id = :id"
        lexemes = set(db.session.scalar(text(sql), {"id": product.id}))
        assert {"binh", "gom", "=binh", "=clay", "@tho", "^bình", "^gốm"} <= lexemes
        assert {"b~", "bi~", "bin~", "=g~", "=go~", "@th~", "^b~", "^bì~", "^gốm~"} <= lexemes


def test_marks_typed_in_a_query_are_only_separators(shop):
    coop = create_cooperative()
    create_product(coop, name_vi="Chè búp Thái")
    db.session.commit()
    client = shop.test_client()
    for q in ("=che", "@che", "^chè", "che~", "=", "^", "~"):
        response = client.get("/tim-kiem", query_string={"q": q})
        assert response.status_code == 200
    assert parse_query("=che ^búp").terms == ("che", "bup")
    assert card_slugs(client.get("/tim-kiem?q=%3Dche"))  # "=che" finds "Chè"


@pytest.mark.migrations
def test_upgrading_to_0011_rebuilds_the_index(database_factory):
    """From migration 0010's index (the 0007 shape) to this one, products found at once."""
    app = create_app(make_config(database_factory("search_0011")))
    with app.app_context():
        upgrade()
        load_taxonomy()
        create_product(create_cooperative(), name_vi="Nón lá Chuông")
        db.session.commit()
        downgrade(revision="0010")
        upgrade()
        found = db.session.scalars(search_products(parse_query("non la chuong"))).unique()
        assert [p.name_vi for p in found] == ["Nón lá Chuông"]
        db.session.remove()
        db.engine.dispose()


def test_the_tiers_partition_the_matches(shop):
    """Each match is in exactly one tier, and every tier's product matches every term."""
    coop = create_cooperative(name="HTX Tương Bần Thử")
    create_product(coop, name_vi="Tương Bần hũ nhỏ")
    create_product(coop, name_vi="Tương nếp", description_vi="Làm theo cách của làng Bần.")
    create_product(create_cooperative(), name_vi="Bần chua", description_vi="Không phải tương.")
    create_product(create_cooperative(), name_vi="Nước mắm")
    for q in ("tương bần", "tuong ban", "ban", "bần"):
        query = parse_query(q)
        ids = []
        for _exact, _phrase, stmt in queries.tiers(query):
            ids += list(db.session.scalars(stmt))
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(db.session.scalars(queries.matches(query)))
