"""QR codes of booths and products: what a phone reads from a printed code; scans counted."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import segno
import zxingcpp
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager

from shop.catalog.models import Product, ProductStatus
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes import qr
from shop.programmes.models import Booth, Programme, ProgrammeStatus
from shop.reports.models import DailyCount
from tests.factories import create_booth, create_cooperative, create_product, create_programme
from tests.helpers import page_text

BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
TODAY = date(2026, 11, 26)  # TestConfig.SHOP_TODAY
SITE = "https://cho-htx.example.vn"
PROGRAMME = "tong-ket-2022-lien-minh-htx-bac-ninh-trung-bay-san-pham"


@pytest.fixture
def site(app, monkeypatch):
    """Printed codes point at the configured site, whatever host the request came to."""
    monkeypatch.setitem(app.config, "SITE_URL", SITE + "/")
    return SITE


@pytest.fixture
def booth(client, demo):
    """Booth 11 of the 2022 programme (five featured products), with its programme."""
    booth = db.session.scalar(
        select(Booth)
        .join(Booth.programme)
        .where(Programme.slug == PROGRAMME, Booth.number == 11)
        .options(contains_eager(Booth.programme))
    )
    return booth


def featured(booth) -> list[Product]:
    from shop.programmes.models import BoothProduct

    return list(
        db.session.scalars(
            select(Product)
            .join(BoothProduct, BoothProduct.product_id == Product.id)
            .where(BoothProduct.booth_id == booth.id)
            .order_by(BoothProduct.position)
        )
    )


def archive(product) -> None:
    db.session.execute(
        update(Product).where(Product.id == product.id).values(status=ProductStatus.ARCHIVED)
    )
    db.session.commit()


def counts() -> list[tuple]:
    rows = db.session.execute(
        select(DailyCount.kind, DailyCount.subject_id, DailyCount.count)
        .where(DailyCount.day == TODAY)
        .order_by(DailyCount.kind, DailyCount.subject_id)
    )
    return [tuple(row) for row in rows]


def get(client, url, user_agent=BROWSER):
    """GET as a server serves it: the response is closed after, so counters run."""
    return client.get(url, headers={"User-Agent": user_agent}, buffered=True)


def booth_url(number=11, slug=PROGRAMME) -> str:
    return f"/chuong-trinh/{slug}/gian-hang/{number}"


def decode(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def modules_of(png: bytes, data: str) -> list[list[bool]]:
    """Read the PNG back module by module (centre pixel of each), quiet zone included."""
    image = Image.open(io.BytesIO(png)).convert("L")
    scale = qr.png_scale(data)
    size = image.width // scale
    return [
        [
            image.getpixel((x * scale + scale // 2, y * scale + scale // 2)) < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


def segno_modules(data: str) -> list[list[bool]]:
    return [[bool(v) for v in row] for row in segno.make(data, error="m").matrix_iter(border=4)]


# --------------------------------------------------------------------------- addresses


def test_the_booth_code_holds_the_tagged_booth_address_on_the_configured_site(demo_db, booth, site):
    with demo_db.test_request_context("/", base_url="http://10.0.0.5:8000"):
        assert qr.booth_scan_url(booth.programme, booth) == f"{SITE}{booth_url()}?nguon=qr"
        product = featured(booth)[0]
        assert (
            qr.product_scan_url(booth.programme, booth, product)
            == f"{SITE}{booth_url()}/san-pham/{product.id}"
        )


# --------------------------------------------------------------------------- PNG and SVG


def test_the_booth_png_decodes_to_the_tagged_address(client, booth, site):
    response = client.get(f"{booth_url()}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{PROGRAMME}-gian-hang-11-qr.png"'
    )
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=86400" in response.headers["Cache-Control"]
    png = response.get_data()
    image = Image.open(io.BytesIO(png))
    assert image.width == image.height >= 1000  # 8.5 cm at 300 dpi: sharp on a big print
    assert round(image.info["dpi"][0]) == 300
    expected = f"{SITE}{booth_url()}?nguon=qr"
    assert decode(png) == [expected]
    # Module for module the code segno draws for that address, at the served scale.
    assert modules_of(png, expected) == segno_modules(expected)


def test_a_product_png_decodes_to_its_scan_address_which_leads_to_the_product(client, booth, site):
    product = featured(booth)[2]
    response = client.get(f"{booth_url()}/san-pham/{product.id}/qr.png")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{PROGRAMME}-gian-hang-11-{product.slug}-qr.png"'
    )
    [address] = decode(response.get_data())
    assert address == f"{SITE}{booth_url()}/san-pham/{product.id}"
    scanned = get(client, address.removeprefix(SITE))
    assert scanned.status_code == 302
    assert scanned.headers["Location"] == f"/san-pham/{product.slug}"
    page = client.get(scanned.headers["Location"])
    assert product.name_vi in page_text(page)


def test_the_svg_download_draws_the_same_code_at_print_size(client, booth, site):
    response = client.get(f"{booth_url()}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{PROGRAMME}-gian-hang-11-qr.svg"'
    )
    svg = ET.fromstring(response.get_data())
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert svg.get("width").endswith("mm") and 79 <= float(svg.get("width")[:-2]) <= 81
    assert "11" in svg.find("svg:title", ns).text
    expected = segno.make(f"{SITE}{booth_url()}?nguon=qr", error="m")
    reference = ET.fromstring(expected.svg_inline(scale=1, border=4))
    drawn = svg.find("svg:g/svg:path[@class='qrline']", ns).get("d")
    assert drawn == reference.find("path").get("d")


def test_a_product_svg_is_named_after_the_product(client, booth, site):
    product = featured(booth)[0]
    response = client.get(f"{booth_url()}/san-pham/{product.id}/qr.svg")
    assert response.status_code == 200
    svg = ET.fromstring(response.get_data())
    title = svg.find("{http://www.w3.org/2000/svg}title").text
    assert title == product.name_vi


def test_without_a_configured_site_the_code_uses_the_requests_host(client, booth, app):
    assert not app.config.get("SITE_URL")
    [address] = decode(client.get(f"{booth_url()}/qr.png").get_data())
    assert address == f"http://localhost{booth_url()}?nguon=qr"


def test_the_booth_page_offers_the_downloads(client, booth):
    page = client.get(booth_url()).get_data(as_text=True)
    assert f'href="{booth_url()}/qr.png" download' in page
    assert f'href="{booth_url()}/qr.svg" download' in page
    assert "ban-in" not in page  # the A4 kit link is for staff


def test_the_booth_page_offers_the_downloads_in_english(client, booth):
    text = page_text(client.get(f"{booth_url()}?lang=en"))
    assert "The booth's QR code" in text
    assert "Download the QR code (PNG)" in text


# --------------------------------------------------------------------------- 404s


@pytest.fixture
def elsewhere(client):
    """A draft programme with a booth, and a public one whose cooperative is suspended."""
    coop = create_cooperative()
    products = [create_product(coop) for _ in range(3)]
    draft = create_programme(slug="nhap-chua-cong-bo", status=ProgrammeStatus.DRAFT)
    create_booth(draft, 5, coop, products)
    suspended = create_cooperative(status=CooperativeStatus.SUSPENDED)
    hidden = [create_product(suspended) for _ in range(3)]
    public = create_programme(slug="co-htx-bi-tam-ngung")
    create_booth(public, 7, suspended, hidden)
    db.session.commit()
    return {"product": products[0], "hidden": hidden[0]}


@pytest.mark.parametrize("suffix", ["/qr.png", "/qr.svg", ""])
def test_codes_of_booths_nobody_may_see_are_404(client, elsewhere, suffix):
    product, hidden = elsewhere["product"].id, elsewhere["hidden"].id
    for url in (
        booth_url(11, "khong-co-chuong-trinh"),
        booth_url(99),  # no such booth
        booth_url(2**31),  # beyond the database's integers
        booth_url(5, "nhap-chua-cong-bo"),  # a draft programme
        booth_url(7, "co-htx-bi-tam-ngung"),  # a suspended cooperative
        f"{booth_url(5, 'nhap-chua-cong-bo')}/san-pham/{product}",
        f"{booth_url(7, 'co-htx-bi-tam-ngung')}/san-pham/{hidden}",
    ):
        assert get(client, url + suffix).status_code == 404, url + suffix
    assert counts() == []


def test_product_codes_only_for_products_the_booth_shows(client, booth):
    shown = featured(booth)
    other = db.session.scalar(
        select(Product).where(
            Product.status == ProductStatus.PUBLISHED,
            Product.cooperative_id != booth.cooperative_id,
        )
    )
    for product_id in (other.id, 0, 2**31, 2**40):
        for suffix in ("qr.png", "qr.svg"):
            url = f"{booth_url()}/san-pham/{product_id}/{suffix}"
            assert client.get(url).status_code == 404, url
    archive(shown[0])  # archived since the kit was printed
    assert client.get(f"{booth_url()}/san-pham/{shown[0].id}/qr.png").status_code == 404
    assert client.get(f"{booth_url()}/san-pham/{shown[1].id}/qr.png").status_code == 200


# --------------------------------------------------------------------------- counting


def test_a_scan_counts_once_and_lands_on_the_clean_booth_address(client, booth):
    response = get(client, f"{booth_url()}?nguon=qr")
    assert response.status_code == 302
    assert response.headers["Location"] == booth_url()
    assert "no-store" in response.headers["Cache-Control"]
    assert counts() == [("qr_scan", booth.id, 1)]
    # The phone follows the redirect: that visit is a view like any other, not a second scan.
    page = get(client, response.headers["Location"])
    assert page.status_code == 200
    assert counts() == [("booth_view", booth.id, 1), ("qr_scan", booth.id, 1)]
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', page.get_data(as_text=True))
    assert canonical.group(1) == f"http://localhost{booth_url()}"
    get(client, f"{booth_url()}?nguon=qr")
    assert counts() == [("booth_view", booth.id, 1), ("qr_scan", booth.id, 2)]


def test_a_scan_keeps_the_language_and_drops_only_the_tag(client, booth):
    response = get(client, f"{booth_url()}?nguon=qr&lang=en")
    assert response.headers["Location"] == f"{booth_url()}?lang=en"


@pytest.mark.parametrize(
    "agent", ["Googlebot/2.1 (+http://www.google.com/bot.html)", "Zalo link preview", ""]
)
def test_robots_and_link_previews_are_not_counted(client, booth, agent):
    assert get(client, f"{booth_url()}?nguon=qr", agent).status_code == 302
    assert get(client, booth_url(), agent).status_code == 200
    product = featured(booth)[0]
    assert get(client, f"{booth_url()}/san-pham/{product.id}", agent).status_code == 302
    assert counts() == []


def test_a_plain_visit_counts_a_view_and_no_scan(client, booth):
    assert get(client, booth_url()).status_code == 200
    assert counts() == [("booth_view", booth.id, 1)]


def test_other_tags_are_not_scans(client, booth):
    assert get(client, f"{booth_url()}?nguon=zalo").status_code == 200
    assert counts() == [("booth_view", booth.id, 1)]


def test_a_product_scan_counts_for_the_booth_and_the_product(client, booth):
    product = featured(booth)[1]
    response = get(client, f"{booth_url()}/san-pham/{product.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/san-pham/{product.slug}"
    assert "no-store" in response.headers["Cache-Control"]
    assert counts() == [("product_qr_scan", product.id, 1), ("qr_scan", booth.id, 1)]


def test_a_printed_code_of_a_product_gone_since_leads_to_the_booth(client, booth):
    product = featured(booth)[0]
    archive(product)
    response = get(client, f"{booth_url()}/san-pham/{product.id}?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{booth_url()}?lang=en"
    assert counts() == [("qr_scan", booth.id, 1)]


def test_head_requests_are_not_counted(client, booth):
    response = client.head(f"{booth_url()}?nguon=qr", headers={"User-Agent": BROWSER})
    assert response.status_code == 302
    assert counts() == []


def test_the_booth_page_statement_count_is_the_same_with_its_counter(client, booth, count_queries):
    """Counting runs after the response, in its own transaction: the page itself is unchanged."""
    with count_queries() as plain:
        client.get(booth_url())
    with count_queries() as counted:
        client.get(booth_url(), headers={"User-Agent": BROWSER})
    assert counted.count == plain.count


def test_a_suspended_cooperative_booth_counts_nothing(client, booth):
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == booth.cooperative_id)
        .values(status=CooperativeStatus.SUSPENDED)
    )
    db.session.commit()
    assert get(client, f"{booth_url()}?nguon=qr").status_code == 404
    assert get(client, booth_url()).status_code == 404
    assert counts() == []
