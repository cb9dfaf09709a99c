"""A buyer on a phone collects products into the inquiry list: two from product pages, one
from a booth of the 2027 programme; changes a quantity, removes one; the header count follows.

Runs on the demo data of the live server. Screenshots of the list (phone and desktop) are
written to the test's folder, and to $SHOP_SHOTS when set.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_accessibility import AXE, blocking_violations, describe

pytestmark = pytest.mark.browser

ASPARAGUS = ("mang-tay-xanh-cat-som", "Măng tây xanh cắt sớm")  # 140.000 ₫ / kg, from 0,5 kg
CAKES = ("banh-phu-the-nhan-do-dua", "Bánh phu thê nhân đỗ dừa")  # 16.000 ₫ / đôi, from 10
BOOTH = "/chuong-trinh/tuan-hang-htx-ocop-bac-ninh-xuan-2027/gian-hang/2"
HONEY = "Mật ong hoa vải"


def header_link(page):
    return page.locator("header").get_by_role("link", name=re.compile("^Yêu cầu báo giá"))


def expect_count(page, n: int) -> None:
    expect(header_link(page).locator(".nav-count")).to_have_text(str(n))
    # Chromium puts a space around the visually hidden part of the name.
    name = re.compile(rf"^Yêu cầu báo giá ?: {n} sản phẩm\s*$")
    expect(header_link(page)).to_have_accessible_name(name)


def test_a_buyer_fills_the_list_on_a_phone(phone, tmp_path):
    page = phone
    page.goto(f"/san-pham/{ASPARAGUS[0]}")
    expect(header_link(page)).to_have_accessible_name("Yêu cầu báo giá")
    quantity = page.get_by_label("Số lượng")
    expect(quantity).to_have_value("0,5")  # the minimum order, in kg
    quantity.fill("2")
    page.get_by_role("button", name="Thêm vào yêu cầu báo giá").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Đã thêm 2 kg “{ASPARAGUS[1]}” vào yêu cầu báo giá."
    )
    assert page.url.endswith(f"/san-pham/{ASPARAGUS[0]}")
    expect_count(page, 1)

    page.goto(f"/san-pham/{CAKES[0]}")
    expect(page.get_by_label("Số lượng")).to_have_value("10")
    page.get_by_role("button", name="Thêm vào yêu cầu báo giá").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{CAKES[1]}”")
    expect_count(page, 2)

    # At the booth, each featured product has its own small form.
    page.goto(BOOTH)
    page.get_by_role("button", name=re.compile(f"^Thêm vào yêu cầu báo giá ?: {HONEY}$")).click()
    expect(page.get_by_role("status")).to_contain_text(f"“{HONEY}”")
    assert page.url.endswith(BOOTH)
    expect_count(page, 3)

    page.get_by_role("link", name="Xem yêu cầu báo giá").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yêu cầu báo giá")
    expect(page.locator(".inquiry-group")).to_have_count(3)  # three cooperatives
    honey_line = page.locator(".inquiry-line", has_text=HONEY)
    expect(honey_line).to_contain_text("Từ gian hàng số 2")

    # Change a quantity: the estimate follows.
    asparagus = page.get_by_label(f"Số lượng {ASPARAGUS[1]}")
    asparagus.fill("3,5")
    page.get_by_role("button", name="Cập nhật số lượng").click()
    expect(page.get_by_role("status")).to_have_text("Đã cập nhật số lượng.")
    expect(page.get_by_label(f"Số lượng {ASPARAGUS[1]}")).to_have_value("3,5")
    line = page.locator(".inquiry-line", has_text=ASPARAGUS[1])
    expect(line).to_contain_text("Thành tiền tạm tính: 490.000 ₫")

    # Enter in a quantity field updates, it never removes the first line.
    page.get_by_label(f"Số lượng {CAKES[1]}").fill("20")
    page.get_by_label(f"Số lượng {CAKES[1]}").press("Enter")
    expect(page.get_by_role("status")).to_have_text("Đã cập nhật số lượng.")
    expect(page.locator(".inquiry-line")).to_have_count(3)

    # Remove one.
    page.get_by_role("button", name=f"Xóa {CAKES[1]}").click()
    expect(page.get_by_role("status")).to_have_text(f"Đã xóa “{CAKES[1]}” khỏi yêu cầu báo giá.")
    expect(page.locator(".inquiry-line")).to_have_count(2)
    expect_count(page, 2)

    # The page fits the phone: nothing wider than the screen; axe-core finds nothing serious.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    violations = blocking_violations(page, AXE)
    assert not violations, describe(violations)
    shots = [tmp_path]
    if os.environ.get("SHOP_SHOTS"):
        shots.append(Path(os.environ["SHOP_SHOTS"]))
    for folder in shots:
        page.screenshot(path=str(folder / "inquiry-list-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    for folder in shots:
        page.screenshot(path=str(folder / "inquiry-list-desktop.png"), full_page=True)
    page.goto(BOOTH)
    for folder in shots:
        page.screenshot(path=str(folder / "inquiry-booth-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(BOOTH)
    for folder in shots:
        page.screenshot(path=str(folder / "inquiry-booth-phone.png"), full_page=True)
    page.goto(f"/san-pham/{ASPARAGUS[0]}")
    for folder in shots:
        page.screenshot(path=str(folder / "inquiry-product-phone.png"), full_page=False)
