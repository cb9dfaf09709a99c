"""Issue 10's journey on a phone: a member downloads the import template, fills three products
into it (one with a price the import will not guess), uploads it with a ZIP of two photos,
fixes the bad row on the preview, saves the lot as drafts, waits for the import to finish (the
live server runs it in a background thread) and finds the three products, photos included, in
the products dashboard."""

import io
import uuid
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "bun-la-nem-tien-2026"
#: A demo cooperative no other browser journey uses (its products are not counted elsewhere).
COOPERATIVE = "htx-bun-truyen-thong-nem-tien-thuong-demo"
SHOTS = Path("/tmp/work/shots")
#: The template's headers (shop.bulk.products.COLUMNS), as a member sees them in Excel.
HEADERS = (
    "Tên sản phẩm*",
    "Tên tiếng Anh",
    "Danh mục*",
    "Đơn vị*",
    "Giá (đồng)",
    "Đặt tối thiểu",
    "Quy cách",
    "Mô tả",
    "Mùa vụ (tháng)",
    "Ảnh (tên tệp, cách nhau bởi dấu ;)",
)
PHOTO = "Ảnh (tên tệp, cách nhau bởi dấu ;)"
#: Three products; the second's price "12,5k" (12.500 or a typo?) is one the import asks about.
ROWS = (
    {
        "Tên sản phẩm*": "Bún lá Ném Tiền gói 500 g",
        "Danh mục*": "Thực phẩm chế biến",
        "Đơn vị*": "gói",
        "Giá (đồng)": "25.000",
        "Đặt tối thiểu": "10",
        "Mô tả": "Bún lá tráng mỏng, cắt miếng, làm trong ngày tại làng Ném Tiền.",
        "Mùa vụ (tháng)": "cả năm",
        PHOTO: "bun-la.jpg",
    },
    {
        "Tên sản phẩm*": "Miến dong đặc biệt Ném Tiền",
        "Danh mục*": "thuc pham che bien",
        "Đơn vị*": "kg",
        "Giá (đồng)": "12,5k",
        "Đặt tối thiểu": "5",
        "Mô tả": "Miến dong phơi nắng, sợi dai, không chất tẩy trắng.",
    },
    {
        "Tên sản phẩm*": "Bánh đa đỏ Ném Tiền",
        "Danh mục*": "Thực phẩm chế biến",
        "Đơn vị*": "túi",
        "Giá (đồng)": "40k",
        "Quy cách": "túi 10 chiếc",
        "Mô tả": "Bánh đa đỏ nấu canh cua, phơi trên giàn tre.",
        PHOTO: "banh-da-do.jpg",
    },
)


def photo(colour: tuple[int, int, int], label: str) -> bytes:
    """A small JPEG, like a photo taken for the shop and shrunk by the phone's share sheet."""
    image = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 120, 600, 480), fill=(240, 230, 200))
    draw.text((30, 30), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def fill_template(template: Path, target: Path) -> None:
    """Replace the template's example row with ROWS, column by column as its headers say."""
    workbook = load_workbook(template)
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    if sheet.max_row > 1:
        sheet.delete_rows(2, sheet.max_row - 1)
    for values in ROWS:
        sheet.append([values.get(header, "") for header in headers])
    workbook.save(target)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_import_a_sheet_with_photos_fix_a_row_and_find_the_products(live_server, phone, tmp_path):
    email = f"nhap-{uuid.uuid4().hex[:8]}@bun-nem-tien.example"
    live_server.flask(
        "users",
        "create",
        email,
        "--role",
        "member",
        "--cooperative",
        COOPERATIVE,
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(phone, email, PASSWORD)

    # From the products dashboard to the import page.
    phone.goto("/quan-ly-htx/san-pham")
    phone.get_by_role("link", name="Nhập nhiều sản phẩm").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Nhập nhiều sản phẩm")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "import-upload-390.png"), full_page=True)

    # Step 1: the Excel template, with its Vietnamese headers and a sheet of valid names.
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="tệp Excel (.xlsx)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    workbook = load_workbook(template, read_only=True)
    header_row = next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True))
    assert tuple(header_row[: len(HEADERS)]) == HEADERS
    assert "Danh mục" in workbook.sheetnames
    names = {
        value
        for row in workbook["Danh mục"].iter_rows(values_only=True)
        for value in row
        if isinstance(value, str)
    }
    assert {"Thực phẩm chế biến", "gói", "túi", "kg"} <= names
    workbook.close()

    # Three rows filled in with openpyxl, and a ZIP of the two photos they name.
    sheet = tmp_path / "san-pham-nem-tien.xlsx"
    fill_template(template, sheet)
    archive = tmp_path / "anh-san-pham.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("anh/bun-la.jpg", photo((120, 150, 90), "bun la"))
        zipped.writestr("anh/banh-da-do.jpg", photo((170, 70, 40), "banh da do"))

    phone.get_by_label("Bảng tính đã điền (.xlsx hoặc .csv)").set_input_files(sheet)
    phone.get_by_label("Tệp ảnh nén (.zip)").set_input_files(archive)
    phone.get_by_role("button", name="Tải lên và xem trước").click()

    # The preview: one row to fix, its error beside it, and nothing can be confirmed yet.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Xem trước: san-pham-nem-tien.xlsx")
    summary = phone.locator(".import-summary")
    expect(summary).to_contain_text("2 dòng hợp lệ, 1 dòng cần sửa")
    expect(summary).to_contain_text("2 ảnh")
    bad = phone.locator("#dong-3")
    expect(bad.get_by_role("heading")).to_have_text("Dòng 3: Miến dong đặc biệt Ném Tiền")
    expect(bad.locator(".import-problems")).to_contain_text("12,5k")
    price = bad.get_by_label("Giá (đồng)")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_role("button", name="Lưu nháp")).to_be_disabled()
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "import-preview-error-390.png"), full_page=True)

    # The same preview in English, then back to Vietnamese.
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(summary).to_contain_text("2 valid rows, 1 row to fix")
    expect(bad.locator(".import-problems")).to_contain_text("“12,5k” is easy to misread")
    phone.get_by_role("link", name="Tiếng Việt").click()
    expect(phone.locator("html")).to_have_attribute("lang", "vi")

    # The member writes the price out in full and saves the row.
    price.fill("12.500")
    bad.get_by_role("button", name="Lưu dòng 3").click()
    expect(phone.get_by_role("status").filter(has_text="Đã lưu dòng 3.")).to_be_visible()
    expect(summary).to_contain_text("3 dòng hợp lệ, 0 dòng cần sửa")
    expect(phone.locator("#dong-3")).to_contain_text("12.500")
    phone.get_by_role("button", name="Lưu nháp").click()

    # The progress page, until the background job has finished.
    expect(phone.locator(".import-done")).to_contain_text("Đã nhập 3 sản phẩm", timeout=60_000)
    phone.get_by_role("link", name="Xem danh sách sản phẩm").click()

    # The products dashboard lists the three drafts, two of them with their photo.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sản phẩm")
    for values, photos in zip(ROWS, ("1 ảnh", "0 ảnh", "1 ảnh"), strict=True):
        row = phone.locator(".product-row").filter(
            has=phone.get_by_role("link", name=values["Tên sản phẩm*"], exact=True)
        )
        expect(row).to_have_count(1)
        expect(row).to_contain_text(photos)
        expect(row.locator(".badges")).to_contain_text("Bản nháp")
    miến = phone.locator(".product-row").filter(has_text="Miến dong đặc biệt Ném Tiền")
    expect(miến).to_contain_text("12.500")

    # The photographed product shows its photo, as its cover.
    phone.get_by_role("link", name="Bánh đa đỏ Ném Tiền", exact=True).click()
    phone.get_by_role("link", name="Ảnh sản phẩm").click()
    cover = phone.locator(".photo-thumb img").first
    expect(cover).to_be_visible()
    expect(phone.locator(".photo-item").first).to_contain_text("Ảnh bìa")
    assert cover.evaluate("img => img.complete && img.naturalWidth") == 320
