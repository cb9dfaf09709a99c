"""Marketplace feeds: /feeds/products.xml (RSS 2.0 + Google's g: namespace) and .csv."""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.bulk import feeds, queries
from shop.catalog.models import Product, ProductStatus
from shop.catalog.queries import public_products
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.db import utcnow
from shop.extensions import db
from tests.factories import add_photos, create_cooperative, create_product, load_taxonomy

XML = "/feeds/products.xml"
CSV = "/feeds/products.csv"
G = "{http://base.google.com/ns/1.0}"


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.data)  # raises on anything that is not well-formed XML


def items_by_id(root: ET.Element) -> dict[str, dict]:
    """{g:id: {attribute: text, or a list for additional_image_link}} of every item."""
    found = {}
    for item in root.iter("item"):
        fields: dict = {"additional_image_link": []}
        for child in item:
            assert child.tag.startswith(G), child.tag
            name = child.tag[len(G) :]
            if name == "additional_image_link":
                fields[name].append(child.text)
            else:
                fields[name] = child.text
        found[fields["id"]] = fields
    return found


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert not text.startswith("\ufeff")  # machines read it: no BOM sticking to "id"
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def shelf(client):
    """Products the feed must list and products it must leave out."""
    shown = create_cooperative(name="HTX Gốm Phù Lãng", name_en="Phu Lang Pottery Cooperative")
    suspended = create_cooperative(name="HTX Tạm ngưng", status=CooperativeStatus.SUSPENDED)
    pending = create_cooperative(name="HTX Chờ xác minh", status=CooperativeStatus.PENDING)
    products = {
        "listed": create_product(
            shown,
            name_vi="Bình gốm men da lươn",
            name_en="Eel-skin glaze vase",
            description_vi="Bình gốm <b>nung củi</b>,\nmen da lươn.",
            description_en="Wood-fired vase with eel-skin glaze.",
            price_vnd=450000,
        ),
        "vietnamese_only": create_product(
            shown, name_vi="Chum gốm nhỏ", description_vi="", price_vnd=90000
        ),
        "made_to_order": create_product(
            shown, name_vi="Tượng gốm đặt làm", price_vnd=1200000, made_to_order=True
        ),
        "no_price": create_product(shown, name_vi="Lu gốm lớn giá liên hệ", price_vnd=None),
        "draft": create_product(shown, name_vi="Bản nháp gốm", status=ProductStatus.DRAFT),
        "submitted": create_product(shown, name_vi="Gốm chờ duyệt", status=ProductStatus.SUBMITTED),
        "archived": create_product(shown, name_vi="Gốm lưu trữ", status=ProductStatus.ARCHIVED),
        "suspended": create_product(suspended, name_vi="Gốm của HTX tạm ngưng"),
        "pending": create_product(pending, name_vi="Gốm của HTX chờ xác minh"),
    }
    images = add_photos(products["listed"], 12)
    db.session.commit()
    return {"products": products, "images": images, "cooperative": shown}


def listed_ids() -> set[str]:
    """What the feed should list: the public catalogue's products that have a price."""
    stmt = public_products().where(Product.price_vnd.is_not(None)).with_only_columns(Product.id)
    return {str(i) for i in db.session.scalars(stmt)}


# --------------------------------------------------------------------------- XML


def test_xml_feed_is_rss_with_googles_namespace(client, shelf):
    response = client.get(XML)
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b'xmlns:g="http://base.google.com/ns/1.0"' in response.data
    root = parse(response)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "Chợ HTX — sản phẩm của các hợp tác xã tỉnh Bắc Ninh"
    assert channel.findtext("link") == "http://localhost/san-pham"
    assert channel.findtext("language") == "vi"


def test_xml_feed_lists_published_priced_products_of_verified_cooperatives_only(client, shelf):
    items = items_by_id(parse(client.get(XML)))
    products = shelf["products"]
    assert set(items) == listed_ids()
    for key in ("listed", "vietnamese_only", "made_to_order"):
        assert str(products[key].id) in items, key
    for key in ("no_price", "draft", "submitted", "archived", "suspended", "pending"):
        assert str(products[key].id) not in items, key


def test_xml_item_says_what_google_asks_for(client, shelf):
    product, images = shelf["products"]["listed"], shelf["images"]
    item = items_by_id(parse(client.get(XML)))[str(product.id)]
    assert item["title"] == "Bình gốm men da lươn"
    # Plain text: the tag and the line break are gone.
    assert item["description"] == "Bình gốm nung củi , men da lươn."
    assert item["link"] == f"http://localhost/san-pham/{product.slug}"
    assert item["image_link"] == f"http://localhost/media/{images[0].sha256}/1600.webp"
    assert item["additional_image_link"] == [
        f"http://localhost/media/{image.sha256}/1600.webp" for image in images[1:11]
    ]
    assert item["price"] == "450000 VND"
    assert item["availability"] == "in_stock"
    assert item["brand"] == "HTX Gốm Phù Lãng"
    assert item["condition"] == "new"
    sector, category = item["product_type"].split(" > ")
    assert sector and category
    assert item["identifier_exists"] == "no"


def test_made_to_order_is_backorder_and_no_photo_means_no_image_link(client, shelf):
    items = items_by_id(parse(client.get(XML)))
    made = items[str(shelf["products"]["made_to_order"].id)]
    assert made["availability"] == "backorder"
    assert "image_link" not in made
    assert made["additional_image_link"] == []
    plain = items[str(shelf["products"]["vietnamese_only"].id)]
    assert plain["description"] == "Chum gốm nhỏ"  # no description: the name stands in


def test_english_feed_uses_english_where_it_exists(client, shelf):
    root = parse(client.get(XML + "?lang=en"))
    channel = root.find("channel")
    assert channel.findtext("title") == "Chợ HTX — products of Bắc Ninh province's cooperatives"
    assert channel.findtext("language") == "en"
    items = items_by_id(root)
    listed = items[str(shelf["products"]["listed"].id)]
    assert listed["title"] == "Eel-skin glaze vase"
    assert listed["description"] == "Wood-fired vase with eel-skin glaze."
    assert listed["brand"] == "Phu Lang Pottery Cooperative"
    assert listed["link"].endswith(f"/san-pham/{shelf['products']['listed'].slug}?lang=en")
    sector, category = listed["product_type"].split(" > ")
    assert sector.isascii() and category.isascii()  # the English names of the demo taxonomy
    fallback = items[str(shelf["products"]["vietnamese_only"].id)]
    assert fallback["title"] == "Chum gốm nhỏ"
    # The remembered interface language never changes the Vietnamese feed's content.
    assert parse(client.get(XML)).find("channel").findtext("language") == "vi"


def test_names_with_markup_characters_and_control_characters_stay_valid_xml(client, shelf):
    product = db.session.get(Product, shelf["products"]["listed"].id)
    # (PostgreSQL stores no NUL byte: plain_text's own test covers it.)
    product.name_vi = 'Gốm "Lãng" <Tết> & quà\x01\x07\x1b biếu'
    product.description_vi = "A < B & C > D\x0b\x0c; ]]> <![CDATA[ x ]]>\ufffe"
    db.session.get(Cooperative, shelf["cooperative"].id).name = 'HTX "Gốm" & <Sứ>'
    db.session.commit()
    item = items_by_id(parse(client.get(XML)))[str(product.id)]
    assert item["title"] == 'Gốm "Lãng" <Tết> & quà biếu'
    assert item["description"] == "A < B & C > D; ]]> <![CDATA[ x ]]>"
    assert item["brand"] == 'HTX "Gốm" & <Sứ>'


def test_plain_text_drops_controls_and_html_tags_but_keeps_text_in_brackets():
    text = "\x00Bánh <b>cốm</b>\r\n<Tết>\x85 <br/>ngon\u200b\ud800"
    assert feeds.plain_text(text, 100) == "Bánh cốm <Tết> ngon\u200b"
    assert feeds.plain_text("a" * 10, 5) == "aaaa…"
    assert feeds.plain_text(None, 5) == ""


def test_long_texts_are_cut_to_googles_limits(client, shelf):
    product = db.session.get(Product, shelf["products"]["listed"].id)
    product.name_vi = "Bình gốm " * 28  # 252 characters (the column holds 255)
    product.description_vi = "Mô tả rất dài. " * 500
    db.session.commit()
    item = items_by_id(parse(client.get(XML)))[str(product.id)]
    assert len(item["title"]) <= feeds.TITLE_CHARS
    assert item["title"].endswith("…")
    assert len(item["description"]) <= feeds.DESCRIPTION_CHARS


def test_links_use_site_url_when_configured(client, shelf, monkeypatch):
    monkeypatch.setitem(client.application.config, "SITE_URL", "https://cho-htx.example.vn/")
    item = items_by_id(parse(client.get(XML)))[str(shelf["products"]["listed"].id)]
    assert item["link"].startswith("https://cho-htx.example.vn/san-pham/")
    assert item["image_link"].startswith("https://cho-htx.example.vn/media/")


# --------------------------------------------------------------------------- CSV


def test_csv_feed_has_the_same_items(client, shelf):
    rows = read_csv(client.get(CSV))
    assert list(rows[0]) == list(feeds.CSV_FIELDS)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == listed_ids()
    listed = by_id[str(shelf["products"]["listed"].id)]
    images = shelf["images"]
    assert listed["title"] == "Bình gốm men da lươn"
    assert listed["price"] == "450000 VND"
    assert listed["brand"] == "HTX Gốm Phù Lãng"
    assert listed["image_link"].endswith(f"/media/{images[0].sha256}/1600.webp")
    assert listed["additional_image_link"].split(",") == [
        f"http://localhost/media/{image.sha256}/1600.webp" for image in images[1:11]
    ]
    english = {row["id"]: row for row in read_csv(client.get(CSV + "?lang=en"))}
    assert english[str(shelf["products"]["listed"].id)]["title"] == "Eel-skin glaze vase"


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example/","Bấm")', "-2+3", "@SUM(1)", "+1"]
)
def test_csv_feed_escapes_formulas(client, shelf, name):
    product = db.session.get(Product, shelf["products"]["listed"].id)
    product.name_vi = name
    db.session.commit()
    rows = {row["id"]: row for row in read_csv(client.get(CSV))}
    assert rows[str(product.id)]["title"] == "'" + name
    # The XML feed is not a spreadsheet: its text is left as written.
    assert items_by_id(parse(client.get(XML)))[str(product.id)]["title"] == name


# --------------------------------------------------------------------------- caching


@pytest.mark.parametrize("url", [XML, CSV, XML + "?lang=en"])
def test_feeds_revalidate_with_etag_and_last_modified(client, shelf, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first.cache_control.public
    assert first.cache_control.max_age == 3600
    etag = first.headers["ETag"]
    last_modified = first.headers["Last-Modified"]
    assert etag and last_modified

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.cache_control.max_age == 3600
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304

    # A change to a listed product makes the feed new again.
    product = db.session.get(Product, shelf["products"]["listed"].id)
    product.price_vnd = 460000
    product.updated_at = utcnow() + timedelta(seconds=5)
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"460000 VND" in changed.data


def test_feeds_set_no_cookie_that_a_shared_cache_could_keep(client, shelf):
    for url in (XML + "?lang=en", CSV + "?lang=en", XML):
        response = client.get(url)
        response.get_data()
        assert "Set-Cookie" not in response.headers, url


def test_each_format_and_language_has_its_own_etag(client, shelf):
    etags = {client.get(url).headers["ETag"] for url in (XML, CSV, XML + "?lang=en")}
    assert len(etags) == 3


def test_a_product_leaving_the_feed_changes_the_etag(client, shelf):
    etag = client.get(XML).headers["ETag"]
    db.session.get(Cooperative, shelf["cooperative"].id).status = CooperativeStatus.SUSPENDED
    db.session.commit()
    response = client.get(XML, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert str(shelf["products"]["listed"].id) not in items_by_id(parse(response))


def test_feeds_are_public(client):
    for url in (XML, CSV):
        response = client.get(url)
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert response.get_data()
        head = client.head(url)
        assert head.status_code == 200
        assert head.headers["ETag"] == response.headers["ETag"]
        assert head.get_data() == b""


# --------------------------------------------------------------------------- cost


def test_statements_grow_with_batches_not_rows(blank_db, count_queries, monkeypatch):
    load_taxonomy()
    coop = create_cooperative()

    def grow(count):
        for _ in range(count):
            add_photos(create_product(coop), 2)
        db.session.commit()

    client = blank_db.test_client()

    def measure():
        counts = []
        for url in (XML, CSV):
            with count_queries() as counter:
                response = client.get(url)
                response.get_data()
            assert response.status_code == 200
            counts.append(counter.count)
        return counts

    grow(10)
    with_10 = measure()
    assert with_10 == [3, 3]  # the validators, one batch of products, its photos
    grow(90)
    assert measure() == with_10
    total = db.session.scalar(select(func.count(Product.id)))
    assert total == 100

    # Batches of 30: four batches (two statements each) where there was one.
    monkeypatch.setattr(queries, "BATCH", 30)
    assert measure() == [n + 3 * 2 for n in with_10]
    assert len(items_by_id(parse(client.get(XML)))) == 100

    # A revalidation costs the validators' statement alone.
    etag = client.get(XML).headers["ETag"]
    with count_queries() as counter:
        assert client.get(XML, headers={"If-None-Match": etag}).status_code == 304
    assert counter.count == 1
