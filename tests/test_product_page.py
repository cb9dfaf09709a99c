"""The product page: where else to buy, the traceability QR code, the cooperative card, photos."""

import io
import json
import re
from datetime import date

import pytest
import segno
from PIL import Image

from shop.catalog.models import ProductImage, ProductLink
from shop.cooperatives.models import Cooperative, Locality
from shop.extensions import db
from shop.media.services import store_image
from shop.seo.qr import BORDER
from tests.factories import create_cooperative, create_product
from tests.helpers import page_text

TRACE = "https://truyxuat.example/lo-hang?ma=BN-0042&nam=2026"


def get(client, url, lang=None):
    response = client.get(url + (f"?lang={lang}" if lang else ""))
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def jpeg(colour, size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def product(client):
    coop = create_cooperative(
        name="HTX Gừng Quế Võ",
        phone="0912 345 678",
        zalo="0912345678",
    )
    item = create_product(coop, slug="gung-que-vo", name_vi="Gừng Quế Võ", traceability_url=TRACE)
    db.session.commit()
    return item


def add_links(product, *pairs):
    for position, (label, url) in enumerate(pairs):
        db.session.add(ProductLink(product_id=product.id, position=position, label=label, url=url))
    db.session.commit()


# --------------------------------------------------------------------------- where else to buy


def test_where_to_buy_lists_only_web_links_in_order_with_nofollow(client, product):
    add_links(
        product,
        ("Gian hàng Shopee", "https://shopee.vn/gung-que-vo"),
        ("Trang của HTX", "http://www.gung-que-vo.example/mua"),
        ("Bấm vào đây", "javascript:alert(1)"),
        ("Ảnh", "data:text/html,<b>x</b>"),
        ("Không giao thức", "tiki.vn/gung"),
    )
    page = get(client, "/san-pham/gung-que-vo")
    section = page.split('id="buy-title"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a href="([^"]+)" rel="([^"]+)">([^<]+)</a>', section)
    assert links == [
        ("https://shopee.vn/gung-que-vo", "nofollow noopener", "Gian hàng Shopee"),
        ("http://www.gung-que-vo.example/mua", "nofollow noopener", "Trang của HTX"),
    ]
    assert "javascript:" not in page and "data:text/html" not in page and "tiki.vn" not in page
    text = page_text(client.get("/san-pham/gung-que-vo"))
    assert "Mua ở nơi khác" in text
    assert "shopee.vn" in text and "gung-que-vo.example" in text  # where each link leads


def test_where_to_buy_in_english(client, product):
    add_links(product, ("Shopee", "https://shopee.vn/gung-que-vo"))
    assert "Where else to buy" in get(client, "/san-pham/gung-que-vo", "en")


def test_no_where_to_buy_section_without_usable_links(client, product):
    assert 'id="buy-title"' not in get(client, "/san-pham/gung-que-vo")
    add_links(product, ("Lỗi", "javascript:void(0)"))
    assert 'id="buy-title"' not in get(client, "/san-pham/gung-que-vo")


def test_link_labels_are_shown_literally(client, product):
    add_links(product, ('<img src=x onerror="alert(1)">', "https://shopee.vn/x"))
    page = get(client, "/san-pham/gung-que-vo")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=" in page


# --------------------------------------------------------------------------- traceability QR


def svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules a segno SVG path draws (M x y absolute, h n dark run, m dx dy move)."""
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for command, args in re.findall(r"([Mmh])([-\d. ]+)", path):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            run = int(numbers[0])
            dark.update((int(x) + i - BORDER, int(y - 0.5) - BORDER) for i in range(run))
            x += run
    return dark


def test_traceability_qr_code_encodes_the_traceability_address(client, product):
    page = get(client, "/san-pham/gung-que-vo")
    section = page.split('id="trace-title"', 1)[1].split("</section>", 1)[0]
    svg = re.search(r"<svg .*?</svg>", section, re.S).group(0)
    assert 'role="img"' in svg and "<title>Mã QR truy xuất nguồn gốc của Gừng Quế Võ</title>" in svg
    # Read the drawn matrix back and compare it with the QR code of the address.
    expected = segno.make(TRACE, error="m")
    dark = {(x, y) for y, row in enumerate(expected.matrix) for x, bit in enumerate(row) if bit}
    assert svg_modules(svg) == dark
    assert f'href="{TRACE.replace("&", "&amp;")}" rel="noopener nofollow"' in section
    assert "truyxuat.example" in page_text(client.get("/san-pham/gung-que-vo"))


def test_qr_code_of_another_address_differs(client, product):
    page = get(client, "/san-pham/gung-que-vo")
    svg = re.search(r'<svg role="img".*?</svg>', page, re.S).group(0)
    other = segno.make("https://truyxuat.example/khac", error="m")
    assert svg_modules(svg) != {
        (x, y) for y, row in enumerate(other.matrix) for x, bit in enumerate(row) if bit
    }


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "ftp://truyxuat.example/x"])
def test_no_qr_code_without_a_web_traceability_address(client, product, url):
    product.traceability_url = url
    db.session.commit()
    page = get(client, "/san-pham/gung-que-vo")
    assert 'id="trace-title"' not in page and "<svg role" not in page
    assert "javascript:" not in page


def test_traceability_in_english(client, product):
    page = get(client, "/san-pham/gung-que-vo", "en")
    assert "Traceability QR code of" in page
    assert "Scan with a phone camera to open the traceability page." in page


# --------------------------------------------------------------------------- cooperative card


@pytest.mark.parametrize("lang, verified", [("vi", "Đã xác minh"), ("en", "Verified")])
def test_cooperative_card_shows_verified_mark_commune_and_contacts(client, product, lang, verified):
    page = get(client, "/san-pham/gung-que-vo", lang)
    card = page.split('class="card coop-card"', 1)[1].split("</section>", 1)[0]
    assert "HTX Gừng Quế Võ" in card
    assert f"✓ {verified}" in card
    assert 'href="tel:0912345678"' in card
    assert 'href="https://zalo.me/0912345678"' in card
    cooperative = db.session.get(Cooperative, product.cooperative_id)
    commune = db.session.get(Locality, cooperative.locality_id)
    assert f'<p class="card-meta">{commune.t("name", lang)}' in card


# --------------------------------------------------------------------------- photos


@pytest.fixture
def photos(client, product, media_storage, app):
    with app.test_request_context():
        images = [store_image(jpeg(colour)) for colour in ((200, 60, 20), (30, 120, 60))]
        for position, image in enumerate(images):
            db.session.add(
                ProductImage(
                    product_id=product.id,
                    image_id=image.id,
                    position=position,
                    alt_vi=f"Củ gừng, ảnh {position + 1}",
                )
            )
        db.session.commit()
    return images


def test_gallery_has_srcset_and_sizes(client, photos):
    page = get(client, "/san-pham/gung-que-vo")
    main = re.search(r'<a class="gallery-main".*?</a>', page, re.S).group(0)
    sha = photos[0].sha256
    # A 1200 px wide photo: its "1600" derivative is as wide as the photo itself.
    derivatives = (("320.webp", 320), ("800.webp", 800), ("1600.webp", 1200))
    srcset = ", ".join(f"/media/{sha}/{name} {width}w" for name, width in derivatives)
    assert f'srcset="{srcset}"' in main
    assert 'sizes="(min-width: 72rem) 31rem' in main
    assert 'width="800" height="600"' in main and 'alt="Củ gừng, ảnh 1"' in main
    # The second photo is a thumbnail whose large version the gallery script swaps in.
    assert f'data-src="/media/{photos[1].sha256}/800.webp"' in page


def test_page_statements_do_not_grow_with_links_photos_and_certifications(
    client, product, count_queries, media_storage, app
):
    def statements():
        with count_queries() as counter:
            assert client.get("/san-pham/gung-que-vo").status_code == 200
        return counter.count

    before = statements()
    add_links(product, *[(f"Cửa hàng {i}", f"https://shop{i}.example/g") for i in range(5)])
    with app.test_request_context():
        for position in range(3):
            image = store_image(jpeg((40 * position, 90, 150)))
            db.session.add(
                ProductImage(product_id=product.id, image_id=image.id, position=position)
            )
        db.session.commit()
    assert statements() == before


def test_expired_ocop_is_not_claimed_anywhere(client, product):
    product.ocop_expires_on = date(2026, 11, 25)  # the day before the pinned "today"
    db.session.commit()
    page = get(client, "/san-pham/gung-que-vo")
    assert 'class="ocop-line"' not in page and '"award"' not in page


def test_share_card_and_json_ld_use_the_large_photos(client, photos):
    page = get(client, "/san-pham/gung-que-vo")
    head = page.split("</head>", 1)[0]
    cover = f"http://localhost/media/{photos[0].sha256}/1600.webp"
    assert f'<meta property="og:image" content="{cover}">' in head
    assert '<meta property="og:image:width" content="1200">' in head
    assert '<meta property="og:image:height" content="900">' in head
    assert '<meta property="og:image:type" content="image/webp">' in head
    assert '<meta property="og:image:alt" content="Gừng Quế Võ">' in head
    assert f'<meta name="twitter:image" content="{cover}">' in head
    ld = json.loads(
        re.search(
            r'ld\+json"(?: nonce="[^"]+")?>(\{"@context[^<]*"Product".*?)</script>', head
        ).group(1)
    )
    assert ld["image"] == [f"http://localhost/media/{image.sha256}/1600.webp" for image in photos]
