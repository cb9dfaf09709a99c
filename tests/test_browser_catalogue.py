"""A buyer on a phone narrows the catalogue with facets, sorts it and pages through it."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def count_of(page) -> int:
    text = page.locator(".result-count").inner_text()
    return int(re.sub(r"\D", "", text))


def season_label(page):
    return page.locator("label.check", has_text="Đang vào mùa")


def card_slugs(page) -> list[str]:
    hrefs = page.locator(".product-grid .card-link").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [href.rsplit("/", 1)[1] for href in hrefs]


def test_buyer_filters_sorts_and_pages_on_a_phone(phone, browser, live_server):
    page = phone
    page.goto("/san-pham")
    total = count_of(page)
    filters = page.locator("details.facets")
    # On a phone the facets wait behind "Bộ lọc" so the results come first.
    expect(filters).not_to_have_attribute("open", re.compile(".*"))
    expect(page.get_by_label("Lĩnh vực")).to_be_hidden()
    expect(page.locator(".product-grid")).to_be_in_viewport()

    page.get_by_text("Bộ lọc", exact=True).click()
    sector = page.get_by_label("Lĩnh vực")
    expect(sector).to_be_visible()
    agriculture = sector.locator('option[value="nong-nghiep"]').inner_text()
    season_before = season_label(page).inner_text()

    # Choosing a sector sends the form at once (filters.js) and the panel stays open.
    sector.select_option("nong-nghiep")
    page.wait_for_url(re.compile(r"sector=nong-nghiep"))
    expect(page.get_by_text("Bộ lọc (1)", exact=True)).to_be_visible()
    expect(page.get_by_label("Lĩnh vực")).to_be_visible()
    in_agriculture = count_of(page)
    assert 0 < in_agriculture < total
    assert f"({in_agriculture})" in agriculture
    # The other facets now count within the sector.
    assert season_label(page).inner_text() != season_before
    # Empty fields are not sent: the address stays short enough to share.
    assert "category=" not in page.url and "ocop=" not in page.url

    page.get_by_role("checkbox", name=re.compile("Đang vào mùa")).check()
    page.wait_for_url(re.compile(r"season=1"))
    expect(page.get_by_text("Bộ lọc (2)", exact=True)).to_be_visible()
    seasonal = count_of(page)
    assert 0 < seasonal < in_agriculture
    option = page.get_by_label("Lĩnh vực").locator('option[value="nong-nghiep"]')
    expect(option).to_have_text(re.compile(rf"\({seasonal}\)$"))

    page.get_by_label("Sắp xếp").select_option("price_asc")
    page.wait_for_url(re.compile(r"sort=price_asc"))
    prices = page.locator(".product-grid .price").all_inner_texts()
    amounts = [int(re.sub(r"\D", "", p.split("/")[0])) for p in prices if "Liên hệ" not in p]
    assert amounts == sorted(amounts)
    first_page = card_slugs(page)

    page.get_by_role("link", name=re.compile("Trang sau")).click()
    page.wait_for_url(re.compile(r"cursor="))
    expect(page.get_by_text(re.compile(r"^Trang 2 / \d+$"))).to_be_visible()
    second_page = card_slugs(page)
    assert second_page and not set(second_page) & set(first_page)
    shared = page.url

    page.get_by_role("link", name=re.compile("Trang trước")).click()
    page.wait_for_url(lambda url: "cursor=" not in url)
    assert card_slugs(page) == first_page

    # Someone else opens the shared address: the same page, same filters, same sort.
    other = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    )
    try:
        friend = other.new_page()
        friend.goto(shared)
        assert card_slugs(friend) == second_page
        assert count_of(friend) == seasonal
        expect(friend.get_by_label("Sắp xếp")).to_have_value("price_asc")
        expect(friend.get_by_text("Bộ lọc (2)", exact=True)).to_be_visible()
    finally:
        other.close()


def test_catalogue_works_without_javascript(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=live_server.url,
        locale="vi-VN",
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        page.goto("/san-pham")
        page.get_by_text("Bộ lọc", exact=True).click()
        page.get_by_label("Khoảng giá").select_option("duoi-50k")
        page.get_by_role("button", name="Lọc sản phẩm").click()
        page.wait_for_url(re.compile(r"price=duoi-50k"))
        cheap = count_of(page)
        page.get_by_label("Sắp xếp").select_option("price_desc")
        page.get_by_role("button", name="Áp dụng").click()
        page.wait_for_url(re.compile(r"sort=price_desc"))
        assert count_of(page) == cheap
        prices = page.locator(".product-grid .price").all_inner_texts()
        amounts = [int(re.sub(r"\D", "", p.split("/")[0])) for p in prices]
        assert amounts == sorted(amounts, reverse=True) and max(amounts) < 50_000
    finally:
        context.close()
