"""Staff read the figures on a phone and download a table as XLSX."""

import json
import re
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from shop.dataset.commands import DEMO_FILE
from tests.browser import log_in

pytestmark = pytest.mark.browser

PASSWORD = "so-lieu-lien-minh-2026"
#: Playwright's own user agent says "HeadlessChrome", which the counters take for a robot.
PHONE_BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
TABLE = "Hợp tác xã theo lĩnh vực và loại hình"


def test_staff_read_the_dashboard_and_download_a_table(browser, live_server, tmp_path):
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    product = [p for p in demo["products"] if p["status"] == "approved"][-1]
    staff = f"so-lieu-{uuid.uuid4().hex[:6]}@lienminh.example"
    live_server.flask(
        "users", "create", staff, "--role", "staff", env={"SHOP_USER_PASSWORD": PASSWORD}
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="vi-VN",
        user_agent=PHONE_BROWSER,
        accept_downloads=True,
    )
    page = context.new_page()

    # A buyer looks at a product: the view is counted once the page has been sent.
    page.goto(f"/san-pham/{product['slug']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(product["name_vi"])

    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/")
    page.get_by_role("navigation", name="Khu quản trị").get_by_role("link", name="Số liệu").click()
    expect(page).to_have_url(re.compile(r"/quan-tri/so-lieu$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Số liệu hợp tác xã và sản phẩm")

    # The sector chart is an image with a name, drawn to the phone's width.
    chart = page.get_by_role("img", name="Số hợp tác xã theo lĩnh vực")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert 300 <= box["width"] <= 390
    expect(chart.locator("text").first).to_have_text("Nông nghiệp")
    # ... and its numbers are in the table beside it, which adds up.
    table = page.get_by_role("table", name=TABLE)
    expect(table).to_be_visible()
    expect(table.locator("tfoot th")).to_have_text("Tổng cộng")
    row_totals = [
        int(t.replace(".", "")) for t in table.locator("tbody td:last-child").all_inner_texts()
    ]
    grand_total = int(table.locator("tfoot td").last.inner_text().replace(".", ""))
    assert grand_total == sum(row_totals) >= 37

    # The product just viewed is among the most viewed, linked to its page.
    viewed = page.get_by_role("table", name=re.compile("Sản phẩm được xem nhiều nhất"))
    expect(viewed.get_by_role("link", name=product["name_vi"])).to_be_visible()

    # The table downloads as XLSX, which opens with its Vietnamese headers and the same totals.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"XLSX – {TABLE}").click()
    download = download_info.value
    assert download.suggested_filename == "so-lieu-hop-tac-xa.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "Lĩnh vực",
        "Hợp tác xã",
        "Liên hiệp HTX",
        "Tổ hợp tác",
        "Quỹ tín dụng nhân dân",
        "Tổng",
    ]
    assert rows[1][0] == "Nông nghiệp"
    assert rows[-1][0] == "Tổng cộng" and rows[-1][-1] == grand_total
    context.close()
