"""Staff clear the queue from a phone: the count in the nav, a filter, two ticks, one button."""

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "hàng-chờ-cuối-tuần-2026"
#: A verified demo cooperative that no other browser test signs in as.
COOPERATIVE = "htx-mang-tay-con-xanh-thai-bao-demo"


def waiting_products(tag: str) -> list[dict]:
    """Two products sent for review, in the import format (status `pending`)."""
    return [
        {
            "slug": f"{slug}-{tag}",
            "cooperative": COOPERATIVE,
            "category": "rau-cu-qua-tuoi",
            "name_vi": f"{name} {tag}",
            "description_vi": "Thu hái buổi sáng, đóng túi trong ngày.",
            "unit": "kg",
            "price_vnd": price,
            "status": "pending",
        }
        for slug, name, price in (
            ("mang-tay-xanh", "Măng tây xanh", 120000),
            ("mang-tay-tim", "Măng tây tím", 150000),
        )
    ]


def badge(page) -> int:
    """The number beside 'Hàng chờ' in the console nav, read from the link's accessible name."""
    link = page.get_by_role("navigation", name="Khu quản trị").get_by_role(
        "link", name=re.compile(r"^Hàng chờ")
    )
    label = link.get_attribute("aria-label")
    if label is None:  # nothing waits: no number at all
        expect(link.locator(".nav-count")).to_have_count(0)
        return 0
    match = re.fullmatch(r"Hàng chờ, (\d+) mục đang chờ", label)
    assert match, label
    assert link.locator(".nav-count").inner_text() == match.group(1)
    return int(match.group(1))


def test_staff_approve_two_products_from_the_queue(browser, live_server, tmp_path):
    tag = uuid.uuid4().hex[:6]
    staff = f"hang-cho-{tag}@lienminh.example"
    live_server.flask(
        "users", "create", staff, "--role", "staff", env={"SHOP_USER_PASSWORD": PASSWORD}
    )
    products = waiting_products(tag)
    data = tmp_path / "cho-duyet.json"
    data.write_text(json.dumps({"products": products}, ensure_ascii=False), encoding="utf-8")
    live_server.flask("data", "import", str(data))
    names = [p["name_vi"] for p in products]

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    log_in(page, staff, PASSWORD)

    # The console's front page shows how much waits, beside 'Hàng chờ'.
    page.goto("/quan-tri/")
    before = badge(page)
    assert before >= 2

    page.get_by_role("link", name=re.compile(r"^Hàng chờ")).click()
    expect(page).to_have_url(re.compile(r"/quan-tri/hang-cho$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hàng chờ")
    page.get_by_role("navigation", name="Loại mục").get_by_role(
        "link", name=re.compile(r"^Sản phẩm mới")
    ).click()
    expect(page).to_have_url(re.compile(r"/quan-tri/hang-cho\?loai=san-pham$"))
    for name in names:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()

    for name in names:
        page.get_by_label(f"Chọn “{name}”").check()
    page.get_by_role("button", name="Duyệt các mục đã chọn").click()

    expect(page).to_have_url(re.compile(r"/quan-tri/hang-cho\?loai=san-pham$"))
    expect(page.get_by_role("status")).to_have_text("Đã duyệt 2 mục.")
    for name in names:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    assert badge(page) == before - 2

    # They are on sale.
    page.goto(f"/san-pham/{products[0]['slug']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(names[0])
    context.close()
