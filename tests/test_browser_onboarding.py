"""A cooperative comes online: register → staff verify → owner invites an editor → editor works."""

import re

import pytest
from playwright.sync_api import expect

from tests.live import outbox_links

pytestmark = pytest.mark.browser

PASSWORD = "rơm-rạ-mùa-gặt-2026"


def log_in(page, email, password=PASSWORD):
    page.goto("/tai-khoan/dang-nhap")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def log_out(page):
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()


def sign_up(page, name, email):
    page.get_by_label("Họ và tên").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Tạo tài khoản").click()


def test_register_verify_invite_and_the_editor_sees_the_dashboard(phone, live_server):
    live_server.flask(
        "users",
        "create",
        "can-bo-hanh-trinh@lienminh.example",
        "--role",
        "staff",
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )
    name = "Hợp tác xã Nông nghiệp Sen Hồng Hành Trình"

    # 1. A farmer signs up and registers the cooperative.
    phone.goto("/tai-khoan/dang-ky")
    sign_up(phone, "Nguyễn Thị Hồng", "hong.hanhtrinh@example.com")
    phone.goto("/tai-khoan/")
    phone.get_by_role("link", name="Đăng ký hợp tác xã").first.click()
    phone.get_by_label("Hợp tác xã", exact=True).check()
    phone.get_by_label("Tên đầy đủ").fill(name)
    phone.get_by_label(re.compile("^Mã số thuế")).fill("9991234562")
    phone.get_by_label("Lĩnh vực chính").select_option(label="Nông nghiệp")
    phone.get_by_label("Xã, phường").select_option(label="Xã Liên Bão")
    phone.get_by_label("Địa chỉ trụ sở").fill("Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh")
    phone.get_by_label("Số điện thoại").fill("0912 345 678")
    phone.get_by_role("button", name="Gửi đăng ký").click()
    expect(phone).to_have_url(re.compile(r"/quan-ly-htx/"))
    expect(phone.locator("main")).to_contain_text("chờ xác minh")
    log_out(phone)

    # 2. Alliance staff verify it from the queue.
    log_in(phone, "can-bo-hanh-trinh@lienminh.example")
    expect(phone).to_have_url(re.compile(r"/quan-tri/"))
    phone.goto("/quan-tri/htx/cho-duyet")
    expect(phone.locator("main")).to_contain_text(name)
    phone.get_by_role("button", name=f"Xác minh {name}").click()
    expect(phone.locator("main")).to_contain_text("xác minh")
    log_out(phone)

    # 3. The owner sees it verified and invites an editor.
    log_in(phone, "hong.hanhtrinh@example.com")
    expect(phone).to_have_url(re.compile(r"/quan-ly-htx/"))
    expect(phone.locator("main")).to_contain_text("Đã xác minh")
    phone.goto("/quan-ly-htx/thanh-vien")
    phone.get_by_label("Email của người được mời").fill("tuan.bientap@example.com")
    phone.get_by_role("button", name="Gửi lời mời").click()
    expect(phone.locator("main")).to_contain_text("tuan.bientap@example.com")
    log_out(phone)

    # 4. The editor follows the emailed link, creates an account and accepts.
    links = set(outbox_links(live_server.database_url, "tuan.bientap@example.com", "/loi-moi/"))
    assert len(links) == 1  # one invitation (its email repeats the link in each language)
    links = list(links)
    phone.goto(links[0].replace(re.match(r"https?://[^/]+", links[0]).group(0), ""))
    expect(phone.locator("main")).to_contain_text(name)
    phone.get_by_role("link", name="Tạo tài khoản").click()
    sign_up(phone, "Trần Văn Tuấn", "tuan.bientap@example.com")
    phone.get_by_role("button", name="Nhận lời mời").click()
    expect(phone).to_have_url(re.compile(r"/quan-ly-htx/"))
    expect(phone.get_by_role("status")).to_contain_text("Chào mừng")
    expect(phone.locator("main")).to_contain_text(name)
    phone.goto("/quan-ly-htx/thanh-vien")
    expect(phone.locator("main")).to_contain_text("Trần Văn Tuấn")
