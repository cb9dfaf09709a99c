"""Steps every browser journey shares: signing in and out through the real forms."""

from playwright.sync_api import expect


def log_in(page, email: str, password: str) -> None:
    """Sign in on the login page and wait until the app has let the visitor in."""
    page.goto("/tai-khoan/dang-nhap")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/tai-khoan/dang-nhap" not in url)


def log_out(page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
