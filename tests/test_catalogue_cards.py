"""Listing cards read as plain rows (shop/catalog/cards.py) and the vocabularies kept per version.

A card must show what the product's model shows: the same names in both languages, price and
unit, cooperative and commune, cover photo and OCOP badge.
"""

import html
import re
from datetime import date, timedelta

from flask_babel import refresh
from sqlalchemy import select

from shop.catalog import queries
from shop.catalog.cards import card_of, card_select
from shop.catalog.models import Category, Unit
from shop.cooperatives.models import Locality, Sector
from shop.extensions import db
from tests.factories import add_photos, create_cooperative, create_product, load_taxonomy

TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY


def get(client, url, lang="vi") -> str:
    refresh()
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}lang={lang}")
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True)).replace("\u00a0", " ")


def cards(stmt) -> dict[int, object]:
    return {card.id: card for card in map(card_of, db.session.execute(card_select(stmt)))}


def make_shelf():
    load_taxonomy()
    locality = db.session.scalars(select(Locality).order_by(Locality.id)).first()
    coop = create_cooperative(
        name="HTX Mật ong Đồi Thông", name_en="Pine Hill Honey Cooperative", locality=locality
    )
    honey = create_product(
        coop,
        name_vi="Mật ong hoa nhãn",
        name_en="Longan honey",
        price_vnd=185_000,
        ocop_stars=4,
        ocop_expires_on=TODAY,
    )
    plain = create_product(
        coop, name_vi="Sáp ong", name_en=None, price_vnd=None, ocop_stars=3,
        ocop_expires_on=TODAY - timedelta(days=1),
    )  # fmt: skip
    # The cover, and a second photo that must not make a second card.
    image = add_photos(honey, 2, size=(1600, 1200), alt_vi="Hũ mật ong", alt_en="A jar of honey")[0]
    db.session.commit()
    return coop, honey, plain, image


def test_a_card_holds_what_the_model_shows(blank_db):
    coop, honey, plain, image = make_shelf()
    found = cards(queries.public_products())
    assert set(found) == {honey.id, plain.id}  # one card per product, whatever its photos
    card = found[honey.id]
    unit = db.session.get(Unit, honey.unit_code)
    sector = db.session.get(Sector, honey.sector_id)
    assert (card.slug, card.name_vi, card.name_en) == (
        honey.slug,
        "Mật ong hoa nhãn",
        "Longan honey",
    )
    assert (card.price_vnd, card.category_id) == (185_000, honey.category_id)
    assert (card.unit.name_vi, card.unit.name_en) == (unit.name_vi, unit.name_en)
    assert card.sector.slug == sector.slug
    assert card.cooperative.name == "HTX Mật ong Đồi Thông"
    locality = db.session.get(Locality, coop.locality_id)
    assert card.cooperative.locality.short_name == locality.short_name
    assert (card.cover.image.sha256, card.cover.image.width, card.cover.image.height) == (
        image.sha256,
        1600,
        1200,
    )
    assert (card.cover.alt_vi, card.cover.alt_en) == ("Hũ mật ong", "A jar of honey")
    assert card.published_at == honey.published_at.replace(tzinfo=card.published_at.tzinfo)
    # The same rules as the model's.
    assert card.ocop_valid_on(TODAY) and not found[plain.id].ocop_valid_on(TODAY)
    assert card.t("name", "en") == "Longan honey"
    assert found[plain.id].t("name", "en") == "Sáp ong"  # no English name: the Vietnamese one
    assert found[plain.id].cover is None and found[plain.id].price_vnd is None
    assert card.cooperative.t("name", "en") == "Pine Hill Honey Cooperative"


def test_listing_pages_show_the_card_in_both_languages(blank_db, blank_client):
    coop, honey, plain, image = make_shelf()
    for url in ("/san-pham", "/san-pham?sort=ocop", "/san-pham?q=mat+ong", "/tim-kiem?q=mat+ong"):
        page = get(blank_client, url)
        card = page.split(f'href="/san-pham/{honey.slug}"', 1)[0].rsplit("<article", 1)[1]
        card += page.split(f'href="/san-pham/{honey.slug}"', 1)[1].split("</article>", 1)[0]
        assert f"/media/{image.sha256}/320.webp" in card, url
        assert 'alt="Hũ mật ong"' in card
        assert "185.000 ₫ / " in card and "HTX Mật ong Đồi Thông" in card
        assert 'title="Sản phẩm OCOP 4 sao"' in card and "OCOP 4<span" in card
        assert card.count("★") == 4
        wax = page.split(f'href="/san-pham/{plain.slug}"', 1)[1].split("</article>", 1)[0]
        assert "Liên hệ" in wax and "OCOP" not in wax  # expired stars are not shown
        english = get(blank_client, url, "en")
        assert "Longan honey" in english and 'alt="A jar of honey"' in english, url
        assert "185,000 ₫ / " in english and "Pine Hill Honey Cooperative" in english
        # The badge is rendered once per language: the English one is not the Vietnamese one.
        assert 'title="4-star OCOP product"' in english and "Sản phẩm OCOP" not in english
        assert '<span class="visually-hidden"> stars</span>' in english


def category_options(page: str) -> list[str]:
    menu = page.split('name="category"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([a-z0-9-]+)"', menu)


def test_the_menus_follow_a_new_category_at_once(blank_db, blank_client, count_queries):
    coop, _honey, _plain, _image = make_shelf()
    before = category_options(get(blank_client, "/san-pham"))
    with count_queries() as counter:
        get(blank_client, "/san-pham")
    # Kept: no statement reads the vocabularies again.
    assert not [s for s in counter.statements if "terms" in s]
    wax = Category(slug="sap-ong-moi", name_vi="Sáp ong", name_en="Beeswax", sort_order=999)
    db.session.add(wax)
    db.session.flush()
    create_product(coop, category=wax, name_vi="Nến sáp ong")
    db.session.commit()
    after = category_options(get(blank_client, "/san-pham"))
    assert after == [*before, "sap-ong-moi"]


def test_a_renamed_vocabulary_shows_once_the_kept_copy_ages(blank_db, blank_client, monkeypatch):
    _coop, honey, _plain, _image = make_shelf()
    get(blank_client, "/san-pham")
    category = db.session.get(Category, honey.category_id)
    category.name_vi = "Mật ong rừng và mật ong nuôi"
    db.session.commit()
    monkeypatch.setattr(queries, "FACET_CACHE_SECONDS", 0)
    assert "Mật ong rừng và mật ong nuôi" in get(blank_client, "/san-pham")
