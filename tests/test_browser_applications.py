"""A cooperative applies for a booth from a phone; staff accept it into booth 10; the member
reads "Đã nhận" with the booth number and the public booth page shows the cooperative."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser import log_in, log_out

pytestmark = pytest.mark.browser

PASSWORD = "gian-hàng-số-mười-xuân-2027"
#: A verified demo cooperative with five products on sale, not at a booth of the open programme
#: and signed in as by no other browser test.
COOPERATIVE = "htx-thao-duoc-ngai-thom-phu-luong-demo"
COOPERATIVE_NAME = "HTX Thảo dược Ngải Thơm Phú Lương (demo)"
PRODUCTS = ("Dầu gội bồ kết", "Muối thảo dược ngâm chân", "Trà cà gai leo túi lọc")
#: The demo programme that takes applications until 28/02/2027 (the live server's today is
#: 26/11/2026).
PROGRAMME = "tuan-hang-htx-ocop-bac-ninh-xuan-2027"
PROGRAMME_TITLE = "Tuần hàng HTX & OCOP Bắc Ninh – Xuân Đinh Mùi 2027"
BOOTH = 10


class LiveDatabase:
    """Direct statements on the live server's database, for what a test arranges and restores."""

    def __init__(self, url: str):
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def sql(self, statement: str, **params):
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []


@pytest.fixture
def booth_10_free(live_server):
    """Booth 10 of the demo programme without its cooperative for this journey, put back after.

    The demo seats a cooperative at booth 10; the journey is staff accepting an application
    into it, so its holder steps out first and returns afterwards for the other journeys.
    """
    db = LiveDatabase(live_server.database_url)
    ((booth_id, holder),) = db.sql(
        "SELECT b.id, b.cooperative_id FROM booth b JOIN programme p ON p.id = b.programme_id"
        " WHERE p.slug = :slug AND b.number = :n",
        slug=PROGRAMME,
        n=BOOTH,
    )
    featured = db.sql(
        "SELECT product_id, position FROM booth_product WHERE booth_id = :b ORDER BY position",
        b=booth_id,
    )
    db.sql("DELETE FROM booth_product WHERE booth_id = :b", b=booth_id)
    db.sql("UPDATE booth SET cooperative_id = NULL WHERE id = :b", b=booth_id)
    try:
        yield db
    finally:
        db.sql("DELETE FROM booth_product WHERE booth_id = :b", b=booth_id)
        db.sql("UPDATE booth SET cooperative_id = :c WHERE id = :b", c=holder, b=booth_id)
        for product_id, position in featured:
            db.sql(
                "INSERT INTO booth_product (booth_id, product_id, position) VALUES (:b, :p, :n)",
                b=booth_id,
                p=product_id,
                n=position,
            )
        db.engine.dispose()


def test_apply_from_a_phone_staff_accept_into_booth_10(browser, live_server, phone, booth_10_free):
    tag = uuid.uuid4().hex[:6]
    member, staff = f"chu-{tag}@ngai-thom.example", f"can-bo-{tag}@lienminh.example"
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

    # The member, on a phone: from the dashboard to the programme's form.
    log_in(phone, member, PASSWORD)
    phone.goto("/quan-ly-htx/")
    phone.get_by_role("link", name="Đăng ký gian hàng").click()
    expect(phone.get_by_role("heading", name="Chương trình đang nhận đăng ký")).to_be_visible()
    phone.get_by_role("link", name=f"Đăng ký ngay — {PROGRAMME_TITLE}").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(PROGRAMME_TITLE)
    expect(phone.get_by_text("Hạn đăng ký: 28/02/2027")).to_be_visible()

    # Two products are not enough: the page says so and keeps the choice.
    for name in PRODUCTS[:2]:
        phone.get_by_label(name).check()
    phone.get_by_role("button", name="Gửi đơn đăng ký").click()
    expect(phone.get_by_role("alert")).to_contain_text("Hãy chọn từ 3 đến 10 sản phẩm tiêu biểu.")
    expect(phone.get_by_label(PRODUCTS[0])).to_be_checked()

    phone.get_by_label(PRODUCTS[2]).check()
    phone.get_by_label("Khu muốn đặt gian hàng").select_option("Nông sản sạch")
    phone.get_by_label("Lời nhắn cho Liên minh HTX").fill("Xin một ổ điện để đun nước trà.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="Gửi đơn đăng ký").click()
    expect(phone).to_have_url(re.compile(r"/quan-ly-htx/chuong-trinh/don/\d+$"))
    expect(phone.get_by_role("status")).to_contain_text("Đã gửi đơn đăng ký gian hàng")
    expect(phone.locator("main")).to_contain_text("Đang chờ xét")
    log_out(phone)

    # Staff, at a desk: the console's count, the application, booth 10.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server.url, locale="vi-VN"
    )
    desk = context.new_page()
    log_in(desk, staff, PASSWORD)
    desk.goto("/quan-tri/")
    desk.get_by_role("navigation", name="Khu quản trị").get_by_role(
        "link", name=re.compile("^Đăng ký gian hàng, \\d+ đơn đang chờ xét")
    ).click()
    desk.get_by_role("link", name=COOPERATIVE_NAME).click()
    main = desk.locator("main")
    expect(main).to_contain_text("Xin một ổ điện để đun nước trà.")
    for name in PRODUCTS:
        expect(main).to_contain_text(name)
    expect(main).to_contain_text("Gợi ý (khu “Nông sản sạch” trước)")
    desk.get_by_label("Số gian hàng").fill(str(BOOTH))
    desk.get_by_role("button", name="Nhận vào gian hàng").click()
    expect(desk.get_by_role("status")).to_contain_text(
        f"Đã nhận {COOPERATIVE_NAME} vào gian hàng số {BOOTH}"
    )
    context.close()

    # The member reads the decision; the public booth page shows the cooperative.
    log_in(phone, member, PASSWORD)
    phone.goto("/quan-ly-htx/")
    expect(phone.locator("main")).to_contain_text(
        f"Liên minh HTX đã nhận hợp tác xã vào “{PROGRAMME_TITLE}”: gian hàng số {BOOTH}."
    )
    phone.get_by_role("navigation", name="Quản lý hợp tác xã").get_by_role(
        "link", name="Gian hàng", exact=True
    ).click()
    card = phone.locator(".application-card", has_text=PROGRAMME_TITLE)
    expect(card).to_contain_text("Đã nhận")
    expect(card).to_contain_text(f"Gian hàng số {BOOTH}")
    card.get_by_role("link", name=PROGRAMME_TITLE).click()
    phone.get_by_role("link", name="Xem trang gian hàng của hợp tác xã").click()
    expect(phone).to_have_url(re.compile(rf"/chuong-trinh/{PROGRAMME}/gian-hang/{BOOTH}$"))
    expect(phone.locator("main")).to_contain_text(COOPERATIVE_NAME)
    for name in PRODUCTS:
        expect(phone.locator("main")).to_contain_text(name)
