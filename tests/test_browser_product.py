"""A buyer on a phone opens a product: photos, the traceability QR code, a call, other shops."""

import io
import re
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from config import TestConfig
from shop import create_app
from shop.catalog.models import ProductImage, ProductLink
from shop.extensions import db
from shop.media.services import store_image
from tests.factories import create_cooperative, create_product

pytestmark = pytest.mark.browser

TRACE = "https://truyxuat.example/tuong-ban"


def jpeg(colour) -> bytes:
    image = Image.new("RGB", (1200, 900), colour)
    image.paste((240, 225, 190), (300, 220, 900, 680))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def listed(live_server):
    """A verified cooperative's product with two photos and two other shops, in the live app."""
    tag = uuid.uuid4().hex[:6]
    url = live_server.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    config = type(
        "Config",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(live_server.workdir / "media")},
    )
    app = create_app(config)
    with app.test_request_context():
        coop = create_cooperative(
            slug=f"htx-tuong-ban-{tag}", name=f"HTX Tương Bần {tag}", phone="0912 345 678"
        )
        product = create_product(
            coop, slug=f"tuong-ban-{tag}", name_vi=f"Tương Bần {tag}", traceability_url=TRACE
        )
        photos = [store_image(jpeg(colour)) for colour in ((150, 80, 30), (60, 110, 50))]
        for position, photo in enumerate(photos):
            db.session.add(
                ProductImage(product_id=product.id, image_id=photo.id, position=position)
            )
        for position, (label, href) in enumerate(
            (("Gian hàng Shopee", "https://shopee.vn/tuong-ban"), ("Tiki", "https://tiki.vn/tb"))
        ):
            db.session.add(
                ProductLink(product_id=product.id, position=position, label=label, url=href)
            )
        db.session.commit()
        result = {
            "slug": product.slug,
            "name": product.name_vi,
            "photos": [p.sha256 for p in photos],
        }
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    return result


def test_buyer_sees_photos_qr_code_contacts_and_other_shops_on_a_phone(
    browser, live_server, listed, tmp_path
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        has_touch=True,
    )
    page = context.new_page()
    page.goto(f"/san-pham/{listed['slug']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(listed["name"])

    # The cover fills the frame; tapping the second thumbnail shows that photo instead.
    main = page.locator("[data-gallery-main] img")
    first, second = listed["photos"]
    expect(main).to_have_attribute("src", re.compile(f"/media/{first}/800.webp$"))
    assert main.evaluate("img => img.naturalWidth") > 0
    page.get_by_role("link", name="(ảnh 2/2)").tap()
    expect(main).to_have_attribute("src", re.compile(f"/media/{second}/800.webp$"))
    expect(page.get_by_role("link", name="(ảnh 2/2)")).to_have_attribute("aria-current", "true")
    assert page.url.endswith(f"/san-pham/{listed['slug']}")  # no navigation to the file

    # The traceability QR code is drawn next to its link, large enough to scan.
    qr = page.get_by_role("img", name=f"Mã QR truy xuất nguồn gốc của {listed['name']}")
    qr.scroll_into_view_if_needed()
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and abs(box["width"] - box["height"]) < 1
    expect(page.get_by_role("link", name="Tra cứu truy xuất nguồn gốc")).to_have_attribute(
        "href", TRACE
    )

    # The cooperative card: verified, with a call button.
    card = page.locator(".coop-card")
    expect(card.get_by_text("Đã xác minh")).to_be_visible()
    expect(card.get_by_role("link", name=re.compile("Gọi"))).to_have_attribute(
        "href", "tel:0912345678"
    )

    # Where else to buy: the two shops, in order, followed neither by rank nor by opener.
    shops = page.get_by_role("region", name="Mua ở nơi khác").get_by_role("link")
    expect(shops).to_have_text(["Gian hàng Shopee", "Tiki"])
    for index in range(2):
        expect(shops.nth(index)).to_have_attribute("rel", "nofollow noopener")
    page.screenshot(path=str(tmp_path / "product-phone.png"), full_page=True)
    context.close()
