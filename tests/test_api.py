"""The public JSON API v1: shapes, filters, keyset pages, errors, caching, CORS and costs."""

import base64
import json
from datetime import date

import pytest
from sqlalchemy import select

from shop.api import params
from shop.api.openapi import document
from shop.catalog.models import Product, ProductImage, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db, limiter
from shop.media.models import StoredImage
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import page_text

TODAY = "2026-11-26"  # TestConfig.SHOP_TODAY
PRODUCT = "cai-ngong-vietgap"


@pytest.fixture(autouse=True)
def generous_limit(app, monkeypatch):
    """Every test client is 127.0.0.1: keep the shared per-address budget out of the way."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")


def get_json(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def walk(client, url) -> list[dict]:
    """Every item of a list, page after page through next_url."""
    items = []
    seen_cursors = set()
    while url:
        body = get_json(client, url)
        items += body["items"]
        assert body["next_cursor"] not in seen_cursors
        seen_cursors.add(body["next_cursor"])
        url = body["next_url"]
    return items


def public_product_slugs() -> list[str]:
    """Published products of verified cooperatives, newest listed (highest id) first."""
    return db.session.scalars(
        select(Product.slug)
        .join(Product.cooperative)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Cooperative.status == CooperativeStatus.VERIFIED,
        )
        .order_by(Product.id.desc())
    ).all()


def add_photo(product, n: int, width=1200, height=900, position=0) -> StoredImage:
    stored = StoredImage(
        sha256=f"{n:064x}", mime_type="image/jpeg", width=width, height=height, byte_size=1000
    )
    db.session.add(stored)
    db.session.flush()
    db.session.add(
        ProductImage(
            product_id=product.id,
            image_id=stored.id,
            position=position,
            alt_vi="Ảnh thử",
            alt_en=None,
        )
    )
    db.session.flush()
    return stored


# --------------------------------------------------------------------------- shapes


def test_a_product_in_full(client, demo):
    body = get_json(client, f"/api/v1/products/{PRODUCT}")
    source = next(p for p in demo["products"] if p["slug"] == PRODUCT)
    assert body["slug"] == PRODUCT
    assert body["name"] == {"vi": source["name_vi"], "en": source["name_en"]}
    assert body["description"]["vi"] == source["description_vi"]
    assert body["category"] == {
        "slug": "rau-cu-qua-tuoi",
        "name": {"vi": body["category"]["name"]["vi"], "en": body["category"]["name"]["en"]},
    }
    assert body["sector"]["slug"] == "nong-nghiep"
    assert body["cooperative"]["slug"] == source["cooperative"]
    assert body["cooperative"]["locality"]["slug"] == "xa-lien-bao"
    assert body["unit"]["code"] == "kg"
    assert body["price_vnd"] == 30000
    assert body["min_order"] == 1
    assert body["ocop"] == {"stars": 3, "year": 2024, "expires_on": "2027-04-18"}
    assert [c["code"] for c in body["certifications"]] == ["traceability_qr", "vietgap"]
    assert all(c["verified"] in (True, False) for c in body["certifications"])
    assert body["certifications"][1]["name"]["vi"].startswith("VietGAP")
    assert body["season_months"] == [1, 2, 3, 10, 11, 12]
    assert body["images"] == []
    assert body["url"] == f"http://localhost/san-pham/{PRODUCT}"
    assert body["updated_at"].endswith("Z") and "T" in body["updated_at"]
    assert set(body) == set(document()["components"]["schemas"]["Product"]["properties"])


def test_photos_come_with_every_size_and_their_alt_text(client):
    coop = create_cooperative()
    product = create_product(coop, slug="san-pham-co-anh")
    add_photo(product, 1, width=1200, height=900)
    add_photo(product, 2, width=500, height=500, position=1)
    db.session.commit()
    images = get_json(client, "/api/v1/products/san-pham-co-anh")["images"]
    assert len(images) == 2
    cover, small = images
    sha = f"{1:064x}"
    assert cover["alt"] == {"vi": "Ảnh thử", "en": None}
    assert cover["original_url"] == f"http://localhost/media/{sha}/master.jpg"
    assert [(s["width"], s["height"]) for s in cover["sizes"]] == [
        (320, 240),
        (800, 600),
        (1200, 900),
    ]
    assert cover["sizes"][0]["url"] == f"http://localhost/media/{sha}/320.webp"
    # Never wider than the original: a 500 px photo has two distinct sizes, not three.
    assert [s["width"] for s in small["sizes"]] == [320, 500]


def test_price_on_request_is_null_and_english_falls_back_to_null(client):
    coop = create_cooperative()
    create_product(coop, slug="gia-lien-he", price_vnd=None, name_en=None)
    db.session.commit()
    body = get_json(client, "/api/v1/products/gia-lien-he")
    assert body["price_vnd"] is None
    assert body["name"]["en"] is None and body["name"]["vi"]


def test_a_cooperative_in_full(client, demo):
    source = demo["cooperatives"][0]
    body = get_json(client, f"/api/v1/cooperatives/{source['slug']}")
    assert body["name"] == {"vi": source["name"], "en": source["name_en"]}
    assert body["legal_form"] == "hop_tac_xa"
    assert body["sector"]["slug"] == source["sector"]
    assert body["locality"]["slug"] == source["locality"]
    assert body["locality"]["district_2022"]["vi"] == "Huyện Tiên Du"
    assert body["founded_year"] == source["founded_year"]
    assert body["member_count"] == source["member_count"]
    # The registration number is public registry data; demo codes say they are made up.
    assert body["tax_code"] == source["tax_code"]
    assert body["tax_code_is_demo"] is True
    assert body["contacts"] == {
        "phone": source["phone"],
        "zalo": source["zalo"],
        "email": source["email"],
        "website": None,
    }
    expected = sum(
        1
        for p in demo["products"]
        if p["cooperative"] == source["slug"] and p["status"] == "approved"
    )
    assert body["product_count"] == expected
    assert body["logo"] is None
    assert body["url"] == f"http://localhost/htx/{source['slug']}"
    assert set(body) == set(document()["components"]["schemas"]["Cooperative"]["properties"])


def test_programmes_and_one_with_its_booths(client, demo):
    items = get_json(client, "/api/v1/programmes")["items"]
    assert [p["slug"] for p in items] == [
        e["slug"] for e in sorted(demo["events"], key=lambda e: e["start_date"], reverse=True)
    ]
    event = next(e for e in demo["events"] if e["start_date"] == "2022-12-23")
    listed = next(p for p in items if p["slug"] == event["slug"])
    assert listed["timing"] == "past"
    assert listed["start_date"] == "2022-12-23"
    assert listed["is_demo_reconstruction"] is True
    body = get_json(client, f"/api/v1/programmes/{event['slug']}")
    assert body["booth_count"] == len(body["booths"]) == len(event["booths"])
    assert [b["number"] for b in body["booths"]] == sorted(b["number"] for b in body["booths"])
    booth = body["booths"][0]
    assert booth["cooperative"]["slug"]
    assert booth["url"].startswith(f"http://localhost/chuong-trinh/{event['slug']}/gian-hang/")
    for slug in booth["featured_products"]:
        get_json(client, f"/api/v1/products/{slug}")


def test_a_booth_of_a_suspended_cooperative_shows_vacant(client):
    programme = create_programme(slug="hoi-cho-thu")
    shown = create_cooperative(slug="htx-dang-hien")
    hidden = create_cooperative(slug="htx-bi-dinh-chi")
    on_show = create_product(shown, slug="hang-trung-bay")
    draft = create_product(shown, slug="hang-nhap", status=ProductStatus.DRAFT)
    create_booth(programme, 1, shown, products=[on_show, draft])
    create_booth(programme, 2, hidden, products=[create_product(hidden, slug="hang-bi-an")])
    hidden.status = CooperativeStatus.SUSPENDED
    db.session.commit()
    booths = get_json(client, "/api/v1/programmes/hoi-cho-thu")["booths"]
    assert booths[0]["cooperative"]["slug"] == "htx-dang-hien"
    assert booths[0]["featured_products"] == ["hang-trung-bay"]
    assert booths[1] == {
        "number": 2,
        "zone": None,
        "cooperative": None,
        "featured_products": [],
        "url": None,
    }
    assert "htx-bi-dinh-chi" not in json.dumps(booths)


def test_the_index_points_to_everything(client):
    body = get_json(client, "/api/v1/")
    assert body["openapi_url"] == "http://localhost/api/v1/openapi.json"
    assert body["documentation_url"] == "http://localhost/api"
    for name, url in body["resources"].items():
        assert get_json(client, url)["items"], name


def test_the_openapi_document_is_valid_openapi_3_1(client):
    import jsonschema_rs
    import schemathesis

    raw = get_json(client, "/api/v1/openapi.json")
    assert raw["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(raw).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in raw["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name  # each is valid JSON Schema 2020-12
    products = raw["paths"]["/products"]["get"]
    assert {p["name"] for p in products["parameters"]} == {
        "q",
        "sector",
        "category",
        "locality",
        "ocop_min",
        "certification",
        "price_min",
        "price_max",
        "cursor",
        "limit",
    }


def test_documented_objects_forbid_unknown_properties():
    def objects(schema):
        if isinstance(schema, dict):
            if schema.get("type") == "object":
                yield schema
            for value in schema.values():
                yield from objects(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from objects(value)

    found = list(objects(document()["components"]["schemas"]))
    assert len(found) > 10
    assert all(o["additionalProperties"] is False for o in found)


# --------------------------------------------------------------------------- public data only


def test_only_public_products_appear(client):
    visible = create_cooperative(slug="htx-hien")
    suspended = create_cooperative(slug="htx-dinh-chi")
    create_product(visible, slug="da-duyet")
    for status in (ProductStatus.DRAFT, ProductStatus.SUBMITTED, ProductStatus.REJECTED):
        create_product(visible, slug=f"chua-duyet-{status.value}", status=status)
    create_product(suspended, slug="cua-htx-dinh-chi")
    suspended.status = CooperativeStatus.SUSPENDED
    db.session.commit()
    listed = {p["slug"] for p in walk(client, "/api/v1/products?limit=100")}
    assert "da-duyet" in listed
    assert listed == set(public_product_slugs())
    for slug in ("chua-duyet-draft", "chua-duyet-submitted", "chua-duyet-rejected"):
        assert slug not in listed
        get_json(client, f"/api/v1/products/{slug}", 404)
    assert "cua-htx-dinh-chi" not in listed
    get_json(client, "/api/v1/products/cua-htx-dinh-chi", 404)
    get_json(client, "/api/v1/cooperatives/htx-dinh-chi", 404)
    coops = {c["slug"] for c in walk(client, "/api/v1/cooperatives?limit=100")}
    assert "htx-hien" in coops and "htx-dinh-chi" not in coops
    assert get_json(client, "/api/v1/cooperatives/htx-hien")["product_count"] == 1


def test_drafts_of_programmes_are_not_public(client):
    from shop.programmes.models import ProgrammeStatus

    create_programme(slug="chuong-trinh-nhap", status=ProgrammeStatus.DRAFT)
    db.session.commit()
    assert "chuong-trinh-nhap" not in {p["slug"] for p in walk(client, "/api/v1/programmes")}
    get_json(client, "/api/v1/programmes/chuong-trinh-nhap", 404)


def test_internal_notes_and_users_never_show(client):
    coop = create_cooperative(
        slug="htx-co-ghi-chu",
        status_reason="LÝ DO NỘI BỘ của cán bộ",
        tax_code_missing_reason="GHI CHÚ THUẾ NỘI BỘ",
    )
    owner = create_user(cooperative=coop, email="chu-htx-bi-mat@example.com")
    product = create_product(
        coop,
        slug="co-ghi-chu",
        moderation_note="GHI CHÚ KIỂM DUYỆT BÍ MẬT",
        review_reasons=["LY_DO_XEM_XET_BI_MAT"],
    )
    db.session.commit()
    bodies = "".join(
        client.get(url).get_data(as_text=True)
        for url in (
            f"/api/v1/products/{product.slug}",
            "/api/v1/products?limit=100",
            "/api/v1/cooperatives/htx-co-ghi-chu",
            "/api/v1/cooperatives?limit=100",
        )
    )
    for secret in (
        "LÝ DO NỘI BỘ",
        "GHI CHÚ THUẾ",
        "GHI CHÚ KIỂM DUYỆT",
        "LY_DO_XEM_XET",
        owner.email,
        "moderation",
        "review_reasons",
        "status_reason",
    ):
        assert secret not in bodies


def test_an_expired_ocop_rating_is_reported_as_null(client, demo):
    expired = next(
        p
        for p in demo["products"]
        if p["status"] == "approved"
        and p["ocop_stars"]
        and p["ocop_expires_on"]
        and p["ocop_expires_on"] < TODAY
    )
    assert get_json(client, f"/api/v1/products/{expired['slug']}")["ocop"] is None
    rated = walk(client, "/api/v1/products?ocop_min=1&limit=100")
    assert expired["slug"] not in {p["slug"] for p in rated}
    assert all(p["ocop"] and p["ocop"]["expires_on"] >= TODAY for p in rated)


# --------------------------------------------------------------------------- filters


def test_each_filter_narrows_the_list(client):
    everything = walk(client, "/api/v1/products?limit=100")

    def expect(query, keep):
        got = [p["slug"] for p in walk(client, f"/api/v1/products?limit=100&{query}")]
        wanted = [p["slug"] for p in everything if keep(p)]
        assert got == wanted, query
        assert got, f"{query} found nothing in the demo data"

    expect("sector=tieu-thu-cong-nghiep", lambda p: p["sector"]["slug"] == "tieu-thu-cong-nghiep")
    expect("category=rau-cu-qua-tuoi", lambda p: p["category"]["slug"] == "rau-cu-qua-tuoi")
    expect("locality=xa-lien-bao", lambda p: p["cooperative"]["locality"]["slug"] == "xa-lien-bao")
    expect("ocop_min=4", lambda p: p["ocop"] is not None and p["ocop"]["stars"] >= 4)
    expect(
        "certification=vietgap",
        lambda p: "vietgap" in {c["code"] for c in p["certifications"]},
    )
    expect(
        "price_min=50000&price_max=100000",
        lambda p: p["price_vnd"] is not None and 50000 <= p["price_vnd"] <= 100000,
    )
    expect("price_max=20000", lambda p: p["price_vnd"] is not None and p["price_vnd"] <= 20000)
    expect(
        "sector=nong-nghiep&ocop_min=3&certification=vietgap",
        lambda p: (
            p["sector"]["slug"] == "nong-nghiep"
            and p["ocop"] is not None
            and "vietgap" in {c["code"] for c in p["certifications"]}
        ),
    )


def test_an_unknown_but_well_formed_name_finds_nothing(client):
    for query in (
        "sector=khong-co",
        "category=khong-co",
        "locality=khong-co",
        "certification=khong_co",
    ):
        body = get_json(client, f"/api/v1/products?{query}")
        assert body == {"items": [], "next_cursor": None, "next_url": None}


def test_cooperatives_filter_by_sector_and_commune(client, demo):
    crafts = walk(client, "/api/v1/cooperatives?sector=tieu-thu-cong-nghiep&limit=5")
    assert {c["slug"] for c in crafts} == {
        c["slug"] for c in demo["cooperatives"] if c["sector"] == "tieu-thu-cong-nghiep"
    }
    here = walk(client, "/api/v1/cooperatives?locality=xa-lien-bao")
    assert here and all(c["locality"]["slug"] == "xa-lien-bao" for c in here)


def test_q_ignores_diacritics_and_case(client):
    plain = walk(client, "/api/v1/products?q=banh%20phu%20the&limit=100")
    assert plain and "banh-phu-the" in plain[0]["slug"]
    typed = walk(client, "/api/v1/products?q=B%C3%81NH%20PHU%20TH%C3%8A&limit=100")
    assert {p["slug"] for p in typed} == {p["slug"] for p in plain}
    assert get_json(client, "/api/v1/products?q=zzzxxyy")["items"] == []


def test_q_orders_by_the_search_ranking_and_pages_through_it(client):
    """The same order as the site's search, page after page, with filters on top."""
    from shop.search.queries import search_products
    from shop.search.terms import parse_query

    expected = db.session.scalars(search_products(parse_query("bánh"))).all()
    assert len(expected) > 10
    walked = walk(client, "/api/v1/products?q=b%C3%A1nh&limit=4")
    assert [p["slug"] for p in walked] == [p.slug for p in expected]
    narrowed = walk(client, "/api/v1/products?q=banh&sector=nong-nghiep&limit=3")
    assert narrowed and all(p["sector"]["slug"] == "nong-nghiep" for p in narrowed)


# --------------------------------------------------------------------------- keyset pages


def test_pages_walk_the_whole_list_without_duplicates_or_gaps(client):
    walked = [p["slug"] for p in walk(client, "/api/v1/products?limit=7")]
    assert walked == public_product_slugs()
    assert len(walked) == len(set(walked)) > 100


def test_a_walk_survives_rows_added_and_removed_between_pages(client):
    """Keyset pages: new rows never push old ones onto the next page (no repeat, no skip)."""
    before = public_product_slugs()
    body = get_json(client, "/api/v1/products?limit=10")
    seen = [p["slug"] for p in body["items"]]
    coop = create_cooperative()
    for n in range(5):
        create_product(coop, slug=f"moi-them-{n}")
    db.session.commit()
    url = body["next_url"]
    while url:
        body = get_json(client, url)
        seen += [p["slug"] for p in body["items"]]
        if len(seen) == 30:  # mid-walk, a product already walked past goes away
            gone = db.session.scalar(select(Product).where(Product.slug == before[0]))
            gone.status = ProductStatus.ARCHIVED
            db.session.commit()
        url = body["next_url"]
    assert seen == before  # the new ones are newer than the walk's start: not met


def test_cooperatives_and_programmes_page_too(client):
    slugs = [c["slug"] for c in walk(client, "/api/v1/cooperatives?limit=4")]
    assert slugs == sorted(slugs)
    assert (
        slugs
        == db.session.scalars(
            select(Cooperative.slug)
            .where(Cooperative.status == CooperativeStatus.VERIFIED)
            .order_by(Cooperative.slug)
        ).all()
    )
    for n in range(3):
        create_programme(slug=f"cung-ngay-{n}", start_date=date(2027, 3, 18))
    db.session.commit()
    programmes = walk(client, "/api/v1/programmes?limit=1")
    assert len(programmes) == len({p["slug"] for p in programmes}) == 5
    assert [p["start_date"] for p in programmes] == sorted(
        (p["start_date"] for p in programmes), reverse=True
    )


def test_the_next_url_keeps_the_filters(client):
    body = get_json(client, "/api/v1/products?sector=nong-nghiep&limit=2&utm_source=x")
    assert "sector=nong-nghiep" in body["next_url"] and "limit=2" in body["next_url"]
    assert "utm_source" not in body["next_url"]
    assert body["next_url"].endswith("cursor=" + body["next_cursor"])


def tamper(cursor: str) -> str:
    """The same cursor with its payload changed to point at another row."""
    payload, signature = cursor.rsplit(".", 1)
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    key[-1] = key[-1] + 50
    forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


@pytest.mark.parametrize(
    "make_cursor",
    [
        lambda c: tamper(c["products"]),
        lambda c: c["products"][:-2],
        lambda c: c["cooperatives"],  # another list's cursor
        lambda c: c["search"],  # a search's cursor without its search
        lambda c: "abc",
        lambda c: "W10.abc",
        lambda c: "x" * 5000,
        lambda c: "%00",
        lambda c: "",
    ],
    ids=[
        "edited",
        "truncated",
        "another-list",
        "search-cursor",
        "garbage",
        "bad-signature",
        "huge",
        "nul",
        "empty",
    ],
)
def test_a_cursor_the_api_did_not_give_is_refused(client, make_cursor):
    cursors = {
        "products": get_json(client, "/api/v1/products?limit=1")["next_cursor"],
        "cooperatives": get_json(client, "/api/v1/cooperatives?limit=1")["next_cursor"],
        "search": get_json(client, "/api/v1/products?q=banh&limit=1")["next_cursor"],
    }
    body = get_json(client, f"/api/v1/products?cursor={make_cursor(cursors)}", 400)
    assert body["error"]["parameter"] == "cursor"
    assert body["error"]["code"] in ("invalid_cursor", "invalid_parameter")


def test_a_search_cursor_only_continues_its_own_search(client):
    cursor = get_json(client, "/api/v1/products?q=banh&limit=1")["next_cursor"]
    assert get_json(client, f"/api/v1/products?q=b%C3%A1nh&limit=1&cursor={cursor}")["items"]
    body = get_json(client, f"/api/v1/products?q=gao&cursor={cursor}", 400)
    assert body["error"]["code"] == "invalid_cursor"
    tampered = tamper(cursor)
    get_json(client, f"/api/v1/products?q=banh&cursor={tampered}", 400)


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "query, parameter, words",
    [
        ("limit=0", "limit", "from 1 to 100"),
        ("limit=101", "limit", "from 1 to 100"),
        ("limit=abc", "limit", "whole number"),
        ("limit=-1", "limit", "whole number"),
        ("limit=1.5", "limit", "whole number"),
        ("limit=%D9%A3", "limit", "whole number"),  # an Arabic-Indic three
        ("limit=", "limit", "must not be empty"),
        ("price_min=-5", "price_min", "whole number"),
        ("price_max=abc", "price_max", "whole number"),
        ("price_min=2147483648", "price_min", "from 0 to 2147483647"),
        ("price_min=200000&price_max=100000", "price_min", "greater than 'price_max'"),
        ("ocop_min=7", "ocop_min", "from 1 to 5"),
        ("ocop_min=0", "ocop_min", "from 1 to 5"),
        ("sector=N%C3%B4ng%20nghi%E1%BB%87p", "sector", "slug"),
        ("category=rau--cu", "category", "slug"),
        ("locality=" + "a" * 161, "locality", "slug"),
        ("certification=VietGAP", "certification", "code"),
        ("q=" + "a" * 101, "q", "at most 100"),
        ("q=g%00o", "q", "control characters"),
        ("q=%20%20", "q", "a word"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(client, query, parameter, words):
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == parameter
    assert words in error["message"]
    assert response.headers["Cache-Control"] == "no-store"


def test_cooperatives_and_programmes_check_their_parameters_too(client):
    assert get_json(client, "/api/v1/cooperatives?limit=0", 400)["error"]["parameter"] == "limit"
    assert get_json(client, "/api/v1/cooperatives?sector=X", 400)["error"]["parameter"] == "sector"
    assert get_json(client, "/api/v1/programmes?limit=500", 400)["error"]["parameter"] == "limit"


def test_unknown_addresses_and_slugs_answer_json_404(client):
    for url in (
        "/api/v1/products/khong-co-san-pham-nay",
        "/api/v1/products/Khong-Hop-Le",
        "/api/v1/cooperatives/khong-co",
        "/api/v1/programmes/khong-co",
        "/api/v1/khong-co",
        "/api/v1/products/a/b",
    ):
        body = get_json(client, url, 404)
        assert body["error"]["code"] == "not_found", url


def test_writing_is_refused_in_json(client):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.open("/api/v1/products", method=method)
        assert response.status_code == 405
        assert response.get_json()["error"]["code"] == "method_not_allowed"
        assert "GET" in response.headers["Allow"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    # The rest of the site keeps its own 405.
    assert client.put("/san-pham").mimetype != "application/json"


def test_a_server_error_answers_json(client, app, monkeypatch):
    from shop.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.schemas, "product", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get(f"/api/v1/products/{PRODUCT}")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"
    assert "boom" not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- HTTP manners


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/products/{PRODUCT}",
        "/api/v1/cooperatives/htx-rau-an-toan-viet-doan-xanh-demo",
        "/api/v1/programmes/tuan-hang-htx-ocop-bac-ninh-xuan-2027",
        "/api/v1/products?limit=3",
        "/api/v1/openapi.json",
    ],
)
def test_etag_and_304(client, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_an_edit_changes_the_etag(client):
    url = f"/api/v1/products/{PRODUCT}"
    etag = client.get(url).headers["ETag"]
    product = db.session.scalar(select(Product).where(Product.slug == PRODUCT))
    product.price_vnd = 31000
    db.session.commit()
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["price_vnd"] == 31000


def test_any_origin_may_read(client):
    for url, status in (
        (f"/api/v1/products/{PRODUCT}", 200),
        ("/api/v1/products?limit=0", 400),
        ("/api/v1/products/khong-co", 404),
    ):
        response = client.get(url, headers={"Origin": "https://doi-tac.example"})
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/v1/products",
        headers={
            "Origin": "https://doi-tac.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_too_many_requests_answer_json_429(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    try:
        for _ in range(3):
            assert client.get("/api/v1/programmes").status_code == 200
        # One budget for the whole API, whichever route is called.
        response = client.get(f"/api/v1/products/{PRODUCT}")
        assert response.status_code == 429
        assert response.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        # The site's pages do not count against the API's budget.
        assert client.get("/san-pham").status_code == 200
    finally:
        with app.app_context():
            limiter.reset()


def test_texts_do_not_depend_on_the_visitors_language(client):
    """Both languages are in every answer; ?lang and Accept-Language change nothing."""
    for url in (
        f"/api/v1/products/{PRODUCT}",
        "/api/v1/cooperatives/htx-rau-an-toan-viet-doan-xanh-demo",
        "/api/v1/programmes/tuan-hang-htx-ocop-bac-ninh-xuan-2027",
        "/api/v1/products?limit=2",
        "/api/v1/cooperatives?limit=2",
        "/api/v1/programmes",
    ):
        vietnamese = client.get(url).get_json()
        sep = "&" if "?" in url else "?"
        assert client.get(f"{url}{sep}lang=en").get_json() == vietnamese
        assert client.get(url, headers={"Accept-Language": "en"}).get_json() == vietnamese


def test_error_messages_are_in_english_whatever_the_language(client):
    for suffix in ("", "&lang=vi", "&lang=en"):
        message = get_json(client, f"/api/v1/products?limit=0{suffix}", 400)["error"]["message"]
        assert message == "'limit' must be a whole number from 1 to 100."


# --------------------------------------------------------------------------- cost


def grow_catalogue(n: int) -> None:
    """n more public products, each with certifications and photos, in a new cooperative."""
    coop = create_cooperative()
    for i in range(n):
        product = create_product(coop, certifications=["vietgap", "haccp"])
        add_photo(product, 10_000 + 2 * i)
        add_photo(product, 10_001 + 2 * i, position=1)
    db.session.commit()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products?limit={n}",
        "/api/v1/products?limit={n}&q=banh&sector=nong-nghiep&price_min=1",
        "/api/v1/cooperatives?limit={n}",
        "/api/v1/programmes?limit={n}",
    ],
)
def test_a_list_costs_the_same_few_statements_at_any_size(client, count_queries, url):
    def statements(limit):
        with count_queries() as counter:
            assert client.get(url.format(n=limit)).status_code == 200
        return counter.count

    small = statements(2)
    assert small <= 4
    assert statements(100) == small
    grow_catalogue(40)
    for n in range(3):
        create_programme(slug=f"them-chuong-trinh-{n}")
    db.session.commit()
    assert statements(100) == small
    # Deep pages cost what the first page costs (no OFFSET).
    last = get_json(client, url.format(n=100))
    if last["next_url"]:
        with count_queries() as counter:
            client.get(last["next_url"])
        assert counter.count == small


def test_a_programme_costs_the_same_with_more_booths(client, count_queries):
    programme = create_programme(slug="nhieu-gian")
    coop = create_cooperative()
    create_booth(programme, 1, coop, products=[create_product(coop)])
    db.session.commit()

    def statements():
        with count_queries() as counter:
            assert client.get("/api/v1/programmes/nhieu-gian").status_code == 200
        return counter.count

    few = statements()
    for number in range(2, 12):
        other = create_cooperative()
        create_booth(programme, number, other, products=[create_product(other)])
    db.session.commit()
    assert statements() == few <= 5


# --------------------------------------------------------------------------- the partners' page


def test_the_partners_page_explains_the_api_in_both_languages(client):
    vietnamese = page_text(client.get("/api"))
    assert "API dữ liệu mở" in vietnamese
    assert "/api/v1/products" in vietnamese
    assert "Phân trang kết quả" in vietnamese
    english = client.get("/api?lang=en")
    assert english.status_code == 200
    text = page_text(english)
    assert "Open data API" in text
    assert "Paging through results" in text
    assert "API dữ liệu mở" not in text


def test_limits_match_the_document():
    products = document()["paths"]["/products"]["get"]["parameters"]
    limit = next(p for p in products if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (
        1,
        params.MAX_LIMIT,
        params.DEFAULT_LIMIT,
    )
