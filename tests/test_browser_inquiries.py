"""Issue 8's journey: a buyer on a phone adds three products from two cooperatives and sends
once; each cooperative's member signs in, sees only its part and replies; the buyer opens both
private links from the outbox, reads both replies and answers one; that cooperative reads the
answer in its thread.

Runs on the demo data of the live server. Screenshots of the inbox and of one inquiry (phone)
are written to the test's folder, and to $SHOP_SHOTS when set.
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import log_in, log_out
from tests.live import outbox_links

pytestmark = pytest.mark.browser

PASSWORD = "trả-lời-người-mua-sớm-2026"
#: Two demo cooperatives no other browser journey asks for quotes.
LOTUS = ("htx-sen-dam-giang-son-demo", "HTX Sen Đầm Giang Sơn (demo)")
FISH = ("htx-thuy-san-bai-song-giang-demo", "HTX Thủy sản Bãi Song Giang (demo)")
PRODUCTS = (
    ("tra-sen-bach-diep-uop-gao-sen-100-g", "Trà sen Bách Diệp ướp gạo sen 100 g", "3"),
    ("cu-sen-tuoi", "Củ sen tươi", "12"),
    ("ca-tram-gion-song-duong", "Cá trắm giòn sông Đuống", "20"),
)


def add(page, slug: str, name: str, quantity: str) -> None:
    page.goto(f"/san-pham/{slug}")
    page.get_by_label("Số lượng").fill(quantity)
    page.get_by_role("button", name="Thêm vào yêu cầu báo giá").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{name}”")


def member(live_server, slug: str, tag: str) -> str:
    email = f"tra-loi-{tag}@{slug[:12]}.example"
    live_server.flask(
        "users",
        "create",
        email,
        "--role",
        "member",
        "--cooperative",
        slug,
        "--name",
        f"Thành viên {slug[4:8]} {tag}",
        env={"SHOP_USER_PASSWORD": PASSWORD},
    )
    return email


def shoot(page, name: str, tmp_path: Path) -> None:
    folders = [tmp_path] + (
        [Path(os.environ["SHOP_SHOTS"])] if os.environ.get("SHOP_SHOTS") else []
    )
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)


def open_inquiry_of(page, buyer: str, own: list[str], others: list[str]) -> None:
    """From the dashboard: the inbox (its nav link counts the new one), then the buyer's row.

    The buyer's one row names this cooperative's products (`own`), never the other's.
    """
    page.goto("/quan-ly-htx/")
    expect(page.get_by_text(re.compile(r"^\d+ yêu cầu mới$"))).to_be_visible()
    page.locator(".dash-nav").get_by_role("link", name=re.compile("^Yêu cầu báo giá")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yêu cầu báo giá")
    row = page.locator(".inquiry-row", has_text=buyer)
    expect(row).to_have_count(1)
    for name in own:
        expect(row).to_contain_text(name)
    for name in others:
        expect(page.locator("main")).not_to_contain_text(name)
    page.get_by_role("link", name=re.compile(f"^Xem và trả lời — {buyer} #")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(buyer)


def test_a_buyer_asks_two_cooperatives_and_reads_both_replies(
    browser, live_server, phone, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    buyer, buyer_email = f"Chị Ngọc {tag}", f"ngoc-{tag}@mua-hang.example"
    members = {LOTUS: member(live_server, LOTUS[0], tag), FISH: member(live_server, FISH[0], tag)}

    # The buyer, on a phone: three products from two cooperatives, sent once.
    for slug, name, quantity in PRODUCTS:
        add(phone, slug, name, quantity)
    phone.goto("/yeu-cau-bao-gia")
    expect(phone.locator(".inquiry-group")).to_have_count(2)
    phone.get_by_role("link", name="Gửi yêu cầu báo giá").click()
    phone.get_by_label("Họ và tên").fill(buyer)
    phone.get_by_label("Cửa hàng", exact=True).check()
    phone.get_by_label("Gọi điện thoại").check()
    phone.get_by_label("Số điện thoại").fill("0912 345 678")
    phone.get_by_role("textbox", name="Email").fill(buyer_email)
    phone.get_by_label("Nơi nhận hàng").fill("Phường Kinh Bắc, Bắc Ninh")
    phone.get_by_label("Lời nhắn cho hợp tác xã").fill("Cho chị xin giá sỉ, giao trước ngày 20.")
    phone.get_by_role("button", name="Gửi yêu cầu báo giá").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Đã gửi yêu cầu báo giá")
    expect(phone.locator(".inquiry-sent-list > li")).to_have_count(2)

    # Each cooperative's member, on a phone too: only its own part, and a reply.
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, locale="vi-VN"
    )
    page = context.new_page()
    answers = {
        LOTUS: "Trà sen 180.000 ₫/hộp, củ sen 45.000 ₫/kg. Giao thứ Năm.",
        FISH: "Cá trắm giòn 150.000 ₫/kg, giao bằng thùng đá.",
    }
    names = {LOTUS: [p[1] for p in PRODUCTS[:2]], FISH: [PRODUCTS[2][1]]}
    for coop, answer in answers.items():
        log_in(page, members[coop], PASSWORD)
        others = [name for other, listed in names.items() if other != coop for name in listed]
        open_inquiry_of(page, buyer, names[coop], others)
        case = page.locator(".inquiry-case")
        expect(case.get_by_role("link", name="Gọi 0912 345 678")).to_have_attribute(
            "href", "tel:0912345678"
        )
        items = page.locator(".inquiry-items")
        if coop == LOTUS:
            expect(items).to_contain_text(PRODUCTS[0][1])
            expect(items).to_contain_text("Củ sen tươi")
            expect(items).not_to_contain_text("Cá trắm")
            shoot(page, "inquiry-inbox-one-phone.png", tmp_path)
        else:
            expect(items).to_contain_text("Cá trắm giòn sông Đuống")
            expect(items).not_to_contain_text("sen")
        expect(page.locator(".inquiry-messages")).to_contain_text("Cho chị xin giá sỉ")
        page.get_by_label("Câu trả lời cho người mua").fill(answer)
        page.get_by_role("button", name="Gửi câu trả lời").click()
        expect(page.get_by_role("status")).to_contain_text("Đã gửi câu trả lời.")
        expect(page.locator(".inquiry-messages")).to_contain_text(answer)
        expect(page.locator(".inquiry-case .inquiry-state")).to_have_text("Đã trả lời")
        if coop == FISH:
            page.goto("/quan-ly-htx/yeu-cau")
            shoot(page, "inquiry-inbox-phone.png", tmp_path)
        log_out(page)

    # The buyer opens both private links from the confirmation email.
    links = outbox_links(live_server.database_url, buyer_email, "/yeu-cau/")
    assert len(links) == 4  # the confirmation's two, then one with each reply
    read, link_of = {}, {}
    for link in links[:2]:
        phone.goto(link)
        title = phone.get_by_role("heading", level=1).inner_text()
        read[title] = phone.locator(".inquiry-messages").inner_text()
        link_of[title] = link
    assert answers[LOTUS] in read[LOTUS[1]]
    assert answers[FISH] in read[FISH[1]]
    assert answers[FISH] not in read[LOTUS[1]]

    # … and answers the lotus cooperative.
    phone.goto(link_of[LOTUS[1]])
    expect(phone.get_by_role("heading", level=1)).to_have_text(LOTUS[1])
    phone.get_by_label("Câu trả lời của bạn").fill("Chị lấy 5 hộp trà, 20 kg củ sen nhé.")
    phone.get_by_role("button", name="Gửi câu trả lời").click()
    expect(phone.get_by_role("status")).to_contain_text("Đã gửi câu trả lời của bạn")

    # The lotus cooperative reads the buyer's answer in its thread.
    log_in(page, members[LOTUS], PASSWORD)
    page.goto("/quan-ly-htx/yeu-cau")
    page.get_by_role("link", name=re.compile(f"^Xem và trả lời — {buyer} #")).click()
    thread = page.locator(".inquiry-messages")
    expect(thread).to_contain_text("Chị lấy 5 hộp trà, 20 kg củ sen nhé.")
    expect(thread.locator(".inquiry-message-buyer").last).to_contain_text(buyer)
    context.close()
