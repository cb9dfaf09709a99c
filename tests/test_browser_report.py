"""A buyer reports a product from a phone; staff ask for changes; the cooperative reads why."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import log_in, log_out

pytestmark = pytest.mark.browser

PASSWORD = "mật-ong-hoa-vải-tân-lãng"
#: A verified demo cooperative that no other browser test signs in as.
COOPERATIVE = "htx-nuoi-ong-mat-vang-tan-lang-demo"
SLUG = "mat-ong-hoa-vai"
NAME = "Mật ong hoa vải"


def test_buyer_reports_counterfeit_staff_request_changes_member_reads_reasons(phone, live_server):
    tag = uuid.uuid4().hex[:6]
    member, staff = f"ong-{tag}@tan-lang.example", f"bao-cao-{tag}@lienminh.example"
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
    page = phone

    # A buyer, not signed in, opens the product and reports it as counterfeit.
    page.goto(f"/san-pham/{SLUG}")
    name = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Báo cáo sản phẩm").click()
    expect(page).to_have_url(re.compile(rf"/san-pham/{SLUG}/bao-cao$"))
    # Sent without a reason first: the form says what is missing, next to the field.
    page.get_by_role("button", name="Gửi báo cáo").click()
    expect(page.get_by_role("alert")).to_contain_text("Hãy chọn sản phẩm có vấn đề gì.")
    page.get_by_label("Hàng giả, hàng nhái").check()
    page.get_by_label("Mô tả thêm").fill("Tem chống giả in mờ, khác hẳn hũ tôi mua ở hợp tác xã.")
    page.get_by_label("Email của bạn").fill("nguoi.mua@example.com")
    page.get_by_role("button", name="Gửi báo cáo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn bạn")
    expect(page.get_by_role("status")).to_contain_text("Chúng tôi đã nhận báo cáo của bạn")
    expect(page.locator("main")).to_contain_text("Tiếp theo sẽ thế nào?")

    # Staff open the case and ask for changes, with reasons.
    log_in(page, staff, PASSWORD)
    page.goto("/quan-tri/bao-cao-san-pham")
    page.get_by_role("link", name=name).first.click()
    expect(page.locator("main")).to_contain_text("Tem chống giả in mờ")
    expect(page.locator("main")).to_contain_text("Liên hệ: nguoi.mua@example.com")
    page.get_by_label("Chứng nhận, OCOP").check()
    page.get_by_label("Ảnh sản phẩm").check()
    page.get_by_label("Ghi chú cho hợp tác xã").fill(
        "Chụp lại tem chống giả và gửi giấy chứng nhận."
    )
    page.get_by_role("button", name="Yêu cầu sửa").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gửi yêu cầu sửa")
    log_out(page)
    assert page.goto(f"/san-pham/{SLUG}").status == 404

    # The cooperative's member reads the reasons on the dashboard.
    log_in(page, member, PASSWORD)
    page.goto("/quan-ly-htx/")
    notices = page.locator("main")
    expect(notices).to_contain_text(f"Liên minh HTX đã xem lại sản phẩm “{name}” và cần bạn sửa")
    expect(notices).to_contain_text("Cần xem lại: Ảnh sản phẩm, Chứng nhận, OCOP.")
    expect(notices).to_contain_text("Chụp lại tem chống giả và gửi giấy chứng nhận.")
    # Nothing about who reported it.
    expect(notices).not_to_contain_text("nguoi.mua@example.com")
    page.goto("/quan-ly-htx/san-pham")
    page.get_by_role("link", name=name).first.click()
    expect(page.locator("main")).to_contain_text("Chụp lại tem chống giả và gửi giấy chứng nhận.")
    expect(page.get_by_role("button", name="Gửi duyệt")).to_be_visible()
