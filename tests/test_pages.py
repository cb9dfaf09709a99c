"""The public pages, in Vietnamese and English, against the project's demo data."""

import html
import re
from datetime import date

import pytest
from flask import render_template
from flask_babel import refresh
from sqlalchemy import select, update

from shop.catalog.models import Product, ProductCertification, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes.models import Booth, Programme
from tests.factories import create_booth, create_cooperative, create_product, create_programme

TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY
CARD_LINK = re.compile(r'class="card-link" href="/san-pham/([a-z0-9-]+)"')


# --------------------------------------------------------------------------- helpers


def get(client, url, lang="vi", status=200) -> str:
    """GET `url` in `lang`; return the page text unescaped, with no-break spaces as spaces."""
    # The test's app context outlives each request, so Babel's per-`g` locale cache would too.
    refresh()
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}")
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True)).replace("\u00a0", " ")


def card_slugs(page: str) -> list[str]:
    return CARD_LINK.findall(page)


def by_slug(records) -> dict:
    return {r["slug"]: r for r in records}


def public_products(demo) -> dict:
    coops = by_slug(demo["cooperatives"])
    return {
        p["slug"]: p
        for p in demo["products"]
        if p["status"] == "approved" and coops[p["cooperative"]]["status"] == "active"
    }


def unit_name(demo, code, lang="vi") -> str:
    unit = next(u for u in demo["meta"]["units"] if u["code"] == code)
    return unit.get(f"name_{lang}") or unit["name_vi"]


def vnd(amount: int, lang="vi") -> str:
    return f"{amount:,}".replace(",", "." if lang == "vi" else ",") + " ₫"


def ocop_valid(product) -> bool:
    expires = product.get("ocop_expires_on")
    return bool(product.get("ocop_stars")) and (
        expires is None or date.fromisoformat(expires) >= TODAY
    )


def programme_by_timing(demo, timing):
    for event in demo["events"]:
        start = date.fromisoformat(event["start_date"])
        end = date.fromisoformat(event.get("end_date") or event["start_date"])
        actual = "upcoming" if start > TODAY else "past" if end < TODAY else "ongoing"
        if actual == timing:
            return event
    raise LookupError(timing)


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_layout_has_language_nav_and_alternates(client, lang):
    page = get(client, "/", lang)
    assert f'<html lang="{lang}">' in page
    assert 'rel="alternate" hreflang="vi"' in page and 'rel="alternate" hreflang="en"' in page
    assert 'rel="canonical"' in page
    assert 'href="#main"' in page and 'id="main"' in page
    nav = ["Sản phẩm", "Hợp tác xã", "Chương trình"]
    if lang == "en":
        nav = ["Products", "Cooperatives", "Programmes"]
        assert ">Tiếng Việt</a>" in page
    else:
        assert ">English</a>" in page
    for label in nav:
        assert f">{label}</a>" in page


def test_language_choice_is_remembered(client):
    get(client, "/san-pham", "en")
    refresh()
    assert '<html lang="en">' in client.get("/san-pham").get_data(as_text=True)
    get(client, "/san-pham", "vi")
    refresh()
    assert '<html lang="vi">' in client.get("/san-pham").get_data(as_text=True)


# --------------------------------------------------------------------------- home


def test_home_in_vietnamese(client, demo):
    page = get(client, "/")
    for sector in demo["sectors"]:
        assert sector["name_vi"] in page
        assert f'href="/linh-vuc/{sector["slug"]}"' in page
    upcoming = programme_by_timing(demo, "upcoming")
    assert upcoming["name_vi"] in page
    assert f'href="/chuong-trinh/{upcoming["slug"]}"' in page
    assert "Chợ HTX là nơi các hợp tác xã tỉnh Bắc Ninh" in page
    public = public_products(demo)
    featured = card_slugs(page)
    assert 0 < len(featured) <= 8
    assert all(slug in public and ocop_valid(public[slug]) for slug in featured)


def test_home_sector_counts_count_public_products(client, demo):
    page = get(client, "/")
    coops = by_slug(demo["cooperatives"])
    counts = {}
    for product in public_products(demo).values():
        sector = coops[product["cooperative"]]["sector"]
        counts[sector] = counts.get(sector, 0) + 1
    for sector in demo["sectors"]:
        block = page.split(f'href="/linh-vuc/{sector["slug"]}"', 1)[1].split("</a>", 1)[0]
        assert f"{counts.get(sector['slug'], 0)} sản phẩm" in block


def test_home_in_english(client, demo):
    page = get(client, "/", "en")
    for sector in demo["sectors"]:
        assert sector["name_en"] in page
    assert programme_by_timing(demo, "upcoming")["name_en"] in page
    assert "See all products" in page and "Featured OCOP products" in page
    assert "Xem tất cả sản phẩm" not in page


# --------------------------------------------------------------------------- sectors and categories


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sector_page_lists_its_categories_and_products(client, demo, lang):
    sector = demo["sectors"][0]
    coops = by_slug(demo["cooperatives"])
    expected = {
        slug
        for slug, p in public_products(demo).items()
        if coops[p["cooperative"]]["sector"] == sector["slug"]
    }
    page = get(client, f"/linh-vuc/{sector['slug']}", lang)
    assert sector[f"name_{lang}"] in page
    shown = card_slugs(page)
    assert shown and set(shown) <= expected
    category = by_slug(demo["product_categories"])[public_products(demo)[shown[0]]["category"]]
    assert category[f"name_{lang}"] in page
    assert ("Danh mục" if lang == "vi" else "Category") in page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_category_page_shows_its_ocop_group(client, demo, lang):
    category = next(c for c in demo["product_categories"] if c.get("ocop_group"))
    page = get(client, f"/danh-muc/{category['slug']}", lang)
    assert category[f"name_{lang}"] in page
    assert category[f"ocop_group_name_{lang}"] in page
    expected = {s for s, p in public_products(demo).items() if p["category"] == category["slug"]}
    assert set(card_slugs(page)) <= expected and card_slugs(page)


def test_category_without_ocop_group(client, demo):
    category = next(c for c in demo["product_categories"] if not c.get("ocop_group"))
    page = get(client, f"/danh-muc/{category['slug']}")
    assert "Nhóm sản phẩm OCOP" not in page


# --------------------------------------------------------------------------- catalogue


def test_catalogue_lists_public_products_paginated(client, app, demo):
    per_page = app.config["PRODUCTS_PER_PAGE"]
    public = public_products(demo)
    page = get(client, "/san-pham")
    assert len(card_slugs(page)) == min(per_page, len(public))
    assert f"{len(public)} sản phẩm" in page
    for label in ("Lĩnh vực", "Danh mục", "Xã, phường", "Hạng OCOP", "Sắp xếp"):
        assert f">{label}</label>" in page
    assert '<button type="submit"' in page
    seen = []
    pages = -(-len(public) // per_page)
    for number in range(1, pages + 1):
        seen += card_slugs(get(client, f"/san-pham?page={number}"))
    assert sorted(seen) == sorted(public)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", "999", "²", "٣", "9" * 30])
def test_catalogue_bad_page_is_404(client, page):
    get(client, f"/san-pham?page={page}", status=404)


def test_catalogue_filters_by_sector_category_and_locality(client, demo):
    public = public_products(demo)
    coops = by_slug(demo["cooperatives"])
    product = next(iter(public.values()))
    coop = coops[product["cooperative"]]

    shown = card_slugs(get(client, f"/san-pham?sector={coop['sector']}"))
    assert shown and all(coops[public[s]["cooperative"]]["sector"] == coop["sector"] for s in shown)

    shown = card_slugs(get(client, f"/san-pham?category={product['category']}"))
    expected = {s for s, p in public.items() if p["category"] == product["category"]}
    assert set(shown) == expected or (len(shown) == 24 and set(shown) <= expected)

    shown = card_slugs(get(client, f"/san-pham?locality={coop['locality']}"))
    expected = {
        s for s, p in public.items() if coops[p["cooperative"]]["locality"] == coop["locality"]
    }
    assert product["slug"] in shown and set(shown) <= expected


def test_catalogue_filter_form_keeps_its_state(client, demo):
    sector = demo["sectors"][0]["slug"]
    page = get(client, f"/san-pham?sector={sector}&ocop=4&sort=price_desc")
    assert f'<option value="{sector}" selected>' in page
    assert '<option value="4" selected>' in page
    assert '<option value="price_desc" selected>' in page
    assert "Xóa bộ lọc" in page


def test_catalogue_filters_by_valid_ocop_stars(client, demo):
    public = public_products(demo)
    shown = card_slugs(get(client, "/san-pham?ocop=4"))
    expected = {s for s, p in public.items() if ocop_valid(p) and p["ocop_stars"] >= 4}
    assert shown and set(shown) == expected
    expired = [s for s, p in public.items() if p.get("ocop_stars") and not ocop_valid(p)]
    assert expired, "the demo data should hold an expired OCOP certificate"
    assert not set(expired) & set(card_slugs(get(client, "/san-pham?ocop=3&page=1")))


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_catalogue_price_sorts_put_price_on_request_last(client, app, demo, sort):
    public = public_products(demo)
    on_request = {s for s, p in public.items() if not p["price_vnd"]}
    assert on_request, "the demo data should hold products priced on request"
    per_page = app.config["PRODUCTS_PER_PAGE"]
    pages = -(-len(public) // per_page)
    shown = []
    for number in range(1, pages + 1):
        shown += card_slugs(get(client, f"/san-pham?sort={sort}&page={number}"))
    assert sorted(shown) == sorted(public)
    priced = [public[s]["price_vnd"] for s in shown if s not in on_request]
    assert priced == sorted(priced, reverse=sort == "price_desc")
    assert set(shown[-len(on_request) :]) == on_request


def test_catalogue_sort_by_ocop_puts_valid_stars_first(client, demo):
    public = public_products(demo)
    shown = card_slugs(get(client, "/san-pham?sort=ocop"))
    stars = [public[s]["ocop_stars"] if ocop_valid(public[s]) else 0 for s in shown]
    assert stars == sorted(stars, reverse=True) and stars[0] == 5


def test_catalogue_in_english(client, demo):
    page = get(client, "/san-pham?sort=price_asc", "en")
    for label in ("Sector", "Category", "Commune or ward", "OCOP rating", "Sort by"):
        assert f">{label}</label>" in page
    assert "Filter products" in page and "Price: low to high" in page
    public = public_products(demo)
    first = public[card_slugs(page)[0]]
    assert (first["name_en"] or first["name_vi"]) in page


def test_catalogue_pagination_links_keep_filters(client, demo):
    page = get(client, "/san-pham?sort=price_desc")
    # Keyset pages: the next link carries the sort and an opaque cursor (tests/test_catalogue.py).
    assert re.search(
        r'rel="next" href="/san-pham\?[^"]*sort=price_desc[^"]*cursor=[A-Za-z0-9_-]+"',
        page.replace("&amp;", "&"),
    )


# --------------------------------------------------------------------------- product page


def test_product_page_in_vietnamese(client, demo):
    public = public_products(demo)
    slug, product = next(
        (s, p)
        for s, p in public.items()
        if p["price_vnd"] and p.get("traceability_url") and ocop_valid(p)
    )
    coop = by_slug(demo["cooperatives"])[product["cooperative"]]
    page = get(client, f"/san-pham/{slug}")
    assert f'<h1 id="product-title">{product["name_vi"]}</h1>' in page
    assert f"{vnd(product['price_vnd'])} / {unit_name(demo, product['unit'])}" in page
    assert 'class="ocop-line"' in page
    assert f"OCOP {product['ocop_stars']}" in page and str(product["ocop_year"]) in page
    assert product["traceability_url"] in page
    assert product["season"]["vi"] in page
    assert coop["name"] in page
    digits = coop["phone"].replace(" ", "")
    assert f'href="tel:{digits}"' in page
    if coop.get("zalo"):
        assert f'href="https://zalo.me/{coop["zalo"].replace(" ", "")}"' in page
    assert 'alt="' + product["name_vi"] + '"' in page
    assert page.count('class="on"') == len(product["season"]["months"])
    for cert in product["certifications"]:
        name = next(c["name_vi"] for c in demo["meta"]["certifications"] if c["code"] == cert)
        assert name in page
    assert "tự công bố" in page


def test_product_page_in_english(client, demo):
    public = public_products(demo)
    slug, product = next(
        (s, p) for s, p in public.items() if p["price_vnd"] and p.get("name_en") and p["season"]
    )
    page = get(client, f"/san-pham/{slug}", "en")
    assert product["name_en"] in page
    assert product["name_vi"] not in page.split("<main", 1)[1].split("</h1>", 1)[0]
    assert f"{vnd(product['price_vnd'], 'en')} / {unit_name(demo, product['unit'], 'en')}" in page
    assert product["description_en"].splitlines()[0] in page
    for label in ("Minimum order", "Season", "Description", "More in this category", "Made by"):
        assert label in page
    assert ">Jan<" in page and ">Dec<" in page


def test_product_in_english_falls_back_to_vietnamese(client, demo):
    slug, product = next((s, p) for s, p in public_products(demo).items() if not p.get("name_en"))
    page = get(client, f"/san-pham/{slug}", "en")
    assert f'<h1 id="product-title">{product["name_vi"]}</h1>' in page
    assert "Minimum order" in page


def test_minimum_order_uses_the_decimal_comma(client, demo):
    slug, product = next(
        (s, p) for s, p in public_products(demo).items() if isinstance(p["min_order_qty"], float)
    )
    qty = str(product["min_order_qty"]).replace(".", ",")
    assert f"{qty} {unit_name(demo, product['unit'])}" in get(client, f"/san-pham/{slug}")
    qty = str(product["min_order_qty"])
    assert f"{qty} {unit_name(demo, product['unit'], 'en')}" in get(
        client, f"/san-pham/{slug}", "en"
    )


def test_price_on_request_shows_lien_he(client, demo):
    slug = next(s for s, p in public_products(demo).items() if not p["price_vnd"])
    page = get(client, f"/san-pham/{slug}")
    assert '<p class="price price-large">Liên hệ</p>' in page
    assert '<p class="price price-large">Price on request</p>' in get(
        client, f"/san-pham/{slug}", "en"
    )


def test_expired_ocop_badge_is_hidden(client, demo):
    slug, product = next(
        (s, p)
        for s, p in public_products(demo).items()
        if p.get("ocop_stars") and not ocop_valid(p)
    )
    page = get(client, f"/san-pham/{slug}")
    summary = page.split('id="product-title"', 1)[1].split('class="product-details"', 1)[0]
    assert "OCOP" not in summary.split("nhóm OCOP")[0]
    assert 'class="ocop-line"' not in page
    assert product.get("ocop_certificate_no") is None or product["ocop_certificate_no"] not in page
    cooperative = get(client, f"/htx/{product['cooperative']}")
    card = cooperative.split(f'href="/san-pham/{slug}"', 1)[1].split("</article>", 1)[0]
    assert "OCOP" not in card


def test_verified_and_declared_certifications_are_told_apart(client, demo):
    slug, product = next(
        (s, p) for s, p in public_products(demo).items() if len(p["certifications"]) >= 2
    )
    product_id = db.session.scalar(select(Product.id).where(Product.slug == slug))
    first = sorted(product["certifications"])[0]
    db.session.execute(
        update(ProductCertification)
        .where(
            ProductCertification.product_id == product_id,
            ProductCertification.certification_code == first,
        )
        .values(verified=True)
    )
    db.session.commit()
    page = get(client, f"/san-pham/{slug}")
    certs = page.split('class="certs"', 1)[1].split("</ul>", 1)[0]
    assert certs.count("đã xác minh") == 1
    assert certs.count("tự công bố") == len(product["certifications"]) - 1
    certs = get(client, f"/san-pham/{slug}", "en").split('class="certs"', 1)[1].split("</ul>")[0]
    assert "verified" in certs and "self-declared" in certs


def test_related_products_are_other_public_products_of_the_category(client, demo):
    public = public_products(demo)
    slug, product = next(iter(public.items()))
    page = get(client, f"/san-pham/{slug}")
    related = card_slugs(page.split('id="related-title"', 1)[1])
    assert 0 < len(related) <= 4 and slug not in related
    assert all(public[s]["category"] == product["category"] for s in related)


def test_description_is_shown_literally_in_paragraphs(client):
    coop = create_cooperative()
    product = create_product(
        coop, description_vi="<script>alert(1)</script> & <b>đậm</b>\nDòng thứ hai"
    )
    db.session.commit()
    raw = client.get(f"/san-pham/{product.slug}?lang=vi").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "<b>đậm</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;đậm&lt;/b&gt;</p>" in raw
    assert "<p>Dòng thứ hai</p>" in raw


# --------------------------------------------------------------------------- cooperatives


def test_directory_lists_cooperatives_with_filters(client, demo):
    page = get(client, "/htx")
    assert f"{len(demo['cooperatives'])} hợp tác xã" in page
    for label in ("Lĩnh vực", "Xã, phường", "Loại hình"):
        assert f">{label}</label>" in page
    group = next(c for c in demo["cooperatives"] if c["legal_form"] == "to_hop_tac")
    page = get(client, "/htx?legal_form=to_hop_tac")
    assert group["name"] in page and "1 hợp tác xã" in page
    assert "Tổ hợp tác" in page
    sector = demo["sectors"][0]["slug"]
    shown = re.findall(
        r'<h3 class="card-title"><a href="/htx/([a-z0-9-]+)"', get(client, f"/htx?sector={sector}")
    )
    coops = by_slug(demo["cooperatives"])
    assert shown and all(coops[slug]["sector"] == sector for slug in shown)


def test_directory_in_english(client, demo):
    page = get(client, "/htx?legal_form=quy_tin_dung_nhan_dan", "en")
    fund = next(c for c in demo["cooperatives"] if c["legal_form"] == "quy_tin_dung_nhan_dan")
    assert fund["name_en"] in page
    assert "People's Credit Fund" in page and "Filter cooperatives" in page
    assert "1 cooperative" in page


def test_cooperative_page(client, demo):
    coop = next(c for c in demo["cooperatives"] if c.get("zalo") and c.get("email"))
    locality = by_slug(demo["localities"])[coop["locality"]]
    district = locality["district_2022_name_vi"]
    page = get(client, f"/htx/{coop['slug']}")
    assert coop["name"] in page
    assert f"{locality['name_vi']} (trước 7/2025: {district[0].lower()}{district[1:]})" in page
    assert str(coop["founded_year"]) in page and str(coop["member_count"]) in page
    assert coop["description_vi"].splitlines()[0] in page
    assert f'href="tel:{coop["phone"].replace(" ", "")}"' in page
    assert f'href="https://zalo.me/{coop["zalo"].replace(" ", "")}"' in page
    assert f'href="mailto:{coop["email"]}"' in page
    assert "Hợp tác xã" in page
    expected = {s for s, p in public_products(demo).items() if p["cooperative"] == coop["slug"]}
    assert set(card_slugs(page)) == expected


def test_cooperative_page_in_english(client, demo):
    coop = demo["cooperatives"][0]
    locality = by_slug(demo["localities"])[coop["locality"]]
    page = get(client, f"/htx/{coop['slug']}", "en")
    assert coop["name_en"] in page
    assert f"{locality['name_en']} (before 7/2025: {locality['district_2022_name_en']})" in page
    assert "Legal form" in page and "Founded" in page
    assert coop["description_en"].splitlines()[0] in page


def test_cooperative_page_links_its_booths(client, demo):
    event = demo["events"][0]
    booth = event["booths"][0]
    page = get(client, f"/htx/{booth['cooperative']}")
    assert f'href="/chuong-trinh/{event["slug"]}/gian-hang/{booth["number"]}"' in page


# --------------------------------------------------------------------------- programmes


def test_programmes_are_grouped_by_timing(client, demo):
    page = get(client, "/chuong-trinh")
    past, upcoming = programme_by_timing(demo, "past"), programme_by_timing(demo, "upcoming")
    assert page.index("Sắp diễn ra") < page.index(upcoming["name_vi"])
    assert page.index("Đã diễn ra") < page.index(past["name_vi"])
    assert page.index(upcoming["name_vi"]) < page.index("Đã diễn ra")
    page = get(client, "/chuong-trinh", "en")
    assert "Upcoming" in page and "Past" in page and upcoming["name_en"] in page


def test_programme_2022_page(client, demo):
    event = next(e for e in demo["events"] if e["start_date"] == "2022-12-23")
    page = get(client, f"/chuong-trinh/{event['slug']}")
    assert event["name_vi"] in page
    assert "23/12/2022" in page and "– 23/12/2022" not in page
    assert event["location_vi"] in page and event["organizer_vi"] in page
    assert "Số liệu bối cảnh" in page and "694" in page and "95.035" in page
    coops = by_slug(demo["cooperatives"])
    for booth in event["booths"]:
        url = f"/chuong-trinh/{event['slug']}/gian-hang/{booth['number']}"
        name = coops[booth["cooperative"]]["name"]
        assert f'<a href="{url}" aria-label="Gian hàng số {booth["number"]}: {name}">' in page
    assert page.count("<rect") >= len(event["booths"])


def test_programme_page_in_english_with_date_range(client, demo):
    event = programme_by_timing(demo, "upcoming")
    start = date.fromisoformat(event["start_date"]).strftime("%d/%m/%Y")
    end = date.fromisoformat(event["end_date"]).strftime("%d/%m/%Y")
    page = get(client, f"/chuong-trinh/{event['slug']}", "en")
    assert event["name_en"] in page and f"{start} – {end}" in page
    assert "Booth map" in page and "Upcoming" in page
    first = by_slug(demo["cooperatives"])[event["booths"][0]["cooperative"]]
    assert f'aria-label="Booth {event["booths"][0]["number"]}: {first["name_en"]}"' in page


def test_floor_plan_places_booths_row_major_or_at_their_cell(client):
    coops = [create_cooperative() for _ in range(3)]
    programme = create_programme(slug="cho-thu-nghiem-so-do", plan_columns=2, plan_rows=1)
    create_booth(programme, 5, coops[0])
    create_booth(programme, 7, coops[1])
    placed = create_booth(programme, 9, coops[2])
    placed.plan_column, placed.plan_row = 1, 1
    db.session.commit()
    page = get(client, "/chuong-trinh/cho-thu-nghiem-so-do")
    cell = r'gian-hang/(\d+)" aria-label=[^>]*>\s*<title>[^<]*</title>\s*<rect [^>]*'
    cell += r'x="(\d+)" y="(\d+)"'
    cells = re.findall(cell, page)
    positions = {int(n): (int(x), int(y)) for n, x, y in cells}
    assert positions[9][1] == positions[5][1] < positions[7][1]  # 9 pinned to 1,1; 5 next; 7 wraps
    assert positions[9][0] < positions[5][0] and positions[7][0] == positions[9][0]


def test_booth_page(client, demo):
    event = programme_by_timing(demo, "upcoming")
    booth = event["booths"][0]
    coop = by_slug(demo["cooperatives"])[booth["cooperative"]]
    public = public_products(demo)
    page = get(client, f"/chuong-trinh/{event['slug']}/gian-hang/{booth['number']}")
    assert coop["name"] in page and event["name_vi"] in page
    assert f"Gian hàng số {booth['number']}" in page
    featured = [s for s in booth["featured_products"] if s in public]
    assert card_slugs(page) == featured
    first = public[featured[0]]
    if first["price_vnd"]:
        assert f"{vnd(first['price_vnd'])} / {unit_name(demo, first['unit'])}" in page
    assert f'href="tel:{coop["phone"].replace(" ", "")}"' in page
    page = get(client, f"/chuong-trinh/{event['slug']}/gian-hang/{booth['number']}", "en")
    assert f"Booth {booth['number']}" in page and "Products on display" in page
    assert coop["name_en"] in page


def test_booth_hides_products_no_longer_published(client, demo):
    event = programme_by_timing(demo, "upcoming")
    booth = event["booths"][0]
    hidden = booth["featured_products"][0]
    db.session.execute(
        update(Product).where(Product.slug == hidden).values(status=ProductStatus.ARCHIVED)
    )
    db.session.commit()
    page = get(client, f"/chuong-trinh/{event['slug']}/gian-hang/{booth['number']}")
    assert hidden not in card_slugs(page) and card_slugs(page)


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize(
    "url",
    [
        "/khong-co-trang-nay",
        "/san-pham/khong-co-san-pham-nay",
        "/linh-vuc/khong-co",
        "/danh-muc/khong-co",
        "/htx/khong-co",
        "/chuong-trinh/khong-co",
        "/chuong-trinh/khong-co/gian-hang/1",
    ],
)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_unknown_pages_are_a_friendly_404(client, url, lang):
    page = get(client, url, lang, status=404)
    assert f'<html lang="{lang}">' in page
    if lang == "vi":
        assert "Không tìm thấy trang" in page and "Về trang chủ" in page
    else:
        assert "Page not found" in page and "Go to the home page" in page


@pytest.mark.parametrize(
    "url",
    [
        "/san-pham/%00",
        "/san-pham/A%C3%A2",
        "/htx/x%00y",
        "/linh-vuc/" + "a" * 500,
        "/chuong-trinh/%00/gian-hang/1",
        "/chuong-trinh/x/gian-hang/99999999999999999999999",
    ],
)
def test_malformed_addresses_are_404_not_500(client, url):
    get(client, url, status=404)


def test_malformed_filters_are_ignored(client):
    for url in (
        "/san-pham?sector=%00&category=%00&locality=%00&ocop=9999999999999999999",
        "/htx?sector=%00&legal_form=%ff&locality=" + "a" * 500,
    ):
        get(client, url)


def test_unknown_booth_number_is_404(client, demo):
    event = demo["events"][0]
    top = max(b["number"] for b in event["booths"])
    get(client, f"/chuong-trinh/{event['slug']}/gian-hang/{top + 1}", status=404)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_server_error_page_in_both_languages(app, lang):
    with app.test_request_context(f"/?lang={lang}"):
        page = render_template("errors/500.html")
    assert f'<html lang="{lang}">' in page
    assert ("Đã có lỗi xảy ra" if lang == "vi" else "Something went wrong") in page


# --------------------------------------------------------------------------- visibility

PUBLIC_LISTS = ["/", "/san-pham", "/san-pham?sort=price_asc", "/san-pham?page=2", "/htx"]


def test_unpublished_products_appear_nowhere(client, demo):
    hidden = [p for p in demo["products"] if p["status"] != "approved"]
    assert hidden
    for product in hidden:
        get(client, f"/san-pham/{product['slug']}", status=404)
    pages = PUBLIC_LISTS + [f"/htx/{p['cooperative']}" for p in hidden]
    pages += [f"/danh-muc/{p['category']}" for p in hidden]
    for url in pages:
        for lang in ("vi", "en"):
            page = get(client, url, lang)
            for product in hidden:
                assert f'/san-pham/{product["slug"]}"' not in page
                assert product["name_vi"] not in page


def test_unverified_cooperatives_and_their_products_appear_nowhere(client, demo):
    event = programme_by_timing(demo, "upcoming")
    booth = event["booths"][0]
    coop_slug = booth["cooperative"]
    coop = by_slug(demo["cooperatives"])[coop_slug]
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.slug == coop_slug)
        .values(status=CooperativeStatus.SUSPENDED)
    )
    db.session.commit()
    products = [s for s, p in public_products(demo).items() if p["cooperative"] == coop_slug]
    get(client, f"/htx/{coop_slug}", status=404)
    get(client, f"/chuong-trinh/{event['slug']}/gian-hang/{booth['number']}", status=404)
    for slug in products:
        get(client, f"/san-pham/{slug}", status=404)
    urls = PUBLIC_LISTS + [f"/chuong-trinh/{event['slug']}", "/chuong-trinh"]
    urls += [f"/danh-muc/{public_products(demo)[s]['category']}" for s in products]
    for url in urls:
        page = get(client, url)
        assert coop["name"] not in page and f'/htx/{coop_slug}"' not in page
        assert not set(products) & set(card_slugs(page))
    plan = get(client, f"/chuong-trinh/{event['slug']}")
    assert f'gian-hang/{booth["number"]}"' not in plan and "Gian hàng trống" in plan


def test_pending_cooperative_made_with_factories_stays_hidden(client):
    coop = create_cooperative(status=CooperativeStatus.PENDING, name="HTX Chờ xác minh")
    product = create_product(coop, name_vi="Sản phẩm của HTX chờ xác minh")
    db.session.commit()
    get(client, f"/htx/{coop.slug}", status=404)
    get(client, f"/san-pham/{product.slug}", status=404)
    for url in ("/", "/san-pham", "/htx", "/htx?sector=", "/san-pham?sort=ocop"):
        page = get(client, url)
        assert "HTX Chờ xác minh" not in page and "Sản phẩm của HTX chờ xác minh" not in page


def test_draft_programmes_are_hidden(client):
    programme = db.session.scalar(select(Programme).limit(1))
    db.session.execute(update(Programme).where(Programme.id == programme.id).values(status="draft"))
    db.session.commit()
    get(client, f"/chuong-trinh/{programme.slug}", status=404)
    booth = db.session.scalar(select(Booth).where(Booth.programme_id == programme.id).limit(1))
    get(client, f"/chuong-trinh/{programme.slug}/gian-hang/{booth.number}", status=404)
    assert programme.title_vi not in get(client, "/chuong-trinh")


# --------------------------------------------------------------------------- translations

PAGE_SOURCES = ["templates", "shop"]  # every template and every Python module


def test_every_message_has_an_english_translation():
    """Extract every msgid of the app and find each translated in the English catalogue."""
    from pathlib import Path

    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    with (root / "shop/translations/en/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.id:
            assert "fuzzy" not in message.flags, message.id
            strings = message.string if isinstance(message.string, tuple) else [message.string]
            assert all(strings), f"untranslated: {message.id!r}"

    keywords = {
        **DEFAULT_KEYWORDS,
        "lazy_gettext": None,
        "_l": None,
        "lazy_pgettext": ((1, "c"), 2),
    }
    files = []
    for source in PAGE_SOURCES:
        path = root / source
        files += sorted(path.rglob("*.html")) + sorted(path.rglob("*.py"))
    missing = []
    for path in files:
        method = "jinja2.ext.babel_extract" if path.suffix == ".html" else "python"
        for _lineno, msgid, _comments, context in extract_from_file(
            method, str(path), keywords=keywords
        ):
            key = msgid[0] if isinstance(msgid, tuple) else msgid
            if catalog.get(key, context=context) is None:
                missing.append((path.name, key))
    assert not missing, f"run pybabel extract/update and translate: {missing}"
