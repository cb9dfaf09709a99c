"""A product goes online from a phone: photos, review, publication, then a price change."""

import re
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser import log_in, log_out
from tests.test_browser_photos import drag, order

pytestmark = pytest.mark.browser

PASSWORD = "tương-nếp-mùa-đông-2026"
#: A verified demo cooperative that no other browser test signs in as.
COOPERATIVE = "htx-rau-an-toan-viet-doan-xanh-demo"
NAME = "Tương nếp Hành Trình"
SLUG = "tuong-nep-hanh-trinh"


def sha_of(src: str) -> str:
    return re.search(r"/media/([0-9a-f]{64})/", src).group(1)


def test_member_lists_a_product_staff_approve_and_a_price_edit_waits(
    browser, live_server, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    member, staff = f"thu-{tag}@viet-doan.example", f"duyet-{tag}@lienminh.example"
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
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        has_touch=True,
    )
    page = context.new_page()
    first_photo, second_photo = tmp_path / "hu-tuong.jpg", tmp_path / "nhan-tuong.jpg"
    for path, colour in ((first_photo, (120, 70, 30)), (second_photo, (60, 120, 40))):
        image = Image.new("RGB", (1200, 900), colour)
        image.paste((230, 210, 160), (300, 200, 900, 700))
        image.save(path, "JPEG", quality=90)

    # The member creates the product as a draft.
    log_in(page, member, PASSWORD)
    page.goto("/quan-ly-htx/san-pham")
    page.get_by_role("link", name="Thêm sản phẩm").first.click()
    page.get_by_label("Tên sản phẩm").fill(NAME)
    page.get_by_label("Danh mục").select_option(label="Gia vị & nước chấm")
    page.get_by_label("Đơn vị bán").select_option(label="hũ")
    page.get_by_label("Giá bán (đồng)").fill("65.000")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page).to_have_url(re.compile(r"/quan-ly-htx/san-pham/\d+$"))
    product_url = page.url

    # Two photos, then the second dragged before the first.
    page.get_by_role("link", name=re.compile("Ảnh sản phẩm")).click()
    page.get_by_label("Chọn ảnh").set_input_files([first_photo, second_photo])
    page.get_by_role("button", name="Tải ảnh lên").click()
    expect(page.locator("[data-upload-status]")).to_contain_text(
        "Đã tải lên 2/2 ảnh.", timeout=30_000
    )
    expect(page.locator("[data-photo-list] > li")).to_have_count(2)
    before = order(page)
    items = page.locator("[data-photo-list] > li")
    handle = items.nth(1).get_by_role("button", name="Kéo để đổi vị trí ảnh 2")
    with page.expect_response(lambda r: r.url.endswith("/anh/thu-tu")) as saved:
        drag(page, handle, items.nth(0))
    assert saved.value.status == 200
    page.reload()
    assert order(page) == list(reversed(before))
    cover_sha = sha_of(
        page.locator("[data-photo-list] > li").first.locator("img").get_attribute("src")
    )

    # Sent for review; staff approve; it is on sale with the chosen cover.
    page.goto(product_url)
    page.get_by_role("button", name="Gửi duyệt").click()
    expect(page.locator("main")).to_contain_text("Đang chờ duyệt")
    assert page.goto(f"/san-pham/{SLUG}").status == 404
    log_out(page)

    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/san-pham")
    page.get_by_role("link", name=NAME).first.click()
    page.get_by_role("button", name="Duyệt và đăng bán").click()
    expect(page.get_by_role("status")).to_contain_text("Đã duyệt")
    log_out(page)

    page.goto(f"/san-pham/{SLUG}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator("main")).to_contain_text("65.000 ₫ / hũ")
    cover = page.locator("main img").first
    assert sha_of(cover.get_attribute("src")) == cover_sha
    assert "/media/" in (cover.get_attribute("srcset") or "")

    # The member changes the price: the public page keeps the approved one until review.
    log_in(page, member, PASSWORD)
    page.goto(product_url)
    page.get_by_role("link", name="Sửa thông tin").first.click()
    page.get_by_label("Giá bán (đồng)").fill("70.000")
    page.get_by_role("button", name="Gửi bản sửa để duyệt").click()
    page.goto(f"/san-pham/{SLUG}")
    expect(page.locator("main")).to_contain_text("65.000 ₫ / hũ")
    expect(page.locator("main")).not_to_contain_text("70.000 ₫")
    log_out(page)

    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/san-pham")
    page.get_by_role("link", name=NAME).first.click()
    page.get_by_role("button", name="Duyệt bản sửa").click()
    log_out(page)
    page.goto(f"/san-pham/{SLUG}")
    expect(page.locator("main")).to_contain_text("70.000 ₫ / hũ")
    context.close()
