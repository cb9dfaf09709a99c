"""The catalogue's facets, sorts and keyset pages, and the directory's filters with counts.

Most tests run on a blank database with records made by tests/factories.py, so every count and
order below is worked out by hand from what the test made.
"""

import base64
import html
import json
import re
from datetime import date, datetime, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import select

from shop.catalog import queries
from shop.catalog.models import (
    ALL_MONTHS,
    Category,
    ProductStatus,
    months_to_mask,
)
from shop.cooperatives.models import CooperativeStatus, LegalForm, Locality, Sector
from shop.extensions import db
from tests.factories import create_cooperative, create_product, load_taxonomy

TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY: November
CARD_LINK = re.compile(r'class="card-link" href="/san-pham/([a-z0-9-]+)"')
NEXT = re.compile(r'rel="next" href="([^"]+)"')
PREV = re.compile(r'rel="prev" href="([^"]+)"')


# --------------------------------------------------------------------------- helpers


def get(client, url, lang="vi", status=200) -> str:
    refresh()
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}")
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True)).replace("\u00a0", " ")


def slugs(page: str) -> list[str]:
    return CARD_LINK.findall(page)


def link(pattern, page: str) -> str | None:
    match = pattern.search(page)
    return html.unescape(match.group(1)) if match else None


def option(page: str, name: str, value: str) -> str | None:
    """The text of <option value=…> in the select `name`, or None when it is not listed."""
    select_html = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    match = re.search(
        rf'<option value="{re.escape(value)}"(?: selected)?>([^<]*)</option>', select_html
    )
    return match.group(1) if match else None


def result_count(page: str) -> str:
    return re.search(r'class="result-count">([^<]+)<', page).group(1)


def taxonomy():
    load_taxonomy()
    sector = {s.slug: s for s in db.session.scalars(select(Sector))}
    category = {c.slug: c for c in db.session.scalars(select(Category))}
    locality = list(db.session.scalars(select(Locality).order_by(Locality.id)))
    return sector, category, locality


@pytest.fixture
def small_pages(blank_db, monkeypatch):
    """Pages of 3 products, so a dozen products make several pages."""
    monkeypatch.setitem(blank_db.config, "PRODUCTS_PER_PAGE", 3)
    return blank_db


@pytest.fixture
def shop(blank_db):
    """Three cooperatives and eleven products with hand-picked facets.

    | slug | coop | sector | category | price | OCOP (valid?) | certs | in season (Nov) |
    | a1 | farm1 (L0) | agri | rau | 30.000 | 3 | vietgap | yes (all year) |
    | a2 | farm1 | agri | rau | 75.000 | 4 | vietgap, pgs_organic | no (summer) |
    | a3 | farm1 | agri | mat-ong | 150.000 | 5 expired | - | yes |
    | a4 | farm2 (L1) | agri | mat-ong | None (Liên hệ) | 0 | traceability_qr | yes |
    | a5 | farm2 | agri | rau | 600.000 | 4 | pgs_organic | no |
    | h1 | craft (L0) | craft | gom-su | 250.000 | 5 | - | yes |
    | h2 | craft | craft | gom-su | 45.000 | 0 | vietgap | yes |
    | h3 | craft | craft | gom-su | 120.000 | 3 expired | - | yes |
    | x1 | farm1 | agri | rau | draft: never counted |
    | x2 | pending coop | agri | rau | unverified cooperative: never counted |
    """
    sector, category, locality = taxonomy()
    agri, craft = sector["nong-nghiep"], sector["tieu-thu-cong-nghiep"]
    farm1 = create_cooperative(sector=agri, locality=locality[0], slug="farm1")
    farm2 = create_cooperative(sector=agri, locality=locality[1], slug="farm2")
    craft_coop = create_cooperative(sector=craft, locality=locality[0], slug="craft")
    pending = create_cooperative(sector=agri, status=CooperativeStatus.PENDING, slug="pending")
    summer = months_to_mask([5, 6, 7, 8])
    expired = TODAY - timedelta(days=1)
    rows = [
        ("a1", farm1, "rau-cu-qua-tuoi", 30_000, 3, None, ["vietgap"], ALL_MONTHS),
        ("a2", farm1, "rau-cu-qua-tuoi", 75_000, 4, None, ["vietgap", "pgs_organic"], summer),
        ("a3", farm1, "mat-ong", 150_000, 5, expired, [], ALL_MONTHS),
        ("a4", farm2, "mat-ong", None, 0, None, ["traceability_qr"], ALL_MONTHS),
        ("a5", farm2, "rau-cu-qua-tuoi", 600_000, 4, None, ["pgs_organic"], summer),
        ("h1", craft_coop, "gom-su", 250_000, 5, None, [], ALL_MONTHS),
        ("h2", craft_coop, "gom-su", 45_000, 0, None, ["vietgap"], ALL_MONTHS),
        ("h3", craft_coop, "gom-su", 120_000, 3, expired, [], ALL_MONTHS),
    ]
    made = {}
    start = datetime(2026, 11, 1, 8, 0)
    for n, (slug, coop, cat, price, stars, expires, certs, months) in enumerate(rows):
        made[slug] = create_product(
            coop,
            slug=slug,
            category=category[cat],
            price_vnd=price,
            ocop_stars=stars,
            ocop_expires_on=expires or date(2028, 1, 1),
            certifications=certs,
            season_months=months,
        )
        made[slug].published_at = start + timedelta(days=n)
    create_product(
        farm1, slug="x1", status=ProductStatus.DRAFT, category=category["rau-cu-qua-tuoi"]
    )
    create_product(pending, slug="x2", category=category["rau-cu-qua-tuoi"])
    db.session.commit()
    return {
        "sector": sector,
        "category": category,
        "locality": locality,
        "coops": (farm1, farm2, craft_coop),
        "products": made,
    }


def facets(**filters):
    return queries.facet_counts(queries.Filters(**filters), TODAY)


def as_dict(rows, key="slug"):
    return {getattr(row, key): n for row, n in rows if n}


# --------------------------------------------------------------------------- facet counts


def test_facets_count_public_products_only(shop):
    counts = facets()
    assert counts.total == 8
    assert as_dict(counts.sectors) == {"nong-nghiep": 5, "tieu-thu-cong-nghiep": 3}
    assert as_dict(counts.categories) == {"rau-cu-qua-tuoi": 3, "mat-ong": 2, "gom-su": 3}
    loc0, loc1 = shop["locality"][0].slug, shop["locality"][1].slug
    assert as_dict(counts.localities) == {loc0: 6, loc1: 2}
    assert as_dict(counts.certifications, "code") == {
        "vietgap": 3,
        "pgs_organic": 2,
        "traceability_qr": 1,
    }
    # Expired stars (a3, h3) count as none: ≥3 are a1 a2 a5 h1, ≥4 a2 a5 h1, 5 h1.
    assert counts.ocop == {3: 4, 4: 3, 5: 1}
    assert counts.price == {
        "duoi-50k": 2,  # a1 30.000, h2 45.000
        "50k-100k": 1,  # a2
        "100k-200k": 2,  # a3, h3
        "200k-500k": 1,  # h1
        "tren-500k": 1,  # a5
        "lien-he": 1,  # a4
    }
    assert counts.in_season == 6  # all but the summer a2, a5


def test_a_facet_counts_under_the_other_filters_not_its_own(shop):
    agri = shop["sector"]["nong-nghiep"]
    counts = facets(sector=agri)
    assert counts.total == 5
    # Choosing a sector does not zero the other sectors' counts…
    assert as_dict(counts.sectors) == {"nong-nghiep": 5, "tieu-thu-cong-nghiep": 3}
    # …but narrows every other facet, categories to the sector's own.
    assert as_dict(counts.categories) == {"rau-cu-qua-tuoi": 3, "mat-ong": 2}
    assert counts.ocop == {3: 3, 4: 2, 5: 0}
    assert counts.in_season == 3  # a1 a3 a4

    counts = facets(sector=agri, in_season=True, ocop_min=3)
    assert counts.total == 1  # a1
    assert as_dict(counts.sectors) == {"nong-nghiep": 1, "tieu-thu-cong-nghiep": 1}  # a1 · h1
    assert counts.ocop == {3: 1, 4: 0, 5: 0}  # in season in agri: a1 (3), a3 (expired), a4 (0)
    assert counts.in_season == 1  # agri with ≥3 stars: a1 a2 a5, of which a1 in season
    assert counts.price["duoi-50k"] == 1 and sum(counts.price.values()) == 1


def test_certifications_match_any_of_the_chosen(shop):
    counts = facets(certifications=("vietgap", "traceability_qr"))
    assert counts.total == 4  # a1 a2 h2 (vietgap) + a4
    # The certification facet keeps its own counts whatever is ticked.
    assert as_dict(counts.certifications, "code") == {
        "vietgap": 3,
        "pgs_organic": 2,
        "traceability_qr": 1,
    }
    assert as_dict(counts.sectors) == {"nong-nghiep": 3, "tieu-thu-cong-nghiep": 1}
    shown = queries.filtered_products(
        queries.Filters(certifications=("vietgap", "traceability_qr")), TODAY
    )
    assert sorted(p.slug for p in db.session.scalars(shown)) == ["a1", "a2", "a4", "h2"]


def test_price_band_and_price_on_request(shop):
    counts = facets(price="lien-he")
    assert counts.total == 1
    assert counts.price["duoi-50k"] == 2  # its own facet keeps every band
    stmt = queries.filtered_products(queries.Filters(price="100k-200k"), TODAY)
    assert sorted(p.slug for p in db.session.scalars(stmt)) == ["a3", "h3"]
    # Bands are [low, high): 50.000 belongs to 50k-100k, not under 50k.
    product = shop["products"]["h2"]
    product.price_vnd = 50_000
    db.session.flush()
    assert facets().price["duoi-50k"] == 1 and facets().price["50k-100k"] == 2


def test_expired_ocop_is_not_counted_nor_filtered_in(shop):
    stmt = queries.filtered_products(queries.Filters(ocop_min=5), TODAY)
    assert [p.slug for p in db.session.scalars(stmt)] == ["h1"]  # not the expired a3


# --------------------------------------------------------------------------- the page


def test_catalogue_page_shows_facets_with_counts(shop, blank_client):
    page = get(blank_client, "/san-pham")
    assert result_count(page) == "8 sản phẩm"
    assert option(page, "sector", "nong-nghiep") == "Nông nghiệp (5)"
    assert option(page, "sector", "xay-dung") is None  # no products: left out
    assert option(page, "category", "gom-su").endswith("(3)")
    assert option(page, "ocop", "4") == "Từ 4 sao (3)"
    assert option(page, "price", "duoi-50k") == "Dưới 50.000 ₫ (2)"
    assert option(page, "price", "50k-100k") == "50.000–100.000 ₫ (1)"
    assert option(page, "price", "lien-he") == "Liên hệ (1)"
    assert re.search(
        r'name="cert" value="vietgap"> <span>VietGAP[^<]*<span class="count">\(3\)', page
    )
    assert re.search(r'name="season" value="1"> <span>Đang vào mùa <span class="count">\(6\)', page)
    assert "<summary>Bộ lọc</summary>" in page


def test_choosing_filters_updates_counts_and_keeps_state(shop, blank_client):
    url = "/san-pham?sector=nong-nghiep&season=1&cert=vietgap&cert=traceability_qr"
    page = get(blank_client, url)
    assert result_count(page) == "2 sản phẩm"  # a1, a4
    assert sorted(slugs(page)) == ["a1", "a4"]
    assert "<summary>Bộ lọc (4)</summary>" in page
    assert '<option value="nong-nghiep" selected>Nông nghiệp (2)</option>' in page
    assert option(page, "sector", "tieu-thu-cong-nghiep") == "Tiểu thủ công nghiệp (1)"  # h2
    assert option(page, "category", "gom-su") is None  # not in the chosen sector
    assert 'name="cert" value="vietgap" checked' in page
    assert 'name="season" value="1" checked' in page
    assert "Xóa bộ lọc" in page


def test_catalogue_in_english(shop, blank_client):
    page = get(blank_client, "/san-pham?price=tren-500k&sort=price_desc", "en")
    assert result_count(page) == "1 product"
    assert "<summary>Filters (1)</summary>" in page
    assert option(page, "price", "duoi-50k") == "Under 50,000 ₫ (2)"
    assert option(page, "price", "tren-500k") == "Over 500,000 ₫ (1)"
    assert option(page, "price", "lien-he") == "Price on request (1)"
    for label in ("Sector", "Category", "Price range", "Certification", "In season now"):
        assert label in page
    assert '<option value="price_desc" selected>Price: high to low</option>' in page


def test_empty_result_says_so(shop, blank_client):
    page = get(blank_client, "/san-pham?sector=tieu-thu-cong-nghiep&price=lien-he")
    assert result_count(page) == "0 sản phẩm" and not slugs(page)
    assert "Không có sản phẩm nào khớp với bộ lọc." in page
    # The chosen value stays listed (with its 0) so the form can undo it.
    assert '<option value="lien-he" selected>Liên hệ (0)</option>' in page


# --------------------------------------------------------------------------- sorts and keyset


def expected_order(products, sort):
    def stars(p):
        return p.ocop_stars if p.ocop_valid_on(TODAY) else 0

    def when(p):
        # Set naive in the fixtures; PostgreSQL hands back the ones it reloads as UTC.
        return p.published_at.replace(tzinfo=None)

    if sort == "price_asc":
        return sorted(products, key=lambda p: (p.price_vnd is None, p.price_vnd or 0, p.id))
    if sort == "price_desc":
        priced = sorted(
            (p for p in products if p.price_vnd), key=lambda p: (p.price_vnd, p.id), reverse=True
        )
        return priced + sorted((p for p in products if not p.price_vnd), key=lambda p: -p.id)
    if sort == "ocop":
        return sorted(products, key=lambda p: (stars(p), when(p), p.id), reverse=True)
    return sorted(products, key=lambda p: (when(p), p.id), reverse=True)


def walk(client, url):
    """Follow "Trang sau" from `url` to the end; return the pages' slugs and addresses."""
    pages, urls = [], []
    while url:
        page = get(client, url)
        pages.append(slugs(page))
        urls.append(url)
        url = link(NEXT, page)
        assert len(pages) < 50
    return pages, urls


@pytest.fixture
def many(small_pages, shop):
    """The shop plus ties: equal prices and equal publication times, 14 products in all."""
    farm1 = shop["coops"][0]
    rau = shop["category"]["rau-cu-qua-tuoi"]
    same_time = datetime(2026, 11, 20, 9, 0)
    for n in range(6):
        product = create_product(
            farm1,
            slug=f"tie-{n}",
            category=rau,
            price_vnd=(None, 75_000, 75_000, 30_000, 600_000, None)[n],
            ocop_stars=(4, 4, 0, 0, 5, 3)[n],
            ocop_expires_on=date(2028, 1, 1),
            certifications=[],
        )
        product.published_at = same_time
    db.session.commit()
    return list(db.session.scalars(queries.filtered_products(queries.Filters(), TODAY)))


@pytest.mark.parametrize("sort", queries.SORTS)
def test_keyset_walk_gives_every_product_once_in_order(many, blank_client, sort):
    pages, urls = walk(blank_client, f"/san-pham?sort={sort}")
    seen = [slug for page in pages for slug in page]
    assert seen == [p.slug for p in expected_order(many, sort)]
    assert len(pages) == 5 and all(len(p) == 3 for p in pages[:-1])
    assert all("cursor=" in url for url in urls[1:])

    # And back: "Trang trước" from the last page gives the same pages in reverse.
    back, url = [], urls[-1]
    while url:
        page = get(blank_client, url)
        back.append(slugs(page))
        url = link(PREV, page)
    assert back == pages[::-1]


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_on_request_comes_last_both_ways(many, blank_client, sort):
    pages, _urls = walk(blank_client, f"/san-pham?sort={sort}")
    seen = [slug for page in pages for slug in page]
    on_request = {p.slug for p in many if p.price_vnd is None}
    assert set(seen[-len(on_request) :]) == on_request


def test_ocop_sort_puts_expired_stars_with_none(many, blank_client):
    pages, _urls = walk(blank_client, "/san-pham?sort=ocop")
    seen = [slug for page in pages for slug in page]
    assert seen[:2] == ["tie-4", "h1"]  # valid 5 stars, newest first; a3's 5 expired
    assert seen.index("a3") > seen.index("a1")  # expired 5 after a valid 3


def test_keyset_pages_keep_filters_and_show_page_numbers(many, blank_client):
    page = get(blank_client, "/san-pham?sector=nong-nghiep&sort=price_asc")
    assert "Trang 1 / 4" in page  # 11 agricultural products by 3
    nxt = link(NEXT, page)
    assert "sector=nong-nghiep" in nxt and "sort=price_asc" in nxt
    second = get(blank_client, nxt)
    assert "Trang 2 / 4" in second
    assert link(PREV, second) == "/san-pham?sector=nong-nghiep&sort=price_asc"  # page 1: no cursor
    third = get(blank_client, link(NEXT, second))
    assert "Trang đầu" in third and "cursor=" in link(PREV, third)


def test_a_shared_cursor_address_gives_the_same_page(many, blank_client):
    first = get(blank_client, "/san-pham?sort=price_desc")
    url = link(NEXT, first)
    assert slugs(get(blank_client, url)) == slugs(get(blank_client.application.test_client(), url))


@pytest.mark.parametrize("sort", ["price_asc", "ocop"])
def test_old_page_numbers_keep_working(many, blank_client, sort):
    pages, _urls = walk(blank_client, f"/san-pham?sort={sort}")
    for number, expected in enumerate(pages, start=1):
        page = get(blank_client, f"/san-pham?sort={sort}&page={number}")
        assert slugs(page) == expected
        assert f"Trang {number} / 5" in page
    # Its links go on by cursor.
    assert "cursor=" in link(NEXT, get(blank_client, f"/san-pham?sort={sort}&page=2"))
    get(blank_client, f"/san-pham?sort={sort}&page=6", status=404)


def cursor_text(payload) -> str:
    raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


BAD_CURSORS = [
    "x",
    "%00",
    "!!!!",
    "a" * 5000,
    cursor_text(b"\xff\xfe not json"),
    cursor_text({"not": "a list"}),
    cursor_text(["newest", 2, "a"]),
    cursor_text(["price_asc", 2, "a", 1000, 5]),  # another sort's cursor
    cursor_text(["newest", 2, "z", "2026-11-01T08:00:00", 5]),
    cursor_text(["newest", 0, "a", "2026-11-01T08:00:00", 5]),
    cursor_text(["newest", 2, "a", "not a date", 5]),
    cursor_text(["newest", 2, "a", "2026-11-01T08:00:00", -1]),
    cursor_text(["newest", 2, "a", "2026-11-01T08:00:00", 2**40]),
    cursor_text(["newest", 2, "a", "2026-11-01T08:00:00", "5"]),
    cursor_text(["newest", 2, "a", "2026-11-01T08:00:00", True]),
    cursor_text(["newest", 10**9, "a", "2026-11-01T08:00:00", 5]),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_garbage_cursor_falls_back_to_the_first_page_with_a_notice(many, blank_client, cursor):
    first = slugs(get(blank_client, "/san-pham"))
    page = get(blank_client, f"/san-pham?cursor={cursor}")
    assert slugs(page) == first
    assert "Liên kết trang này không còn dùng được; đây là trang đầu của danh sách." in page


def test_cursor_decoding_round_trips():
    cursor = queries.Cursor("ocop", 7, (4, datetime(2026, 11, 1, 8, 0, 1, 5), 42), before=True)
    assert queries.Cursor.decode(cursor.encode(), "ocop") == cursor
    with pytest.raises(ValueError):
        queries.Cursor.decode(cursor.encode(), "newest")


def test_cursor_past_the_end_says_there_is_nothing_more(many, blank_client):
    last = max(many, key=lambda p: p.id)
    cursor = queries.Cursor("price_asc", 9, (queries.PRICE_ON_REQUEST_UP, last.id + 1)).encode()
    page = get(blank_client, f"/san-pham?sort=price_asc&cursor={cursor}")
    assert not slugs(page) and "Không còn sản phẩm nào sau trang trước." in page


# --------------------------------------------------------------------------- bad arguments

BAD_ARGS = [
    ("sector=khong-co", "Lĩnh vực"),
    ("sector=%00", "Lĩnh vực"),
    ("category=" + "a" * 5000, "Danh mục"),
    ("locality=Xã Không Có", "Xã, phường"),
    ("ocop=7", "Hạng OCOP"),
    ("ocop=9999999999999999999999", "Hạng OCOP"),
    ("ocop=-3", "Hạng OCOP"),
    ("price=duoi-1k", "Khoảng giá"),
    ("price=" + "%ff" * 300, "Khoảng giá"),
    ("cert=khong-co", "Chứng nhận"),
    ("cert=vietgap&cert=" + "x" * 3000, "Chứng nhận"),
    ("season=2", "Đang vào mùa"),
    ("sort=random", "Sắp xếp"),
    ("sort=" + "%00" * 100, "Sắp xếp"),
]


@pytest.mark.parametrize("query, label", BAD_ARGS)
def test_bad_values_are_ignored_with_a_notice(shop, blank_client, query, label):
    page = get(blank_client, f"/san-pham?{query}")
    assert f"Đã bỏ qua bộ lọc không hợp lệ: {label}." in page
    assert result_count(page) == ("3 sản phẩm" if "vietgap" in query else "8 sản phẩm")


def test_bad_values_notice_in_english(shop, blank_client):
    page = get(blank_client, "/san-pham?ocop=7&price=nope", "en")
    assert "Ignored filters that were not valid: OCOP rating, Price range." in page


def test_empty_values_are_no_filter_and_no_notice(shop, blank_client):
    page = get(blank_client, "/san-pham?sector=&category=&locality=&ocop=&price=&sort=")
    assert result_count(page) == "8 sản phẩm" and "Đã bỏ qua" not in page


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", "²", "9" * 30])
def test_malformed_old_page_numbers_are_404(shop, blank_client, page):
    get(blank_client, f"/san-pham?page={page}", status=404)


# --------------------------------------------------------------------------- sector, category


def test_sector_and_category_pages_walk_by_cursor(many, blank_client):
    pages, _urls = walk(blank_client, "/linh-vuc/nong-nghiep")
    agri = [
        p
        for p in many
        if p.sector_id == db.session.scalar(select(Sector.id).where(Sector.slug == "nong-nghiep"))
    ]
    assert [s for page in pages for s in page] == [p.slug for p in expected_order(agri, "newest")]
    assert "11 sản phẩm" in get(blank_client, "/linh-vuc/nong-nghiep")
    pages, _urls = walk(blank_client, "/danh-muc/mat-ong")
    assert sorted(s for page in pages for s in page) == ["a3", "a4"]
    page = get(blank_client, "/danh-muc/rau-cu-qua-tuoi?cursor=garbage")
    assert "đây là trang đầu" in page and "9 sản phẩm" in page


#: A statement that counts products (or any rows but a vocabulary's).
COUNTS_ROWS = re.compile(r"count\((?!(sector|category|locality|certification_kind)\.)", re.I)


def test_sector_and_category_pages_count_from_the_cached_table(shop, blank_client, count_queries):
    agri = shop["sector"]["nong-nghiep"]
    assert as_dict(facets(sector=agri).categories) == {"rau-cu-qua-tuoi": 3, "mat-ong": 2}
    page = get(blank_client, "/linh-vuc/nong-nghiep")
    chips = re.findall(r'category=([a-z-]+)">[^<]+ <span class="count">\((\d+)\)', page)
    assert chips == [("rau-cu-qua-tuoi", "3"), ("mat-ong", "2")]  # categories with products
    assert "5 sản phẩm" in page
    assert "5 products" in get(blank_client, "/linh-vuc/nong-nghiep", "en")
    for url in ("/linh-vuc/nong-nghiep", "/danh-muc/mat-ong"):
        with count_queries() as counter:
            assert blank_client.get(url).status_code == 200
        # The catalogue's cached counts: no grouping, no COUNT of products of its own (the
        # catalogue version counts the rows of the small vocabulary tables).
        assert not [s for s in counter.statements if "GROUP BY" in s or COUNTS_ROWS.search(s)]
        assert counter.count <= 3 + listing_statements()
    assert "2 sản phẩm" in get(blank_client, "/danh-muc/mat-ong")


def test_home_counts_sectors_from_the_cached_table(shop, blank_client, count_queries):
    page = get(blank_client, "/")
    names = re.findall(
        r'<span class="sector-name">([^<]+)</span>\s*<span class="count">(\d+) sản phẩm', page
    )
    shown = dict(names)
    assert shown["Nông nghiệp"] == "5" and shown["Tiểu thủ công nghiệp"] == "3"
    with count_queries() as counter:
        assert blank_client.get("/").status_code == 200
    assert not [s for s in counter.statements if "GROUP BY" in s]


# --------------------------------------------------------------------------- directory


@pytest.fixture
def coops(blank_db):
    sector, _category, locality = taxonomy()
    agri, craft = sector["nong-nghiep"], sector["tieu-thu-cong-nghiep"]
    made = [
        create_cooperative(sector=agri, locality=locality[0], name="HTX An"),
        create_cooperative(sector=agri, locality=locality[1], name="HTX Bình"),
        create_cooperative(
            sector=agri, locality=locality[1], name="THT Cường", legal_form=LegalForm.GROUP
        ),
        create_cooperative(sector=craft, locality=locality[0], name="HTX Dung"),
        create_cooperative(
            sector=craft, locality=locality[0], name="HTX Ẩn", status=CooperativeStatus.PENDING
        ),
    ]
    db.session.commit()
    return {"sector": sector, "locality": locality, "coops": made}


def coop_names(page):
    return re.findall(r'<h3 class="card-title"><a href="/htx/[a-z0-9-]+">([^<]+)</a>', page)


def test_directory_filters_count_under_the_other_filters(coops, blank_client):
    loc1 = coops["locality"][1]
    page = get(blank_client, "/htx")
    assert "4 hợp tác xã" in page and "HTX Ẩn" not in page
    assert option(page, "sector", "nong-nghiep") == "Nông nghiệp (3)"
    assert option(page, "legal_form", "to_hop_tac") == "Tổ hợp tác (1)"
    assert option(page, "legal_form", "quy_tin_dung_nhan_dan") is None

    page = get(blank_client, f"/htx?sector=nong-nghiep&locality={loc1.slug}")
    assert coop_names(page) == ["HTX Bình", "THT Cường"] and "2 hợp tác xã" in page
    assert option(page, "sector", "tieu-thu-cong-nghiep") is None  # no craft HTX there
    assert option(page, "sector", "nong-nghiep") == "Nông nghiệp (2)"
    assert option(page, "locality", coops["locality"][0].slug).endswith("(1)")  # HTX An
    assert option(page, "legal_form", "hop_tac_xa") == "Hợp tác xã (1)"


def test_directory_bad_filters_are_ignored_with_a_notice(coops, blank_client):
    page = get(blank_client, "/htx?sector=khong-co&legal_form=%ff&locality=" + "a" * 500)
    assert "Đã bỏ qua bộ lọc không hợp lệ: Lĩnh vực, Xã, phường, Loại hình." in page
    assert "4 hợp tác xã" in page
    page = get(blank_client, "/htx?legal_form=nope", "en")
    assert "Ignored filters that were not valid: Legal form." in page


def test_directory_pages_without_a_count_query(coops, small_pages, blank_client, count_queries):
    page = get(blank_client, "/htx")
    assert coop_names(page) == ["HTX An", "HTX Bình", "HTX Dung"]
    assert "Trang 1 / 2" in page
    assert coop_names(get(blank_client, "/htx?page=2")) == ["THT Cường"]
    get(blank_client, "/htx?page=3", status=404)
    with count_queries() as counter:
        blank_client.get("/htx?page=2")
    assert not any("count(*)" in s.lower() and "anon_1" in s for s in counter.statements)


# --------------------------------------------------------------------------- indexes


def listing_statement(client, url):
    """The SQL and parameters of the product listing query a page runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    captured = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if " LIMIT " in statement and "FROM product" in statement:
            captured.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", grab)
    try:
        client.get(url)
    finally:
        event.remove(Engine, "before_cursor_execute", grab)
    return captured[-1]


def plan_of(statement, parameters) -> str:
    """The query plan of a statement, the planner told to avoid scans and sorts.

    Tables this small would be scanned whatever the indexes, so what is checked is that the
    indexes *can* answer the query as written.
    """
    from sqlalchemy import text

    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_sort = off"))
        cursor = raw.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    else:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = "\n".join(row[-1] for row in cursor.fetchall())
    cursor.close()
    return plan


def is_postgresql() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def listing_statements() -> int:
    """A keyset listing's statements: on PostgreSQL a SET LOCAL of its join order first."""
    return 2 if is_postgresql() else 1


@pytest.mark.parametrize(
    "sort, index",
    [
        ("newest", "ix_product_status_published_at_id"),
        ("price_asc", "ix_product_status_price_up"),
        ("price_desc", "ix_product_status_price_down"),
    ],
)
def test_deep_pages_read_from_the_sort_index(many, blank_client, sort, index):
    """EXPLAIN: a cursor page starts its index range at the cursor and needs no sort step."""
    first = get(blank_client, f"/san-pham?sort={sort}")
    plan = plan_of(*listing_statement(blank_client, link(NEXT, first)))
    if is_postgresql():
        assert (
            f"Index Scan using {index} on product" in plan
            or f"Index Scan Backward using {index} on product" in plan
        ), plan
        assert "Sort" not in plan.split("->")[0:3].__str__(), plan
    else:
        assert f"SEARCH product USING INDEX {index} (status=? AND" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize("page", [1, 2, 4])
def test_ocop_pages_read_two_index_ranges(many, blank_client, page):
    """EXPLAIN: valid stars from (status, ocop_stars, published_at, id) backwards, which is
    their order; the rest from (status, published_at, id); only the page's rows are sorted."""
    url = "/san-pham?sort=ocop"
    for _ in range(page - 1):
        url = link(NEXT, get(blank_client, url))
    statement, parameters = listing_statement(blank_client, url)
    plan = plan_of(statement, parameters)
    # Page 2 starts among the 4 stars, page 4 among the products without valid stars: the
    # range of valid stars lies wholly before it and is not read.
    with_stars = "product.ocop_stars AS stars" in statement
    assert with_stars == (page < 4)
    ocop, newest = "ix_product_status_ocop_published_at_id", "ix_product_status_published_at_id"
    if is_postgresql():
        if with_stars:
            assert f"Index Scan Backward using {ocop} on product" in plan, plan
        assert f"Index Scan Backward using {newest} on product" in plan, plan
    else:
        if with_stars:
            assert f"SEARCH product USING INDEX {ocop} (status=? AND ocop_stars>?" in plan, plan
        assert f"SEARCH product USING INDEX {newest} (status=?" in plan, plan
        # One sort: the window's few rows in the outer query, never a range's products.
        assert plan.count("TEMP B-TREE FOR ORDER BY") == 1, plan


# --------------------------------------------------------------------------- search query


def test_search_query_narrows_the_facets_and_ranks_by_relevance(client, app, monkeypatch):
    from shop.search.queries import search_products
    from shop.search.terms import parse_query

    monkeypatch.setitem(app.config, "PRODUCTS_PER_PAGE", 4)
    expected = [p.slug for p in db.session.scalars(search_products(parse_query("banh")))]
    assert len(expected) > 8
    pages, _urls = walk(client, "/san-pham?q=banh")
    assert [s for page in pages for s in page] == expected  # relevance, then newest
    first = get(client, "/san-pham?q=banh")
    assert result_count(first) == f"{len(expected)} sản phẩm"
    assert '<option value="relevance" selected>Phù hợp nhất</option>' in first
    assert 'name="q" value="banh"' in first and "Sản phẩm khớp với “banh”" in first
    counts = facets(query=parse_query("banh"))
    assert counts.total == len(expected) == sum(n for _s, n in counts.sectors)
    # Another sort keeps the query; relevance is not offered without one.
    by_price = get(client, "/san-pham?q=banh&sort=price_asc")
    assert result_count(by_price) == result_count(first)
    assert 'value="relevance"' not in get(client, "/san-pham")


# --------------------------------------------------------------------------- statements


@pytest.mark.parametrize(
    "url",
    [
        "/san-pham",
        "/san-pham?sector=nong-nghiep&category=rau-cu-qua-tuoi&cert=vietgap&cert=pgs_organic"
        "&price=50k-100k&ocop=3&season=1&sort=price_desc",
        "/san-pham?sort=ocop",
        "/san-pham?q=rau&sort=ocop",
        "/san-pham?sector=khong-co&cert=khong-co",
    ],
)
def test_catalogue_statements_do_not_grow_with_filters_or_page_size(
    shop, small_pages, blank_client, count_queries, url
):
    """Two: the catalogue version and the page (on PostgreSQL after fixing its join order).
    The vocabularies, which the filters are looked up in, are kept while the version stands;
    a search query's narrowed grouping is kept too."""
    assert blank_client.get(url).status_code == 200  # the counts' table is built
    counts = []
    for per_page in (3, 24):
        small_pages.config["PRODUCTS_PER_PAGE"] = per_page
        with count_queries() as counter:
            assert blank_client.get(url).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] == 1 + listing_statements(), counts
