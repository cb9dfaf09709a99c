"""Staff curate a programme from the console: a 4×2 plan with zones, booths 1, 2 and 10 added by
clicking empty cells, a verified cooperative at booth 10 with three featured products, then
published; buyers find booth 10 on the public plan and its three products on its page."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "so-do-gian-hang-xuan-2027"
COOPERATIVE = "HTX Bánh phu thê Song Hỷ Đình Bảng (demo)"
PRODUCTS = ["Hộp bánh phu thê quà biếu 6 cặp", "Bánh phu thê nhân đỗ dừa", "Bánh khảo nhân đậu"]


def add_booth_at(page, column: int, row: int, number: str, zone: str) -> None:
    page.get_by_role("link", name=f"Thêm gian hàng ở cột {column}, hàng {row}").click()
    expect(page.get_by_label("Cột trên sơ đồ")).to_have_value(str(column))
    expect(page.get_by_label("Hàng trên sơ đồ")).to_have_value(str(row))
    page.get_by_label("Số gian hàng").fill(number)
    page.get_by_role("combobox", name=re.compile(r"^Khu")).select_option(label=zone)
    page.get_by_role("button", name="Thêm gian hàng").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã thêm gian hàng số {number}.")


def test_staff_draw_a_plan_place_a_cooperative_and_publish(browser, live_server):
    tag = uuid.uuid4().hex[:6]
    staff = f"so-do-{tag}@lienminh.example"
    live_server.flask(
        "users", "create", staff, "--role", "staff", env={"SHOP_USER_PASSWORD": PASSWORD}
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    log_in(page, staff, PASSWORD)

    page.goto("/quan-tri/")
    page.get_by_role("navigation", name="Khu quản trị").get_by_role(
        "link", name="Chương trình"
    ).click()
    page.get_by_role("link", name="Tạo chương trình").click()
    title = f"Phiên chợ sơ đồ {tag}"
    page.get_by_label("Tên chương trình").fill(title)
    page.get_by_label("Ngày bắt đầu").fill("2027-06-05")
    page.get_by_label("Ngày kết thúc").fill("2027-06-07")
    page.get_by_label("Số cột của sơ đồ").fill("4")
    page.get_by_label("Số hàng của sơ đồ").fill("2")
    page.get_by_label("Các khu").fill("Nông sản\nBánh truyền thống")
    page.get_by_role("button", name="Tạo chương trình").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("link", name=re.compile(r"^Thêm gian hàng ở cột"))).to_have_count(8)

    add_booth_at(page, 1, 1, "1", "Nông sản")
    add_booth_at(page, 2, 1, "2", "Nông sản")
    add_booth_at(page, 4, 2, "10", "Bánh truyền thống")
    expect(page.get_by_role("link", name=re.compile(r"^Thêm gian hàng ở cột"))).to_have_count(5)

    page.get_by_role("link", name="Gian hàng số 10, khu Bánh truyền thống: trống").click()
    search = page.get_by_role("search", name="Tìm hợp tác xã")
    search.get_by_label("Tìm theo tên hoặc mã số thuế").fill("banh phu the song hy")
    search.get_by_role("button", name="Tìm", exact=True).click()
    page.get_by_role("combobox", name="Chọn hợp tác xã").select_option(label=COOPERATIVE)
    page.get_by_role("button", name="Xếp vào gian hàng").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã xếp {COOPERATIVE} vào gian hàng số 10")
    for position, name in enumerate(PRODUCTS, start=1):
        page.get_by_role("checkbox", name=name).check()
        page.get_by_label(f"Thứ tự của {name}").fill(str(position))
    page.get_by_role("button", name="Lưu sản phẩm trưng bày").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu sản phẩm trưng bày")

    page.get_by_role("link", name=title).click()
    page.get_by_role("button", name="Công bố").click()
    expect(page.get_by_role("status")).to_contain_text("Chương trình đã chuyển sang “Đã công bố”.")

    # A buyer, not signed in, on the public programme page.
    buyer = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    ).new_page()
    buyer.goto("/chuong-trinh")
    buyer.get_by_role("link", name=title).click()
    booth = buyer.locator(".floor-plan").get_by_role("link", name=f"Gian hàng số 10: {COOPERATIVE}")
    expect(booth).to_have_count(1)
    booth.click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("Gian hàng số 10")
    cards = buyer.locator(".product-card .card-title")
    expect(cards).to_have_text(PRODUCTS)
    buyer.context.close()
    context.close()
