"""Sending the inquiry list once (/yeu-cau-bao-gia/gui) and the buyer's private link.

Decisions these tests pin down: one inquiry per cooperative, sharing a group key; the products'
names (in the buyer's language) and units are snapshotted; the list is emptied in the same
transaction; the buyer gets one email in their language with every private link and the
confirmation page shows the same links; owners are told the buyer's name and what they ask
for, never the buyer's phone, email, organisation or message. The delivery place is free
text (buyers come from anywhere), with the province's communes offered as suggestions.
"""

import os
import re
import unicodedata
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.inquiries import services, spam
from shop.inquiries.models import (
    Inquiry,
    InquiryItem,
    InquiryListItem,
    InquiryMessage,
    InquiryStatus,
    MessageAuthor,
)
from shop.notify import messages
from shop.notify.models import Notification, OutboxEmail
from tests.factories import (
    create_booth,
    create_cooperative,
    create_product,
    create_programme,
    create_user,
)
from tests.helpers import csrf_token, page_text, sign_in

LIST = "/yeu-cau-bao-gia"
SEND = f"{LIST}/gui"
SENT = f"{LIST}/da-gui"

VALID = {
    "name": "Nguyễn Thị Lan",
    "phone": "0912 345 678",
    "email": "lan.nguyen@example.com",
    "organisation": "Cửa hàng Lan Chi",
    "buyer_type": "shop",
    "delivery_place": "Phường Kinh Bắc, Bắc Ninh",
    "preferred_contact": "zalo",
    "message": "Cần giao trước Tết, đóng thùng 10 kg.",
}


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    "typed, digits",
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84 912 345 678", "0912345678"),
        ("(0222) 3812 345", "02223812345"),
        ("0386-123-456", "0386123456"),
        ("0123456789", None),  # 01x is not a mobile prefix any more
        ("091234567", None),  # nine digits
        ("09123456789", None),  # eleven digits that are not a landline
        ("+1 415 555 0100", None),
        ("0912 34a 678", None),
        ("", None),
    ],
)
def test_vietnamese_phone_numbers_are_read_and_normalised(typed, digits):
    assert services.normalize_buyer_phone(typed) == digits


def test_stored_numbers_are_shown_the_usual_way():
    assert services.format_buyer_phone("0912345678") == "0912 345 678"
    assert services.format_buyer_phone("02223812345") == "0222 3812 345"


def test_the_rules_refuse_an_empty_list(demo_db):
    with demo_db.test_request_context(), pytest.raises(services.SendError) as refused:
        services.check_groups([])
    assert refused.value.status == 422
    assert "đang trống" in str(refused.value)


def test_group_keys_are_random_and_fit_the_column():
    keys = {services.new_group_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


# --------------------------------------------------------------------------- fixtures


def make_goods() -> dict:
    """Greens and spinach from one cooperative, honey (met at booth 7) from another."""
    coop_a = create_cooperative(name="HTX Rau Gửi Thử", name_en="Greens Test Cooperative")
    coop_b = create_cooperative(name="HTX Mật Ong Gửi Thử")
    owner_a = create_user(cooperative=coop_a, email="chu-a@htx-rau.example")
    owner_b = create_user(cooperative=coop_b, email="chu-b@htx-mat-ong.example")
    greens = create_product(
        coop_a, name_vi="Cải ngồng gửi thử", name_en="Test mustard greens", unit_code="kg"
    )
    spinach = create_product(coop_a, name_vi="Rau muống gửi thử", unit_code="kg")
    honey = create_product(coop_b, name_vi="Mật ong gửi thử", unit_code="jar")
    programme = create_programme()
    booth = create_booth(programme, 7, coop_b, [honey])
    db.session.commit()
    return {
        "coop_a": coop_a,
        "coop_b": coop_b,
        "owner_a": owner_a,
        "owner_b": owner_b,
        "greens": greens,
        "spinach": spinach,
        "honey": honey,
        "booth": booth,
    }


@pytest.fixture
def goods(client, fresh_throttle):
    return make_goods()


def add(client, product, quantity="1", **extra):
    data = {"product": str(product.id), "quantity": quantity, **extra}
    response = client.post(f"{LIST}/them", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, page_text(response)
    return response


def fill(client, goods):
    """20 kg greens, 5 kg spinach, 3 jars of honey from booth 7."""
    add(client, goods["greens"], "20")
    add(client, goods["spinach"], "5")
    add(client, goods["honey"], "3", booth=str(goods["booth"].id))


def send(client, lang=None, **changes):
    data = {**VALID, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    url = SEND if lang is None else f"{SEND}?lang={lang}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def inquiry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Inquiry))


def sent_inquiries(goods) -> list[Inquiry]:
    ids = (goods["coop_a"].id, goods["coop_b"].id)
    return list(
        db.session.scalars(
            select(Inquiry).where(Inquiry.cooperative_id.in_(ids)).order_by(Inquiry.id)
        )
    )


def items_of(inquiry) -> list[tuple]:
    rows = db.session.scalars(
        select(InquiryItem).where(InquiryItem.inquiry_id == inquiry.id).order_by(InquiryItem.id)
    )
    return [(row.product_id, row.product_name, row.unit_code, row.quantity) for row in rows]


def emails(kind=None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s]+/yeu-cau/[A-Za-z0-9_.\-]+", text)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


# --------------------------------------------------------------------------- the form


def test_the_form_lists_what_will_be_sent_per_cooperative(client, goods):
    fill(client, goods)
    response = client.get(SEND)
    assert response.status_code == 200
    text = page_text(response)
    assert "Gửi yêu cầu báo giá" in text
    assert "HTX Rau Gửi Thử" in text and "HTX Mật Ong Gửi Thử" in text
    assert "Cải ngồng gửi thử: 20 kg" in text
    assert "2 hợp tác xã" in text
    for label in (
        "Họ và tên",
        "Số điện thoại",
        "Email",
        "Nơi nhận hàng",
        "Lời nhắn cho hợp tác xã",
    ):
        assert label in text
    for kind in ("Hộ gia đình", "Siêu thị", "Nhà hàng, quán ăn", "Doanh nghiệp xuất khẩu"):
        assert kind in text
    html = response.get_data(as_text=True)
    assert '<option value="Phường Kinh Bắc, Tỉnh Bắc Ninh">' in html  # suggested places
    assert '<meta name="robots" content="noindex">' in html


def test_the_form_in_english(client, goods):
    fill(client, goods)
    text = page_text(client.get(f"{SEND}?lang=en"))
    assert "Send your request for quotes" in text
    assert "Test mustard greens: 20 kg" in text
    assert "Full name" in text and "Supermarket" in text and "Exporter" in text


def test_an_empty_list_says_so_and_offers_the_catalogue(client, goods):
    response = client.get(SEND)
    assert response.status_code == 200
    text = page_text(response)
    assert "Danh sách yêu cầu báo giá đang trống" in text
    assert 'href="/san-pham"' in response.get_data(as_text=True)
    assert "Họ và tên" not in text


def test_a_signed_in_buyer_finds_the_form_filled_from_the_account(client, goods):
    buyer = create_user(email="mua-hang@example.com", name="Trần Văn Mua")
    db.session.commit()
    sign_in(client, buyer)
    fill(client, goods)
    html = client.get(SEND).get_data(as_text=True)
    assert 'value="Trần Văn Mua"' in html
    assert 'value="mua-hang@example.com"' in html


# --------------------------------------------------------------------------- sending


def test_one_send_makes_one_inquiry_per_cooperative_and_empties_the_list(client, goods):
    fill(client, goods)
    response = send(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(SENT)

    first, second = sent_inquiries(goods)
    assert first.group_key == second.group_key and len(first.group_key) == 32
    assert (first.cooperative_id, second.cooperative_id) == (
        goods["coop_a"].id,
        goods["coop_b"].id,
    )
    for inquiry in (first, second):
        assert inquiry.status == InquiryStatus.NEW
        assert inquiry.buyer_name == "Nguyễn Thị Lan"
        assert inquiry.buyer_phone == "0912345678"  # normalised
        assert inquiry.buyer_email == "lan.nguyen@example.com"
        assert inquiry.buyer_organisation == "Cửa hàng Lan Chi"
        assert inquiry.buyer_type.value == "shop"
        assert inquiry.preferred_contact.value == "zalo"
        assert inquiry.delivery_place == "Phường Kinh Bắc, Bắc Ninh"
        assert inquiry.message == "Cần giao trước Tết, đóng thùng 10 kg."
        assert inquiry.buyer_lang == "vi"
        assert inquiry.buyer_user_id is None
    assert first.booth_id is None and second.booth_id == goods["booth"].id

    items = {inquiry.cooperative_id: items_of(inquiry) for inquiry in (first, second)}
    assert items[goods["coop_a"].id] == [
        (goods["greens"].id, "Cải ngồng gửi thử", "kg", Decimal("20")),
        (goods["spinach"].id, "Rau muống gửi thử", "kg", Decimal("5")),
    ]
    assert items[goods["coop_b"].id] == [
        (goods["honey"].id, "Mật ong gửi thử", "jar", Decimal("3")),
    ]
    assert "Chưa có sản phẩm nào" in page_text(client.get(LIST))
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.target_type == "inquiry", AuditEntry.target_id.in_([first.id, second.id])
        )
    ).all()
    assert actions == ["inquiry.sent", "inquiry.sent"]


def test_the_confirmation_shows_each_cooperative_with_its_private_link(client, goods):
    fill(client, goods)
    send(client)
    response = client.get(SENT)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = page_text(response)
    assert "Đã gửi yêu cầu báo giá" in text
    assert "Chúng tôi cũng đã gửi các liên kết này tới lan.nguyen@example.com" in text
    assert "Mật ong gửi thử: 3 hũ" in text
    links = sorted(set(links_in(response.get_data(as_text=True))))
    assert len(links) == 2
    opened = {page_text(client.get(path_of(link))).split("Tình trạng")[0] for link in links}
    assert any("HTX Rau Gửi Thử" in each for each in opened)
    assert any("HTX Mật Ong Gửi Thử" in each for each in opened)


def test_without_an_email_the_confirmation_asks_to_keep_the_links(client, goods):
    fill(client, goods)
    assert send(client, email="", preferred_contact="phone").status_code == 302
    text = page_text(client.get(SENT))
    assert "Bạn không để lại email" in text
    assert not emails("inquiry_sent")


def test_the_confirmation_without_a_send_goes_back_to_the_list(client, goods):
    response = client.get(SENT)
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)


def test_the_buyer_is_emailed_every_link_and_each_link_works(client, goods):
    fill(client, goods)
    send(client)
    (mail,) = emails("inquiry_sent")
    assert mail.to_address == "lan.nguyen@example.com"
    assert mail.subject == "Yêu cầu báo giá của bạn đã được gửi tới 2 hợp tác xã"
    assert "Chào Nguyễn Thị Lan," in mail.body
    assert "– Cải ngồng gửi thử: 20 kg" in mail.body
    assert "---" not in mail.body  # the buyer's language only, not both
    links = links_in(mail.body)
    assert len(links) == 2
    for link, coop in zip(links, ("HTX Rau Gửi Thử", "HTX Mật Ong Gửi Thử"), strict=True):
        response = client.get(path_of(link))
        assert response.status_code == 200
        assert coop in page_text(response)


def test_a_buyer_writing_in_english_is_answered_in_english(client, goods):
    fill(client, goods)
    assert send(client, lang="en").status_code == 302
    assert {i.buyer_lang for i in sent_inquiries(goods)} == {"en"}
    first = sent_inquiries(goods)[0]
    assert items_of(first)[0][1] == "Test mustard greens"
    (mail,) = emails("inquiry_sent")
    assert mail.subject == "Your request for quotes was sent to 2 cooperatives"
    assert "Hello Nguyễn Thị Lan," in mail.body and "Chào" not in mail.body
    assert "– Test mustard greens: 20 kg" in mail.body
    text = page_text(client.get(f"{SENT}?lang=en"))
    assert "Request for quotes sent" in text and "Greens Test Cooperative" in text


def test_owners_are_told_the_buyer_s_name_and_nothing_else_about_them(client, goods):
    fill(client, goods)
    send(client, message="Gọi em số 0987 654 321 nhé")
    mails = {mail.to_address: mail for mail in emails("inquiry_received")}
    assert set(mails) == {"chu-a@htx-rau.example", "chu-b@htx-mat-ong.example"}
    mail_a = mails["chu-a@htx-rau.example"]
    assert "Nguyễn Thị Lan" in mail_a.subject
    assert "Nguyễn Thị Lan" in mail_a.body
    assert "Cải ngồng gửi thử: 20 kg" in mail_a.body
    assert "Mật ong" not in mail_a.body  # only its own part
    assert "New request for quotes from Nguyễn Thị Lan" in mail_a.subject  # bilingual
    for mail in mails.values():
        for private in ("0912", "345 678", "lan.nguyen", "Lan Chi", "0987", "Kinh Bắc", "Tết"):
            assert private not in mail.subject + mail.body, private
        assert "/quan-ly-htx" in mail.body
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "inquiry_received")
    ).all()
    assert {n.cooperative_id for n in notices} == {goods["coop_a"].id, goods["coop_b"].id}
    for notice in notices:
        assert set(notice.params) == {"inquiry_id", "buyer", "count"}
    notice_a = next(n for n in notices if n.cooperative_id == goods["coop_a"].id)
    with client.application.test_request_context():
        assert messages.render(notice_a) == (
            f"Yêu cầu báo giá mới #{notice_a.params['inquiry_id']} từ Nguyễn Thị Lan: 2 sản phẩm."
        )
    with client.application.test_request_context("/?lang=en"):
        assert "New request for quotes" in messages.render(notice_a)


def test_a_cooperative_without_owners_is_emailed_at_its_own_address(client, goods):
    lonely = create_cooperative(name="HTX Không Chủ", email="htx-khong-chu@example.com")
    product = create_product(lonely, name_vi="Gạo nếp cái hoa vàng thử")
    db.session.commit()
    add(client, product, "10")
    send(client)
    assert [m.to_address for m in emails("inquiry_received")] == ["htx-khong-chu@example.com"]


def test_a_signed_in_buyer_s_inquiries_carry_the_account_and_empty_the_saved_list(client, goods):
    buyer = create_user(email="mua-hang-2@example.com")
    db.session.commit()
    sign_in(client, buyer)
    fill(client, goods)
    assert send(client).status_code == 302
    assert {i.buyer_user_id for i in sent_inquiries(goods)} == {buyer.id}
    left = db.session.scalar(
        select(func.count()).select_from(InquiryListItem).where(InquiryListItem.user_id == buyer.id)
    )
    assert left == 0


def test_input_is_stored_in_nfc(client, goods):
    fill(client, goods)
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Lan")  # as some keyboards send it
    assert decomposed != "Nguyễn Thị Lan"
    send(client, name=decomposed, message=unicodedata.normalize("NFD", "Giao hàng ở Tiên Du"))
    first = sent_inquiries(goods)[0]
    assert first.buyer_name == "Nguyễn Thị Lan"
    assert first.message == "Giao hàng ở Tiên Du"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": ""}, "name", "Hãy nhập họ tên của bạn."),
        ({"name": "A" * 121}, "name", "Dài quá: tối đa 120 ký tự (bạn đã nhập 121)."),
        ({"phone": "0123 456"}, "phone", "Số điện thoại không đúng."),
        ({"phone": "+1 415 555 0100"}, "phone", "Số điện thoại không đúng."),
        ({"email": "lan@"}, "email", "Địa chỉ email không hợp lệ."),
        ({"email": "lan nguyen@example.com"}, "email", "Địa chỉ email không hợp lệ."),
        (
            {"email": "", "preferred_contact": "email"},
            "email",
            "Bạn chọn liên hệ qua email: hãy nhập địa chỉ email.",
        ),
        (
            {"phone": "", "preferred_contact": "phone"},
            "phone",
            "Bạn chọn liên hệ qua điện thoại hoặc Zalo: hãy nhập số điện thoại.",
        ),
        (
            {"phone": "", "preferred_contact": "zalo"},
            "phone",
            "Bạn chọn liên hệ qua điện thoại hoặc Zalo: hãy nhập số điện thoại.",
        ),
        (
            {"phone": "", "email": "", "preferred_contact": None},
            "phone",
            "Hãy để lại số điện thoại hoặc email",
        ),
        (
            {"phone": "0222 3812 345", "preferred_contact": "zalo"},
            "phone",
            "Zalo cần số di động",
        ),
        ({"preferred_contact": "fax"}, "preferred_contact", "Lựa chọn không hợp lệ"),
        ({"buyer_type": ""}, "buyer_type", "Hãy chọn bạn mua hàng với tư cách nào."),
        ({"buyer_type": "alien"}, "buyer_type", "Lựa chọn không hợp lệ"),
        ({"name": "Lan\x00"}, "name", "Có ký tự điều khiển không hợp lệ"),
        ({"message": "x" * 2001}, "message", "Dài quá: tối đa 2000 ký tự (bạn đã nhập 2001)."),
        (
            {"message": "Xem http://a.vn http://b.vn www.c.vn d.com/x"},
            "message",
            "tối đa 3 liên kết",
        ),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written(
    client, goods, changes, field, message
):
    fill(client, goods)
    before = inquiry_count()
    response = send(client, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    assert error, f"no error next to {field}"
    assert message in re.sub(r"<[^>]+>", "", error.group(1))
    assert "Chưa lưu được" in page_text(response)
    assert inquiry_count() == before
    assert not emails()
    assert "Cải ngồng gửi thử" in page_text(client.get(LIST))  # the list is untouched


def test_bad_input_in_english(client, goods):
    fill(client, goods)
    response = send(client, lang="en", phone="12345", email="", preferred_contact="phone")
    assert response.status_code == 422
    assert "The phone number is not right" in page_text(response)


def test_sending_an_empty_list_is_refused(client, goods):
    before = inquiry_count()
    response = send(client)
    assert response.status_code == 422
    assert "Danh sách yêu cầu báo giá đang trống" in page_text(response)
    assert inquiry_count() == before
    assert not emails()


@pytest.mark.parametrize(
    "quantity, reason",
    [
        (Decimal("0"), "Số lượng phải lớn hơn 0."),
        (Decimal("-3"), "Số lượng phải lớn hơn 0."),
        (Decimal("5000000"), "Số lượng tối đa là 1.000.000."),
    ],
)
def test_a_saved_line_with_an_impossible_quantity_is_refused(client, goods, quantity, reason):
    buyer = create_user()
    db.session.add(
        InquiryListItem(user_id=buyer.id, product_id=goods["greens"].id, quantity=quantity)
    )
    db.session.commit()
    sign_in(client, buyer)
    before = inquiry_count()
    response = send(client)
    assert response.status_code == 422
    text = page_text(response)
    assert f"Số lượng của “Cải ngồng gửi thử” không hợp lệ: {reason}" in text
    assert inquiry_count() == before
    assert not emails()


def test_html_in_the_message_is_kept_as_typed_and_shown_literally(client, goods):
    fill(client, goods)
    typed = '<script>alert("x")</script><b>Giá sỉ?</b>'
    send(client, message=typed, name="<i>Lan</i>")
    first = sent_inquiries(goods)[0]
    assert first.message == typed and first.buyer_name == "<i>Lan</i>"
    (mail,) = emails("inquiry_sent")
    html = client.get(path_of(links_in(mail.body)[0])).get_data(as_text=True)
    assert "<script>alert" not in html and "<b>Giá sỉ?</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Giá sỉ?&lt;/b&gt;" in html


# --------------------------------------------------------------------------- the private link


def sent_links(client, goods, **changes) -> list[str]:
    fill(client, goods)
    assert send(client, **changes).status_code == 302
    inquiries = sent_inquiries(goods)
    with client.application.test_request_context():
        return [path_of(services.buyer_link(inquiry)) for inquiry in inquiries]


def test_the_private_page_shows_the_inquiry_the_thread_and_the_status(client, goods):
    link_a, _link_b = sent_links(client, goods)
    inquiry = sent_inquiries(goods)[0]
    db.session.add_all(
        [
            InquiryMessage(
                inquiry_id=inquiry.id,
                author=MessageAuthor.COOPERATIVE,
                body="Cải ngồng 25.000 đ/kg, giao thứ Bảy.",
            ),
            InquiryMessage(
                inquiry_id=inquiry.id,
                author=MessageAuthor.COOPERATIVE,
                body="Ghi chú nội bộ: khách quen, giảm 5%.",
                internal=True,
            ),
        ]
    )
    db.session.get(Inquiry, inquiry.id).status = InquiryStatus.REPLIED
    db.session.commit()
    response = client.get(link_a)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in html
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert "HTX Rau Gửi Thử" in title and "Lan" not in title
    text = page_text(response)
    assert "Hợp tác xã đã trả lời" in text
    assert "Cải ngồng gửi thử 20 kg" in text and "Rau muống gửi thử 5 kg" in text
    assert "Mật ong" not in text  # the other cooperative's part
    assert "Cần giao trước Tết, đóng thùng 10 kg." in text
    assert "Cải ngồng 25.000 đ/kg, giao thứ Bảy." in text
    assert "khách quen" not in text
    assert "Câu trả lời của bạn" in text  # the reply form


@pytest.mark.parametrize(
    "status, words",
    [
        (InquiryStatus.NEW, "Đã gửi, đang chờ hợp tác xã trả lời"),
        (InquiryStatus.WON, "Đã thỏa thuận mua bán"),
        (InquiryStatus.LOST, "Đã kết thúc, không thành giao dịch"),
    ],
)
def test_each_status_in_plain_words(client, goods, status, words):
    link_a, _ = sent_links(client, goods)
    db.session.get(Inquiry, sent_inquiries(goods)[0].id).status = status
    db.session.commit()
    assert words in page_text(client.get(link_a))


def test_the_private_page_in_english(client, goods):
    link_a, _ = sent_links(client, goods)
    text = page_text(client.get(f"{link_a}?lang=en"))
    assert "Greens Test Cooperative" in text
    assert "Sent, waiting for the cooperative" in text
    assert "Your answer" in text


def test_the_buyer_answers_through_the_link(client, goods):
    link_a, _ = sent_links(client, goods)
    inquiry = sent_inquiries(goods)[0]
    before = len(emails("inquiry_buyer_replied"))
    response = client.post(
        f"{link_a}/tra-loi",
        data={"body": "Cho em lấy 30 kg nhé.", "csrf_token": csrf_token(client, link_a)},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(link_a)
    reply = db.session.scalar(select(InquiryMessage).where(InquiryMessage.inquiry_id == inquiry.id))
    assert (reply.author, reply.body, reply.internal) == (
        MessageAuthor.BUYER,
        "Cho em lấy 30 kg nhé.",
        False,
    )
    page = client.get(link_a)
    assert "Đã gửi câu trả lời của bạn tới HTX Rau Gửi Thử." in page_text(page)
    assert "Cho em lấy 30 kg nhé." in page_text(page)
    mails = emails("inquiry_buyer_replied")[before:]
    assert [m.to_address for m in mails] == ["chu-a@htx-rau.example"]
    assert "30 kg" not in mails[0].body and "0912" not in mails[0].body
    notice = db.session.scalar(
        select(Notification).where(Notification.kind == "inquiry_buyer_replied")
    )
    assert notice.cooperative_id == goods["coop_a"].id


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Hãy viết câu trả lời."),
        ("   ", "Hãy viết câu trả lời."),
        ("y" * 2001, "Dài quá: tối đa 2000 ký tự"),
        ("a.vn/1 b.vn/2 c.vn/3 d.vn/4", "tối đa 3 liên kết"),
    ],
)
def test_a_bad_answer_is_refused_and_nothing_is_written(client, goods, body, message):
    link_a, _ = sent_links(client, goods)
    response = client.post(
        f"{link_a}/tra-loi", data={"body": body, "csrf_token": csrf_token(client, link_a)}
    )
    assert response.status_code == 422
    assert message in page_text(response)
    assert db.session.scalar(select(func.count()).select_from(InquiryMessage)) == 0


def test_the_thread_page_runs_the_same_statements_for_1_or_30_messages(
    client, goods, count_queries
):
    link_a, _ = sent_links(client, goods)
    inquiry = sent_inquiries(goods)[0]

    def grow(n):
        for i in range(n):
            db.session.add(
                InquiryMessage(
                    inquiry_id=inquiry.id,
                    author=MessageAuthor.COOPERATIVE if i % 2 else MessageAuthor.BUYER,
                    body=f"Tin nhắn {i}",
                    internal=i % 5 == 0,
                )
            )
        db.session.commit()

    def measure():
        with count_queries() as counter:
            assert client.get(link_a).status_code == 200
        return counter.count

    grow(1)
    small = measure()
    grow(29)
    assert measure() == small
    assert small <= 8


def test_spam_limits_are_the_documented_ones():
    assert (spam.MAX_ITEMS, spam.MESSAGE_MAX, spam.MAX_LINKS, spam.NAME_MAX) == (50, 2000, 3, 120)


# --------------------------------------------------------------------------- in a browser

#: Two products of one demo cooperative and one of another (slug, name, unit).
RICE = ("gao-tam-xoan-dong-chiem", "Gạo Tám xoan Đồng Chiêm")
STICKY = ("nep-cai-hoa-vang-dong-chiem-tui-2-kg", "Nếp cái hoa vàng Đồng Chiêm túi 2 kg")
NOODLES = ("bun-soi-nho-nem-tien", "Bún sợi nhỏ Ném Tiền")


@pytest.mark.browser
def test_a_buyer_on_a_phone_sends_three_products_to_two_cooperatives_once(phone):
    from playwright.sync_api import expect

    page = phone
    for slug, name in (RICE, STICKY, NOODLES):
        page.goto(f"/san-pham/{slug}")
        page.get_by_label("Số lượng").fill("12")
        page.get_by_role("button", name="Thêm vào yêu cầu báo giá").click()
        expect(page.get_by_role("status")).to_contain_text(f"“{name}”")

    page.goto("/yeu-cau-bao-gia")
    page.get_by_role("link", name="Gửi yêu cầu báo giá").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gửi yêu cầu báo giá")
    summary = page.locator(".inquiry-send-summary")
    for _slug, name in (RICE, STICKY, NOODLES):
        expect(summary).to_contain_text(name)
    page.get_by_label("Họ và tên").fill("Phạm Thu Hà")
    page.get_by_label("Cửa hàng", exact=True).check()
    page.get_by_label("Nhắn Zalo").check()
    page.get_by_label("Số điện thoại").fill("+84 98 765 4321")
    page.get_by_role("textbox", name=re.compile("^Email")).fill("thu.ha@example.com")
    page.get_by_label("Nơi nhận hàng").fill("Phường Từ Sơn, Bắc Ninh")
    page.get_by_label("Lời nhắn cho hợp tác xã").fill("Cần hàng trước rằm tháng Giêng.")
    # The page fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "inquiry-send-form")
    page.get_by_role("button", name="Gửi yêu cầu báo giá").click()

    expect(page).to_have_url(re.compile(r"/yeu-cau-bao-gia/da-gui$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi yêu cầu báo giá")
    expect(page.get_by_role("status")).to_contain_text("Yêu cầu của bạn đã tới 2 hợp tác xã")
    links = page.get_by_role("link", name=re.compile("^Mở liên kết riêng"))
    expect(links).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "inquiry-sent")
    links.first.click()

    expect(page).to_have_url(re.compile(r"/yeu-cau/[A-Za-z0-9_.\-]+$"))
    main = page.locator("main")
    expect(main).to_contain_text("Đã gửi, đang chờ hợp tác xã trả lời")
    expect(main).to_contain_text("Cần hàng trước rằm tháng Giêng.")
    expect(page.get_by_role("row", name=re.compile(RICE[1]))).to_contain_text("12 kg")
    expect(main).not_to_contain_text(NOODLES[1])  # only this cooperative's part
    page.get_by_label("Câu trả lời của bạn").fill("Gạo Tám xoan có túi 10 kg không ạ?")
    page.get_by_role("button", name="Gửi câu trả lời").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gửi câu trả lời của bạn tới")
    expect(main).to_contain_text("Gạo Tám xoan có túi 10 kg không ạ?")
    shoot(page, "inquiry-thread")


def shoot(page, name: str) -> None:
    """A full-page screenshot in $SHOP_SHOTS, when set (for reviewing the layout)."""
    folder = os.environ.get("SHOP_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}-phone.png", full_page=True)
