"""Keeping spam away from cooperatives: the honeypot, rate limits, and limits on size.

Decisions these tests pin down (shop/inquiries/spam.py): a filled honeypot is answered like a
success (same redirect, same confirmation, the list emptied) but its inquiries are stored
with status spam and nobody is emailed or notified; sends are limited per address (5 an
hour) and per email address (10 a day), counted only once a send passed validation; past a
limit the answer is 429 with a page saying when to try again, and nothing is written.
"""

import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from limits.storage import storage_from_string
from sqlalchemy import func, select

from shop.extensions import db
from shop.inquiries import spam
from shop.inquiries.models import Inquiry, InquiryListItem, InquiryMessage, InquiryStatus
from shop.notify.models import Notification, OutboxEmail
from tests.factories import create_product, create_user
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_inquiry_send import LIST, SEND, SENT, VALID, fill, make_goods, sent_inquiries

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def goods(client, fresh_throttle):
    return make_goods()


def post(client, ip="203.0.113.7", **changes):
    data = {**VALID, **changes, "csrf_token": csrf_token(client)}
    return client.post(SEND, data=data, environ_base={"REMOTE_ADDR": ip})


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Inquiry)),
        db.session.scalar(select(func.count()).select_from(OutboxEmail)),
        db.session.scalar(select(func.count()).select_from(Notification)),
    )


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    "text, links",
    [
        ("", 0),
        ("Cần 20 kg, giao thứ Bảy.", 0),
        ("Giá 1.500 đ/kg, 2.5 tấn", 0),
        ("Email: lan@example.com", 0),
        ("Xem http://example.com", 1),
        ("https://a.vn và HTTPS://B.VN/x", 2),
        ("www.example.com", 1),
        ("example.com/gia-si", 1),
        ("zalo.me/0912345678 và fb.com/lan và t.me/lan", 3),
        ("ftp://x.y http://a.b www.c.d e.fg/h", 4),
    ],
)
def test_links_are_counted_in_every_usual_spelling(text, links):
    assert spam.count_links(text) == links


def test_the_honeypot_is_empty_unless_something_filled_it():
    assert not spam.honeypot_filled({})
    assert not spam.honeypot_filled({spam.HONEYPOT_FIELD: "  "})
    assert spam.honeypot_filled({spam.HONEYPOT_FIELD: "http://spam.example"})


# --------------------------------------------------------------------------- the honeypot


def test_the_honeypot_is_hidden_from_people_assistive_tech_and_the_keyboard(client, goods):
    fill(client, goods)
    html = client.get(SEND).get_data(as_text=True)
    trap = re.search(r'<div class="inquiry-trap" aria-hidden="true">(.*?)</div>', html, re.S)
    assert trap, "the honeypot's wrapper is not hidden from assistive technology"
    field = re.search(rf'<input[^>]*name="{spam.HONEYPOT_FIELD}"[^>]*>', trap.group(1)).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field and 'value=""' in field
    css = (ROOT / "static/css/site.css").read_text(encoding="utf-8")
    rule = re.search(r"\.inquiry-trap \{([^}]*)\}", css).group(1)
    assert "left: -10000px" in rule and "overflow: hidden" in rule


def test_a_filled_honeypot_looks_sent_but_is_stored_as_spam_and_tells_nobody(client, goods):
    fill(client, goods)
    _, mails, notices = counts()
    response = post(client, **{spam.HONEYPOT_FIELD: "http://cheap-pills.example"})
    assert response.status_code == 302 and response.headers["Location"].endswith(SENT)
    confirmation = client.get(SENT)
    assert confirmation.status_code == 200
    assert "Đã gửi yêu cầu báo giá" in page_text(confirmation)
    inquiries = sent_inquiries(goods)
    assert len(inquiries) == 2
    assert {inquiry.status for inquiry in inquiries} == {InquiryStatus.SPAM}
    assert counts()[1:] == (mails, notices)  # no email to anyone, no dashboard notice
    assert "Chưa có sản phẩm nào" in page_text(client.get(LIST))
    for path in re.findall(r"/yeu-cau/[A-Za-z0-9_.\-]+", confirmation.get_data(as_text=True)):
        assert client.get(path).status_code == 404  # spam has no private page


def test_an_invalid_send_with_the_honeypot_filled_shows_the_errors_and_stores_nothing(
    client, goods
):
    fill(client, goods)
    before = counts()
    response = post(client, phone="12", **{spam.HONEYPOT_FIELD: "x"})
    assert response.status_code == 422
    assert counts() == before


# --------------------------------------------------------------------------- rate limits


def test_five_sends_an_hour_from_one_address_then_429(client, goods):
    for _ in range(5):
        fill(client, goods)
        assert post(client).status_code == 302
    fill(client, goods)
    before = counts()
    response = post(client)
    assert response.status_code == 429
    assert 50 * 60 <= int(response.headers["Retry-After"]) <= 3600
    text = page_text(response)
    assert "Tạm thời chưa gửi được" in text
    assert "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn" in text
    assert "danh sách yêu cầu báo giá vẫn còn nguyên" in text
    assert counts() == before
    assert "Cải ngồng gửi thử" in page_text(client.get(LIST))  # the list is kept
    # Another address is not held back by this one.
    assert post(client, ip="198.51.100.20", email="khac@example.com").status_code == 302


def test_the_429_page_in_english(client, goods):
    for _ in range(5):
        fill(client, goods)
        post(client)
    fill(client, goods)
    data = {**VALID, "csrf_token": csrf_token(client)}
    response = client.post(
        f"{SEND}?lang=en", data=data, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert response.status_code == 429
    assert "You have sent many requests for quotes in a short time" in page_text(response)


def test_refused_sends_do_not_use_up_the_limit(client, goods):
    fill(client, goods)
    for _ in range(6):
        assert post(client, email="sai@").status_code == 422
    for _ in range(5):
        fill(client, goods)
        assert post(client).status_code == 302


def test_ten_sends_a_day_per_email_address_whatever_the_address(client, goods):
    for n in range(10):
        fill(client, goods)
        assert post(client, ip=f"192.0.2.{n + 1}").status_code == 302
    fill(client, goods)
    before = counts()
    response = post(client, ip="192.0.2.200", email="LAN.NGUYEN@example.com")
    assert response.status_code == 429
    assert "giờ" in page_text(response)  # a day's window: the wait is said in hours
    assert counts() == before
    # The address's own slot was given back: it can still send for someone else.
    assert post(client, ip="192.0.2.200", email="nguoi-khac@example.com").status_code == 302


def test_a_send_without_email_is_limited_by_address_only(client, goods):
    for _ in range(5):
        fill(client, goods)
        assert post(client, email="", preferred_contact="phone").status_code == 302
    fill(client, goods)
    assert post(client, email="", preferred_contact="phone").status_code == 429


def test_replies_through_a_link_are_limited_per_address(client, goods, monkeypatch):
    monkeypatch.setitem(client.application.config, "INQUIRY_REPLIES_PER_IP", "2 per hour")
    fill(client, goods)
    post(client)
    confirmation = client.get(SENT).get_data(as_text=True)
    path = re.findall(r"/yeu-cau/[A-Za-z0-9_.\-]+", confirmation)[0]

    def answer(text):
        data = {"body": text, "csrf_token": csrf_token(client, path)}
        return client.post(f"{path}/tra-loi", data=data)

    assert answer("Một").status_code == 302
    assert answer("Hai").status_code == 302
    before = db.session.scalar(select(func.count()).select_from(InquiryMessage))
    response = answer("Ba")
    assert response.status_code == 429
    assert "Câu trả lời của bạn chưa được gửi đi." in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(InquiryMessage)) == before


def test_the_limits_live_in_redis_when_configured(client, goods, redis_server, monkeypatch):
    """With Redis, every worker process counts together: the counters are in Redis."""
    prefix = f"test-inquiry-{uuid.uuid4().hex[:8]}"
    storage = storage_from_string(f"redis://127.0.0.1:{redis_server.port}/3", key_prefix=prefix)
    monkeypatch.setitem(client.application.extensions, "throttle_storage", storage)
    try:
        for _ in range(5):
            fill(client, goods)
            assert post(client, ip="203.0.113.99").status_code == 302
        assert storage.get("inquiry-send-ip/203.0.113.99") == 5
        fill(client, goods)
        assert post(client, ip="203.0.113.99").status_code == 429
    finally:
        storage.reset()


# --------------------------------------------------------------------------- sizes


def test_at_most_50_products_in_one_send(client, goods):
    buyer = create_user()
    products = [create_product(goods["coop_a"]) for _ in range(51)]
    db.session.add_all(
        InquiryListItem(user_id=buyer.id, product_id=product.id, quantity=Decimal(1))
        for product in products
    )
    db.session.commit()
    sign_in(client, buyer)
    before = counts()
    response = post(client)
    assert response.status_code == 422
    assert "Một yêu cầu báo giá có tối đa 50 sản phẩm; danh sách của bạn có 51." in page_text(
        response
    )
    assert counts() == before


def test_the_largest_allowed_send_goes_through(client, goods):
    fill(client, goods)
    message = ("Xem http://a.vn, www.b.vn và c.vn/d. " + "x" * 2000)[:2000]
    response = post(client, name="N" * 120, message=message)
    assert response.status_code == 302
    assert sent_inquiries(goods)[0].message == message


# --------------------------------------------------------------------------- one form, one send


def form_key(client) -> str:
    html = client.get(SEND).get_data(as_text=True)
    return re.search(r'name="once" value="([^"]+)"', html).group(1)


def test_the_same_form_sent_twice_sends_once(client, goods):
    fill(client, goods)
    key = form_key(client)
    assert post(client, once=key).status_code == 302
    first = page_text(client.get(SENT))
    before = counts()
    # The second tap arrives after the first: the same confirmation, nothing new.
    again = post(client, once=key)
    assert again.status_code == 302 and again.headers["Location"].endswith(SENT)
    assert counts() == before
    assert page_text(client.get(SENT)) == first
    # Even with products added meanwhile (another tab), that form does not send again.
    fill(client, goods)
    assert post(client, once=key).status_code == 302
    assert counts() == before
    assert "Cải ngồng gửi thử" in page_text(client.get(LIST))
    # A fresh form sends.
    assert post(client, once=form_key(client)).status_code == 302
    assert counts()[0] == before[0] + 2


def test_each_showing_of_the_form_has_its_own_key(client, goods):
    fill(client, goods)
    keys = {form_key(client) for _ in range(3)}
    assert len(keys) == 3


def test_a_form_held_back_by_the_limit_can_be_sent_later(client, goods):
    for _ in range(5):
        fill(client, goods)
        assert post(client).status_code == 302
    fill(client, goods)
    key = form_key(client)
    assert post(client, once=key).status_code == 429
    with client.application.test_request_context():
        spam.SEND_IP.clear("203.0.113.7")  # the hour has passed
    assert post(client, once=key).status_code == 302
