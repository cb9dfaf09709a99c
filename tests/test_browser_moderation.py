"""Moderation from start to finish: staff approve one product and send another back; the
cooperative reads why, fixes it and sends it again; staff approve it; the log keeps both."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import log_in, log_out

pytestmark = pytest.mark.browser

PASSWORD = "duyệt-sản-phẩm-mùa-xuân-2026"

#: A verified demo cooperative that no other browser test signs in as.
COOPERATIVE = "htx-toi-tia-bai-an-thinh-demo"


def new_product(page, name: str, price: str) -> str:
    """The member lists a product and sends it for review; returns its dashboard URL."""
    page.goto("/quan-ly-htx/san-pham")
    page.get_by_role("link", name="Thêm sản phẩm").first.click()
    page.get_by_label("Tên sản phẩm").fill(name)
    page.get_by_label("Danh mục").select_option(label="Gia vị & nước chấm")
    page.get_by_label("Đơn vị bán").select_option(label="hũ")
    page.get_by_label("Giá bán (đồng)").fill(price)
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    expect(page).to_have_url(re.compile(r"/quan-ly-htx/san-pham/\d+$"))
    expect(page.locator("main")).to_contain_text("Đang chờ duyệt")
    return page.url


def test_approve_one_send_one_back_fixed_and_approved_both_in_the_log(browser, live_server):
    tag = uuid.uuid4().hex[:6]
    member, staff = f"chu-{tag}@toi-tia.example", f"can-bo-{tag}@lienminh.example"
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
    live_server.flask(
        "users", "create", staff, "--role", "staff", env={"SHOP_USER_PASSWORD": PASSWORD}
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    clean, sloppy = f"Tỏi ngâm mật ong {tag}", f"Tương tỏi ớt {tag}"

    log_in(page, member, PASSWORD)
    clean_url = new_product(page, clean, "85.000")
    sloppy_url = new_product(page, sloppy, "9")
    log_out(page)

    # Staff: one click in the queue approves the clean one; the other needs a closer look.
    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/")
    page.get_by_role("navigation", name="Khu quản trị").get_by_role(
        "link", name=re.compile("^Hàng chờ")
    ).click()
    page.get_by_role("button", name=f"Duyệt “{clean}”").click()
    expect(page.get_by_role("status")).to_contain_text("Đã duyệt 1 mục")
    expect(page.get_by_role("link", name=clean, exact=True)).to_have_count(0)

    page.get_by_role("link", name=sloppy, exact=True).click()
    page.get_by_label("Giá", exact=True).check()
    page.get_by_label("Ghi chú cho hợp tác xã").fill("Giá 9 đồng chắc là gõ thiếu số 0.")
    page.get_by_role("button", name="Yêu cầu sửa").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã gửi yêu cầu sửa “{sloppy}”")
    expect(page).to_have_url(re.compile(r"/quan-tri/hang-cho"))
    log_out(page)

    # The cooperative sees why, fixes the price and sends it again.
    log_in(page, member, PASSWORD)
    page.goto(sloppy_url)
    main = page.locator("main")
    expect(main).to_contain_text("Giá 9 đồng chắc là gõ thiếu số 0.")
    expect(main.locator(".reason-tags")).to_contain_text("Giá")
    page.get_by_role("link", name="Sửa thông tin").first.click()
    page.get_by_label("Giá bán (đồng)").fill("90.000")
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    expect(page.locator("main")).to_contain_text("Đang chờ duyệt")
    page.goto(clean_url)
    expect(page.locator("main")).to_contain_text("Đang bán")
    log_out(page)

    # Staff approve the fixed one from its page; both decisions are in the log.
    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/hang-cho")
    page.get_by_role("link", name=sloppy, exact=True).click()
    expect(page.locator("main")).to_contain_text("90.000 ₫")
    page.get_by_role("button", name="Duyệt và đăng bán").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã duyệt “{sloppy}”")

    page.goto("/quan-tri/nhat-ky")
    rows = page.locator("table tbody tr")
    mine = rows.filter(has_text=staff)
    expect(mine.filter(has_text="Duyệt sản phẩm")).to_have_count(2)
    expect(mine.filter(has_text="Yêu cầu sửa sản phẩm")).to_have_count(1)
    expect(mine.filter(has_text="Yêu cầu sửa sản phẩm")).to_contain_text(
        "Giá 9 đồng chắc là gõ thiếu số 0."
    )
    context.close()
