"""Printables for the fair: the A4 booth kit and the programme catalogue, on screen and on paper.

The PDF checks print the pages with headless chromium (``page.pdf(format="A4")``) and read the
PDF back with pypdf: page count, and the text a reader sees on each page.
"""

import io
import re
from datetime import date
from html import unescape
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager

from shop.accounts.models import Role
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.programmes.models import Booth, BoothProduct, Programme, ProgrammeStatus
from shop.text.formatting import format_vnd
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
    load_taxonomy,
)
from tests.helpers import page_text, sign_in

SHOTS = "/tmp/work/shots"
PROGRAMME = "tong-ket-2022-lien-minh-htx-bac-ninh-trung-bay-san-pham"
QR_SVG = re.compile(r'<svg role="img"[^>]*class="qr-code"')


def programme_2022() -> Programme:
    return db.session.scalar(select(Programme).where(Programme.slug == PROGRAMME))


def booth_of(programme: Programme, number: int) -> Booth:
    return db.session.scalar(
        select(Booth)
        .join(Booth.programme)
        .where(Booth.programme_id == programme.id, Booth.number == number)
        .options(contains_eager(Booth.programme))
    )


def shown_products(booth: Booth) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .join(BoothProduct, BoothProduct.product_id == Product.id)
            .where(BoothProduct.booth_id == booth.id)
            .order_by(BoothProduct.position)
        )
    )


def price(product: Product, lang: str = "vi") -> str:
    """'120.000 ₫ / kg' as the page writes it (no-break spaces read as spaces)."""
    from shop.catalog.models import Unit

    unit = db.session.get(Unit, product.unit_code)
    name = unit.name_en if lang == "en" and unit.name_en else unit.name_vi
    return f"{format_vnd(product.price_vnd, lang)} / {name}".replace("\u00a0", " ")


@pytest.fixture
def staff(client):
    user = create_user(Role.STAFF)
    db.session.commit()
    sign_in(client, user)
    return user


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_public_catalogue_lists_every_booth_with_products_prices_and_codes(client, demo, lang):
    event = next(e for e in demo["events"] if e["slug"] == PROGRAMME)
    response = client.get(f"/chuong-trinh/{PROGRAMME}/ban-in?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = unescape(page_text(response))
    assert len(QR_SVG.findall(html)) == len(event["booths"]) + 1  # each booth + the programme
    assert f'<html lang="{lang}">' in html
    assert ("12 booths" if lang == "en" else "12 gian hàng") in text
    programme = programme_2022()
    for booth_data in event["booths"]:
        booth = booth_of(programme, booth_data["number"])
        coop = db.session.get(Cooperative, booth.cooperative_id)
        assert (coop.name_en if lang == "en" and coop.name_en else coop.name) in text
        for product in shown_products(booth):
            name = product.name_en if lang == "en" and product.name_en else product.name_vi
            assert f"{name} {price(product, lang)}" in text
    assert 'name="robots" content="noindex"' in html


def test_the_programme_page_links_its_printable_catalogue(client):
    html = client.get(f"/chuong-trinh/{PROGRAMME}").get_data(as_text=True)
    assert f'href="/chuong-trinh/{PROGRAMME}/ban-in"' in html


def test_a_draft_programme_has_no_public_catalogue_but_staff_proofread_it(client, staff):
    coop = create_cooperative()
    programme = create_programme(status=ProgrammeStatus.DRAFT)
    create_booth(programme, 3, coop, [create_product(coop) for _ in range(3)])
    db.session.commit()
    assert client.get(f"/chuong-trinh/{programme.slug}/ban-in").status_code == 404
    response = client.get(f"/quan-tri/chuong-trinh/{programme.id}/ban-in")
    assert response.status_code == 200
    text = page_text(response)
    assert coop.name in text
    assert "Chương trình chưa công khai" in text
    assert f"/quan-tri/chuong-trinh/{programme.id}/ban-in-gian-hang" in response.get_data(
        as_text=True
    )


def test_booths_without_a_public_cooperative_are_left_out(client, staff):
    coop, suspended = create_cooperative(), create_cooperative()
    programme = create_programme()
    create_booth(programme, 1, coop, [create_product(coop) for _ in range(3)])
    create_booth(programme, 2, suspended, [create_product(suspended) for _ in range(3)])
    db.session.add(Booth(programme_id=programme.id, number=3))  # empty booth
    suspended.status = CooperativeStatus.SUSPENDED
    db.session.commit()
    for url in (
        f"/chuong-trinh/{programme.slug}/ban-in",
        f"/quan-tri/chuong-trinh/{programme.id}/ban-in",
        f"/quan-tri/chuong-trinh/{programme.id}/ban-in-gian-hang",
    ):
        text = page_text(client.get(url))
        assert coop.name in text and suspended.name not in text, url
    for number in (2, 3, 4):
        url = f"/quan-tri/chuong-trinh/{programme.id}/gian-hang/{number}/ban-in"
        assert client.get(url).status_code == 404, url
    assert client.get(f"/quan-tri/chuong-trinh/{2**31}/ban-in").status_code == 404


def test_the_catalogue_statement_count_does_not_grow_with_booths(blank_db, count_queries):
    load_taxonomy()
    programme = create_programme()
    user = create_user(Role.STAFF)

    def add_booths(numbers):
        for number in numbers:
            coop = create_cooperative()
            create_booth(programme, number, coop, [create_product(coop) for _ in range(3)])
        db.session.commit()

    add_booths(range(1, 4))
    client = blank_db.test_client()
    sign_in(client, user)
    urls = (
        f"/chuong-trinh/{programme.slug}/ban-in",
        f"/quan-tri/chuong-trinh/{programme.id}/ban-in",
        f"/quan-tri/chuong-trinh/{programme.id}/ban-in-gian-hang",
    )

    def measure():
        found = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            found.append(counter.count)
        return found

    small = measure()
    add_booths(range(4, 31))
    assert measure() == small


# --------------------------------------------------------------------------- the booth kit


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_staff_kit_shows_everything_a_stand_needs(client, staff, lang):
    programme = programme_2022()
    booth = booth_of(programme, 11)
    coop = db.session.get(Cooperative, booth.cooperative_id)
    response = client.get(f"/quan-tri/chuong-trinh/{programme.id}/gian-hang/11/ban-in?lang={lang}")
    assert response.status_code == 200
    html, text = response.get_data(as_text=True), page_text(response)
    products = shown_products(booth)
    assert len(QR_SVG.findall(html)) == 1 + len(products)
    assert (coop.name_en if lang == "en" and coop.name_en else coop.name) in text
    assert ("Booth 11" if lang == "en" else "Gian hàng 11") in text
    assert "23/12/2022" in text
    assert coop.phone in text
    for product in products:
        assert price(product, lang) in text
    assert ("Print this page" if lang == "en" else "In trang này") in text


def test_staff_print_every_kit_at_once(client, staff):
    programme = programme_2022()
    response = client.get(f"/quan-tri/chuong-trinh/{programme.id}/ban-in-gian-hang")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="print-doc kit"') == 12


def test_staff_see_the_kit_link_on_the_booth_page(client, staff):
    programme = programme_2022()
    html = client.get(f"/chuong-trinh/{PROGRAMME}/gian-hang/4").get_data(as_text=True)
    assert f'href="/quan-tri/chuong-trinh/{programme.id}/gian-hang/4/ban-in"' in html


def test_a_member_prints_the_kit_of_its_own_booth_only(client):
    programme = programme_2022()
    own, other = booth_of(programme, 5), booth_of(programme, 6)
    member = create_user(cooperative=db.session.get(Cooperative, own.cooperative_id))
    db.session.commit()
    sign_in(client, member)
    response = client.get(f"/quan-ly-htx/gian-hang/{own.id}/ban-in")
    assert response.status_code == 200
    assert "Gian hàng 5" in page_text(response)
    assert client.get(f"/quan-ly-htx/gian-hang/{other.id}/ban-in").status_code == 404
    assert client.get(f"/quan-ly-htx/gian-hang/{2**31}/ban-in").status_code == 404
    # Staff pages stay closed to members.
    assert client.get(f"/quan-tri/chuong-trinh/{programme.id}/ban-in").status_code == 403
    db.session.execute(
        update(Programme).where(Programme.id == programme.id).values(status=ProgrammeStatus.DRAFT)
    )
    db.session.commit()
    assert client.get(f"/quan-ly-htx/gian-hang/{own.id}/ban-in").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "buyer"])
def test_kits_are_not_for_the_public(client, who):
    programme = programme_2022()
    if who == "buyer":
        sign_in(client, create_user(Role.BUYER))
    for url in (
        f"/quan-tri/chuong-trinh/{programme.id}/gian-hang/11/ban-in",
        f"/quan-tri/chuong-trinh/{programme.id}/ban-in-gian-hang",
        f"/quan-ly-htx/gian-hang/{booth_of(programme, 11).id}/ban-in",
    ):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.location
        else:
            assert response.status_code == 403


# --------------------------------------------------------------------------- on paper


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, spaces collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def print_to_pdf(page, url: str, shot: str | None = None) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    if shot:  # for a person to look at
        page.screenshot(path=f"{SHOTS}/{shot}.png", full_page=True)
        Path(f"{SHOTS}/{shot}.pdf").write_bytes(pdf)
    return pdf_pages(pdf)


def staff_page(browser, live_server, lang="vi"):
    import uuid

    from tests.browser import log_in

    email, password = f"in-an-{uuid.uuid4().hex[:6]}@lienminh.example", "in-bo-gian-hang-2022"
    live_server.flask(
        "users", "create", email, "--role", "staff", env={"SHOP_USER_PASSWORD": password}
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    log_in(page, email, password)
    if lang == "en":
        page.goto("/?lang=en")
    return page


def demo_ids(live_server) -> dict:
    from sqlalchemy import create_engine

    engine = create_engine(live_server.database_url)
    with engine.connect() as conn:
        programme_id = conn.execute(
            select(Programme.id).where(Programme.slug == PROGRAMME)
        ).scalar_one()
        rows = conn.execute(
            select(Booth.number, Cooperative.name, Cooperative.name_en)
            .join(Cooperative, Cooperative.id == Booth.cooperative_id)
            .where(Booth.programme_id == programme_id)
            .order_by(Booth.number)
        ).all()
    engine.dispose()
    return {"id": programme_id, "booths": rows}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_kit_prints_on_one_a4_page_and_the_catalogue_keeps_booths_whole(
    browser, live_server, lang
):
    ids = demo_ids(live_server)
    page = staff_page(browser, live_server, lang)
    suffix = "" if lang == "vi" else "_en"

    kit = print_to_pdf(
        page, f"/quan-tri/chuong-trinh/{ids['id']}/gian-hang/11/ban-in", f"fair_kit_print{suffix}"
    )
    number, name_vi, name_en = next(row for row in ids["booths"] if row[0] == 11)
    assert len(kit) == 1
    name = name_en if lang == "en" and name_en else name_vi
    assert name in kit[0]
    assert ("BOOTH 11" if lang == "en" else "GIAN HÀNG 11") in kit[0]  # upper case by CSS
    assert "23/12/2022" in kit[0]
    assert ("Products on display" if lang == "en" else "Sản phẩm trưng bày") in kit[0]
    assert "₫" in kit[0]
    assert "In trang này" not in kit[0] and "Print this page" not in kit[0]
    # On paper the booth's code is at least 8 cm wide and reads as the tagged booth address.
    code = page.locator(".kit-qr svg")
    assert code.bounding_box()["width"] >= 80 / 25.4 * 96
    read = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())))
    assert [r.text for r in read] == [
        f"{live_server.url}/chuong-trinh/{PROGRAMME}/gian-hang/11?nguon=qr"
    ]

    if lang == "vi":  # every booth's kit in one document, one page each (once is enough)
        kits = print_to_pdf(page, f"/quan-tri/chuong-trinh/{ids['id']}/ban-in-gian-hang")
        assert len(kits) == 12
        for (_number, vi, _en), text in zip(ids["booths"], kits, strict=True):
            assert vi in text

    catalogue = print_to_pdf(
        page, f"/chuong-trinh/{PROGRAMME}/ban-in", f"fair_catalogue_print{suffix}"
    )
    # The header and the first booths on one page, the rest on a second (vi and en alike).
    assert len(catalogue) == 2
    assert ("BOOTH CATALOGUE" if lang == "en" else "DANH MỤC GIAN HÀNG") in catalogue[0]
    for _number, vi, en in ids["booths"]:
        booth_name = en if lang == "en" and en else vi
        # Each booth on exactly one page: never split, never repeated.
        assert sum(booth_name in text for text in catalogue) == 1, booth_name
    page.context.close()


@pytest.mark.browser
def test_a_full_booth_with_ten_products_and_a_four_digit_number_still_fits_one_page(
    browser, demo_db
):
    """The fullest kit — ten products, booth 9999, long names, a zone, Zalo — is one A4 page.

    The page is rendered by the test's app (factory data, rolled back) and served to chromium
    through Playwright's request routing.
    """
    coop = create_cooperative(
        name="Hợp tác xã Nông nghiệp Dịch vụ Tổng hợp Xuân Lâm Thuận Thành", zalo="0900000999"
    )
    products = [
        create_product(coop, name_vi=f"Sản phẩm có tên khá dài để thử bố cục số {n}")
        for n in range(10)
    ]
    programme = create_programme(
        title_vi="Tuần hàng hợp tác xã và sản phẩm OCOP tỉnh Bắc Ninh mùa xuân năm 2027, "
        "giới thiệu sản phẩm tiêu biểu của các hợp tác xã",
        venue_vi="Nhà thi đấu đa năng, Trung tâm Văn hóa Kinh Bắc, phường Kinh Bắc, tỉnh Bắc Ninh",
        start_date=date(2027, 3, 18),
        end_date=date(2027, 3, 21),
        zones=["Nông sản và thực phẩm chế biến"],
    )
    booth = create_booth(programme, 9999, coop, products)
    booth.zone = "Nông sản và thực phẩm chế biến"
    staff = create_user(Role.STAFF)
    db.session.commit()
    client = demo_db.test_client()
    sign_in(client, staff)

    def serve(route):
        path = route.request.url.removeprefix("http://print.test")
        response = client.get(path)
        body = response.get_data()
        response.close()
        route.fulfill(
            status=response.status_code,
            headers={"Content-Type": response.content_type},
            body=body,
        )

    context = browser.new_context(base_url="http://print.test")
    page = context.new_page()
    page.route("http://print.test/**", serve)
    pages = print_to_pdf(
        page, f"/quan-tri/chuong-trinh/{programme.id}/gian-hang/9999/ban-in", "fair_kit_ten"
    )
    context.close()
    assert len(pages) == 1
    assert "9999" in pages[0]
    for n in range(10):
        assert f"số {n}" in pages[0]
