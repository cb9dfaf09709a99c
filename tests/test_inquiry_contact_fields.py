"""Every contact field of the send form, as the buyer types it and as the cooperative reads it.

Issue 8 names each buyer type (household, shop, supermarket, restaurant, wholesaler, exporter,
other) and each preferred contact (phone, Zalo, email): each one is offered on the form, stored,
and shown on the cooperative's inquiry page in Vietnamese and English, with the buyer's preferred
way as the primary button. The organisation and the delivery place have length limits like the
name. Whatever the buyer typed is shown literally on every page that shows it (the cooperative's
inbox and inquiry page, the staff's support list and page, the confirmation and the private page).
"""

import re

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.extensions import db
from shop.inquiries.models import BuyerType, ContactChannel, Inquiry
from shop.notify.models import OutboxEmail
from tests.factories import create_user
from tests.helpers import page_text, sign_in
from tests.test_inquiry_send import LIST, SEND, SENT, fill, make_goods, send, sent_inquiries

INBOX = "/quan-ly-htx/yeu-cau"
SUPPORT = "/quan-tri/yeu-cau"


@pytest.fixture
def goods(client, fresh_throttle):
    return make_goods()


def signed_in(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def inquiry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Inquiry))


# --------------------------------------------------------------------------- buyer types


@pytest.mark.parametrize(
    "kind, vi, en",
    [
        ("household", "Hộ gia đình", "Household"),
        ("shop", "Cửa hàng", "Shop"),
        ("supermarket", "Siêu thị", "Supermarket"),
        ("restaurant", "Nhà hàng, quán ăn", "Restaurant or eatery"),
        ("wholesaler", "Đại lý, bán buôn", "Wholesaler or agent"),
        ("exporter", "Doanh nghiệp xuất khẩu", "Exporter"),
        ("other", "Khác", "Other"),
    ],
)
def test_each_buyer_type_is_offered_stored_and_shown_to_the_cooperative(
    client, goods, demo_db, kind, vi, en
):
    fill(client, goods)
    form = client.get(SEND).get_data(as_text=True)
    radio = re.search(rf'<input type="radio" id="([^"]+)" name="buyer_type" value="{kind}"', form)
    assert radio, f"no {kind} choice on the form"
    label = re.search(rf'<label for="{radio.group(1)}">([^<]*)</label>', form)
    assert label and label.group(1) == vi

    assert send(client, buyer_type=kind).status_code == 302
    first, second = sent_inquiries(goods)
    assert first.buyer_type == second.buyer_type == BuyerType(kind)

    owner = signed_in(demo_db, goods["owner_a"])
    assert f"Người mua là {vi}" in page_text(owner.get(f"{INBOX}/{first.id}"))
    assert vi in page_text(owner.get(INBOX))  # on the inbox row too
    assert f"Buyer type {en}" in page_text(owner.get(f"{INBOX}/{first.id}?lang=en"))


# --------------------------------------------------------------------------- preferred contact


@pytest.mark.parametrize(
    "channel, changes, vi, en, primary",
    [
        ("phone", {}, "Gọi điện thoại", "Phone call", r'button-primary" href="tel:0912345678"'),
        (
            "zalo",
            {},
            "Nhắn Zalo",
            "Message on Zalo",
            r'button-zalo button-primary" href="https://zalo\.me/0912345678"',
        ),
        (
            "email",
            {"phone": ""},
            "Email",
            "Email",
            r'button-primary" href="mailto:lan\.nguyen@example\.com"',
        ),
    ],
)
def test_each_preferred_contact_is_stored_and_is_the_cooperative_s_first_button(
    client, goods, demo_db, channel, changes, vi, en, primary
):
    fill(client, goods)
    assert send(client, preferred_contact=channel, **changes).status_code == 302
    first, _second = sent_inquiries(goods)
    assert first.preferred_contact == ContactChannel(channel)

    owner = signed_in(demo_db, goods["owner_a"])
    response = owner.get(f"{INBOX}/{first.id}")
    html = response.get_data(as_text=True)
    assert f"Muốn được liên hệ qua {vi}" in page_text(response)
    # The buyer's way is the one primary button of the contact row; the others are plain.
    row = re.search(r'<p class="hero-actions inquiry-call">(.*?)</p>', html, re.S).group(1)
    assert re.search(primary, row), row
    assert row.count("button-primary") == 1
    if channel == "email":
        assert "tel:" not in row and "zalo.me" not in row  # no phone was given
    english = page_text(owner.get(f"{INBOX}/{first.id}?lang=en"))
    assert f"Prefers to be contacted by {en}" in english


def test_a_landline_gets_a_call_button_and_no_zalo(client, goods, demo_db):
    fill(client, goods)
    assert send(client, phone="(0222) 3812 345", preferred_contact="phone").status_code == 302
    first, _second = sent_inquiries(goods)
    assert first.buyer_phone == "02223812345"
    html = signed_in(demo_db, goods["owner_a"]).get(f"{INBOX}/{first.id}").get_data(as_text=True)
    row = re.search(r'<p class="hero-actions inquiry-call">(.*?)</p>', html, re.S).group(1)
    assert 'href="tel:02223812345"' in row and "Gọi 0222 3812 345" in row
    assert "zalo.me" not in row


# --------------------------------------------------------------------------- lengths


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("organisation", "Đ" * 201, "Dài quá: tối đa 200 ký tự (bạn đã nhập 201)."),
        ("delivery_place", "Đ" * 201, "Dài quá: tối đa 200 ký tự (bạn đã nhập 201)."),
    ],
)
def test_organisation_and_delivery_place_have_a_length_limit(client, goods, field, value, message):
    fill(client, goods)
    before = inquiry_count()
    response = send(client, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in re.sub(r"<[^>]+>", "", error.group(1))
    assert inquiry_count() == before
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert "Cải ngồng gửi thử" in page_text(client.get(LIST))


def test_200_characters_are_taken(client, goods):
    fill(client, goods)
    response = send(client, organisation="Đ" * 200, delivery_place="Ư" * 200)
    assert response.status_code == 302
    first, _second = sent_inquiries(goods)
    assert first.buyer_organisation == "Đ" * 200 and first.delivery_place == "Ư" * 200


def test_optional_fields_may_be_left_empty(client, goods, demo_db):
    fill(client, goods)
    response = send(client, organisation="", delivery_place="", message="", email="")
    assert response.status_code == 302
    first, _second = sent_inquiries(goods)
    assert (first.buyer_organisation, first.delivery_place, first.message, first.buyer_email) == (
        None,
        None,
        "",
        None,
    )
    text = page_text(signed_in(demo_db, goods["owner_a"]).get(f"{INBOX}/{first.id}"))
    assert "Email (không để lại)" in text
    assert "(Không có lời nhắn)" in text


# --------------------------------------------------------------------------- shown literally

TYPED = {
    "name": "<i>Lan</i>",
    "organisation": "<b>Cửa hàng</b>",
    "delivery_place": '<img src="x" onerror="alert(1)">',
    "message": '<script>alert("x")</script> <a href="https://lua.example">giá sỉ</a>',
}
RAW = (
    "<i>Lan</i>",
    "<b>Cửa hàng</b>",
    '<img src="x" onerror="alert(1)">',
    '<script>alert("x")</script>',
    '<a href="https://lua.example">',
)


def test_what_the_buyer_typed_is_shown_literally_on_every_page(client, goods, demo_db):
    fill(client, goods)
    assert send(client, **TYPED).status_code == 302
    first, _second = sent_inquiries(goods)
    assert (first.buyer_name, first.buyer_organisation) == (TYPED["name"], TYPED["organisation"])
    assert (first.delivery_place, first.message) == (TYPED["delivery_place"], TYPED["message"])

    owner = signed_in(demo_db, goods["owner_a"])
    staff = signed_in(demo_db, create_user(Role.STAFF))
    db.session.commit()
    confirmation = client.get(SENT)
    private = re.search(r"/yeu-cau/[A-Za-z0-9_.\-]+", confirmation.get_data(as_text=True))
    pages = {
        "confirmation": confirmation,
        "private page": client.get(private.group(0)),
        "inbox": owner.get(INBOX),
        "inbox inquiry": owner.get(f"{INBOX}/{first.id}"),
        "support": staff.get(SUPPORT),
        "support inquiry": staff.get(f"{SUPPORT}/{first.id}"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in html, (name, raw)
    for name in ("inbox", "support"):
        assert "&lt;i&gt;Lan&lt;/i&gt;" in pages[name].get_data(as_text=True), name
    for name in ("inbox inquiry", "support inquiry"):
        html = pages[name].get_data(as_text=True)
        assert "&lt;b&gt;Cửa hàng&lt;/b&gt;" in html, name
        assert "&lt;img src=&#34;x&#34; onerror=&#34;alert(1)&#34;&gt;" in html, name
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, name
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages["private page"].get_data(
        as_text=True
    )
