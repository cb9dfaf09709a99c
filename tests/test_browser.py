"""Journeys through the real app in headless chromium, the way a buyer on a phone goes."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_sector_product_then_english(phone, demo):
    sectors = {s["slug"]: s for s in demo["sectors"]}
    products = {p["slug"]: p for p in demo["products"]}

    phone.goto("/")
    expect(phone).to_have_title(re.compile("Chợ HTX"))
    phone.get_by_role("link", name=re.compile(sectors["nong-nghiep"]["name_vi"])).first.click()
    expect(phone).to_have_url(re.compile(r"/linh-vuc/nong-nghiep"))
    expect(phone.get_by_role("heading", level=1)).to_contain_text(sectors["nong-nghiep"]["name_vi"])

    phone.locator("main a[href^='/san-pham/']").first.click()
    expect(phone).to_have_url(re.compile(r"/san-pham/[a-z0-9-]+"))
    slug = phone.url.split("/san-pham/")[1].split("?")[0]
    product = products[slug]
    expect(phone.get_by_role("heading", level=1)).to_have_text(product["name_vi"])
    expect(phone.locator("html")).to_have_attribute("lang", "vi")

    phone.get_by_role("link", name="English").click()
    expect(phone).to_have_url(re.compile(rf"/san-pham/{slug}\?lang=en"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        product["name_en"] or product["name_vi"]
    )
    # The interface is in English too, and the choice is remembered on the next page.
    expect(phone.get_by_role("navigation").first).to_contain_text("Products")
    phone.get_by_role("link", name=re.compile("^Products$")).first.click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
