"""Issue 7's journey end to end: staff draw a programme with three booths and open it; a
cooperative applies from a phone; staff accept it into booth 10; a buyer scans the booth's QR
code (the URL decoded from the PNG the site serves), adds a featured product to the inquiry
list; the booth's scan count on the staff figures page has risen by one."""

import io
import re
import uuid

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser import log_in, log_out

pytestmark = pytest.mark.browser

PASSWORD = "hoi-cho-nem-bui-xa-2026"
COOPERATIVE = "htx-nem-bui-xa-co-truyen-demo"
COOPERATIVE_NAME = "HTX Nem Bùi Xá Cổ Truyền (demo)"
PRODUCTS = ("Nem Bùi Xá nắm lá chuối", "Nem Bùi Xá hộp 500 g", "Thính nếp rang củi")
#: A person's phone: headless chromium announces itself as a robot, and robots are not counted.
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)


def add_booth_at(page, column: int, row: int, number: str, zone: str) -> None:
    page.get_by_role("link", name=f"Thêm gian hàng ở cột {column}, hàng {row}").click()
    page.get_by_label("Số gian hàng").fill(number)
    page.get_by_role("combobox", name=re.compile(r"^Khu")).select_option(label=zone)
    page.get_by_role("button", name="Thêm gian hàng").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã thêm gian hàng số {number}.")


def booth_scans(desk, figures_url: str) -> str:
    desk.goto(figures_url)
    row = desk.locator("#gian-hang tbody tr", has_text=COOPERATIVE_NAME)
    expect(row).to_have_count(1)
    # Columns: booth, cooperative, sector, views, QR scans, inquiries, contact clicks.
    return row.locator("td, th").nth(4).inner_text().strip()


def test_programme_from_plan_to_a_scanned_booth(browser, live_server, phone):
    tag = uuid.uuid4().hex[:6]
    staff, member = f"hoi-cho-{tag}@lienminh.example", f"nem-{tag}@bui-xa.example"
    live_server.flask(
        "users", "create", staff, "--role", "staff", env={"SHOP_USER_PASSWORD": PASSWORD}
    )
    live_server.flask(
        "users",
        "create",
        member,
        "--role",
        "member",
        "--cooperative",
        COOPERATIVE,
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )

    # Staff draw a 3×2 plan with booths 1, 2 and 10 and open it for applications.
    desk_context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    desk = desk_context.new_page()
    log_in(desk, staff, PASSWORD)
    desk.goto("/quan-tri/chuong-trinh")
    desk.get_by_role("link", name="Tạo chương trình").click()
    title = f"Phiên chợ nem Bùi Xá {tag}"
    desk.get_by_label("Tên chương trình").fill(title)
    desk.get_by_label("Ngày bắt đầu").fill("2026-12-12")
    desk.get_by_label("Ngày kết thúc").fill("2026-12-13")
    desk.get_by_label("Hạn đăng ký gian hàng").fill("2026-12-08")
    desk.get_by_label("Số cột của sơ đồ").fill("3")
    desk.get_by_label("Số hàng của sơ đồ").fill("2")
    desk.get_by_label("Các khu").fill("Đặc sản\nNông sản")
    desk.get_by_role("button", name="Tạo chương trình").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(title)
    programme_url = desk.url
    add_booth_at(desk, 1, 1, "1", "Đặc sản")
    add_booth_at(desk, 2, 1, "2", "Đặc sản")
    add_booth_at(desk, 3, 2, "10", "Nông sản")
    expect(
        desk.locator(".floor-plan").get_by_role("link", name=re.compile("^Gian hàng số"))
    ).to_have_count(3)
    desk.get_by_role("button", name="Mở nhận đăng ký gian hàng").click()
    expect(desk.get_by_role("status")).to_contain_text("Chương trình đã chuyển sang")

    # The cooperative applies from a phone with three of its products.
    log_in(phone, member, PASSWORD)
    phone.goto("/quan-ly-htx/")
    phone.get_by_role("link", name="Đăng ký gian hàng").click()
    phone.get_by_role("link", name=f"Đăng ký ngay — {title}").click()
    expect(phone.get_by_text("Hạn đăng ký: 08/12/2026")).to_be_visible()
    for name in PRODUCTS:
        phone.get_by_label(name).check()
    phone.get_by_label("Khu muốn đặt gian hàng").select_option("Nông sản")
    phone.get_by_role("button", name="Gửi đơn đăng ký").click()
    expect(phone.get_by_role("status")).to_contain_text("Đã gửi đơn đăng ký gian hàng")
    log_out(phone)

    # Staff accept it into booth 10.
    desk.goto("/quan-tri/dang-ky-gian-hang")
    desk.get_by_role("link", name=COOPERATIVE_NAME).first.click()
    expect(desk.locator("main")).to_contain_text(title)
    desk.get_by_label("Số gian hàng").fill("10")
    desk.get_by_role("button", name="Nhận vào gian hàng").click()
    expect(desk.get_by_role("status")).to_contain_text(
        f"Đã nhận {COOPERATIVE_NAME} vào gian hàng số 10"
    )
    desk.goto(programme_url)
    # The programme's own "Số liệu" link (the console's nav has one for the whole alliance).
    figures_url = desk.locator("a[href$='/so-lieu']", has_text="Số liệu").last.get_attribute("href")
    assert re.search(r"/quan-tri/chuong-trinh/\d+/so-lieu$", figures_url)
    before = booth_scans(desk, figures_url)
    assert before == "0"

    # The booth's QR code, as printed: decode the PNG the site serves.
    desk.goto(programme_url)
    slug = desk.get_by_role("link", name="Trang công khai").get_attribute("href").rstrip("/")
    slug = slug.rsplit("/", 1)[-1]
    png = desk.request.get(f"/chuong-trinh/{slug}/gian-hang/10/qr.png")
    assert png.status == 200 and png.headers["content-type"] == "image/png"
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body())))
    assert code.text.endswith(f"/chuong-trinh/{slug}/gian-hang/10?nguon=qr")

    # A buyer scans it with a phone and adds a featured product to the inquiry list.
    buyer_context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        user_agent=PHONE_UA,
        is_mobile=True,
        has_touch=True,
    )
    buyer = buyer_context.new_page()
    buyer.goto(code.text)
    expect(buyer).to_have_url(re.compile(rf"/chuong-trinh/{slug}/gian-hang/10$"))
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("Gian hàng số 10")
    expect(buyer.locator("main")).to_contain_text(COOPERATIVE_NAME)
    add = re.compile(f"^Thêm vào yêu cầu báo giá ?: {re.escape(PRODUCTS[1])}$")
    buyer.get_by_role("button", name=add).click()
    expect(buyer.get_by_role("status")).to_contain_text("Đã thêm")
    buyer.goto("/yeu-cau-bao-gia")
    expect(buyer.locator("main")).to_contain_text(PRODUCTS[1])
    expect(buyer.locator("main")).to_contain_text(COOPERATIVE_NAME)
    assert buyer.evaluate("document.documentElement.scrollWidth") <= 390
    buyer_context.close()

    # The scan was counted once (before its redirect went out; the loop only spares a slow run).
    for _attempt in range(60):
        if booth_scans(desk, figures_url) == "1":
            break
        desk.wait_for_timeout(250)
    assert booth_scans(desk, figures_url) == "1"
    desk_context.close()
