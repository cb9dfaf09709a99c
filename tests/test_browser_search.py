"""A buyer on a phone searches without diacritics: suggestions as they type, then results."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_buyer_picks_a_suggestion_then_searches_dong_ho(phone):
    page = phone
    page.goto("/")
    box = page.get_by_role("combobox", name="Tìm sản phẩm", exact=True)
    box.click()
    box.press_sequentially("banh", delay=60)

    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Bánh")
    assert options.count() <= 8
    expect(box).to_have_attribute("aria-expanded", "true")

    # The keyboard moves through the list; a tap on an option follows its link.
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    label = options.first.inner_text().splitlines()[0].strip()
    options.first.click()
    expect(page).to_have_url(re.compile(r"/san-pham/[a-z0-9-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(label)

    # Back in the header search, a plain search for "dong ho" shows the Đông Hồ paintings.
    box = page.get_by_role("combobox", name="Tìm sản phẩm", exact=True)
    box.fill("dong ho")
    expect(page.get_by_role("listbox")).to_be_visible()
    box.press("Escape")  # closes the list, keeps the words
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("dong ho")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/tim-kiem\?q=dong\+ho$"))
    expect(page.get_by_role("status").first).to_contain_text("khớp với “dong ho”")
    first_card = page.locator(".product-card").first
    expect(first_card).to_contain_text("Đông Hồ")
    assert page.locator(".product-card mark").count() > 0
    page.screenshot(path="/tmp/search-phone-results.png")


def test_the_search_form_works_without_javascript(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        java_script_enabled=False,
    )
    page = context.new_page()
    page.goto("/")
    page.get_by_role("searchbox", name="Tìm sản phẩm", exact=True).fill("mat onf")
    page.get_by_role("search", name="Tìm kiếm").get_by_role("button", name="Tìm").click()
    expect(page.get_by_text("Không có sản phẩm nào khớp với “mat onf”.")).to_be_visible()
    page.get_by_role("link", name="mat ong").click()
    expect(page.locator(".product-card mark").first).to_be_visible()
    context.close()
