"""The buyer's private link opens exactly one inquiry, for a while, and tells nobody else.

By token (the inbox covers opening by id): another inquiry's token, a token naming one
inquiry with another group's key, edited or truncated tokens, tokens signed with another
secret, expired tokens (410, with how to ask again) and the token of a spam inquiry are all
refused, for reading and for replying, and nothing is written. The pages carry no buyer
contact details, send no referrer, are not cached and are not indexed.
"""

import base64
import json
import time
import zlib

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from shop.extensions import db
from shop.inquiries import tokens
from shop.inquiries.models import Inquiry, InquiryMessage, InquiryStatus
from tests.factories import create_user
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_inquiry_send import SENT, add, fill, make_goods, send, sent_inquiries


@pytest.fixture
def goods(client, fresh_throttle):
    return make_goods()


def token_for(app, value, *, secret=None, age: int = 0) -> str:
    """A token as the site makes them (or with another secret, or made `age` seconds ago)."""

    class Signer(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    secret = secret or app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt=tokens.SALT, signer=Signer).dumps(value)


def edited(token: str, at: int) -> str:
    """The token with one base64 character changed."""
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def link(token: str) -> str:
    return f"/yeu-cau/{token}"


def message_count() -> int:
    return db.session.scalar(select(func.count()).select_from(InquiryMessage))


def reply(client, token: str, body="Cho em hỏi thêm.", form_url="/tai-khoan/dang-nhap"):
    return client.post(
        f"{link(token)}/tra-loi", data={"body": body, "csrf_token": csrf_token(client, form_url)}
    )


@pytest.fixture
def sent(client, goods):
    """One list sent to two cooperatives (A and B), and a second send to A alone (C)."""
    fill(client, goods)
    assert send(client).status_code == 302
    first, second = sent_inquiries(goods)
    add(client, goods["greens"], "2")
    assert send(client, name="Người mua khác").status_code == 302
    third = sent_inquiries(goods)[-1]
    app = client.application
    return {
        "a": first,
        "b": second,
        "c": third,
        "token_a": token_for(app, [first.id, first.group_key]),
        "token_b": token_for(app, [second.id, second.group_key]),
        "token_c": token_for(app, [third.id, third.group_key]),
    }


def heading(client, token) -> str:
    response = client.get(link(token))
    assert response.status_code == 200
    return page_text(response)


def test_each_token_opens_its_own_inquiry(client, sent):
    assert sent["c"].group_key != sent["a"].group_key
    assert "Cải ngồng gửi thử 20 kg" in heading(client, sent["token_a"])
    assert "Mật ong gửi thử 3 hũ" in heading(client, sent["token_b"])
    assert "Cải ngồng gửi thử 2 kg" in heading(client, sent["token_c"])


def test_the_token_holds_nothing_but_the_inquiry_s_number_and_key(client, sent):
    payload = sent["token_a"].split(".")[0]
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload) % 4))
    if sent["token_a"].startswith("."):  # compressed by itsdangerous
        raw = zlib.decompress(raw)
    assert json.loads(raw) == [sent["a"].id, sent["a"].group_key]
    assert "Lan" not in sent["token_a"]


@pytest.mark.parametrize(
    "make",
    [
        # Signed by the site, but the key is another group's: one inquiry never opens another.
        lambda app, s: token_for(app, [s["c"].id, s["a"].group_key]),
        lambda app, s: token_for(app, [s["a"].id, s["c"].group_key]),
        lambda app, s: token_for(app, [s["a"].id, "0" * 32]),
        lambda app, s: token_for(app, [999999, s["a"].group_key]),
        lambda app, s: token_for(app, [-1, s["a"].group_key]),
        lambda app, s: token_for(app, [2**40, s["a"].group_key]),
        lambda app, s: token_for(app, [str(s["a"].id), s["a"].group_key]),
        lambda app, s: token_for(app, {"id": s["a"].id, "key": s["a"].group_key}),
        lambda app, s: token_for(app, [s["a"].id]),
        # Not signed by the site.
        lambda app, s: token_for(app, [s["a"].id, s["a"].group_key], secret="another-secret"),
        lambda app, s: edited(s["token_a"], -6),  # (the last character has spare bits)
        lambda app, s: edited(s["token_a"], 3),
        lambda app, s: s["token_a"][:-4],
        lambda app, s: "x" + s["token_a"],
        lambda app, s: s["token_a"].replace(".", "-", 1),
        lambda app, s: s["token_b"].split(".")[0] + "." + s["token_a"].split(".", 1)[1],
        lambda app, s: "khong-hop-le",
        lambda app, s: str(s["a"].id),
        lambda app, s: "a" * 300,
    ],
    ids=[
        "other-inquiry-with-a-s-key",
        "a-with-other-group-s-key",
        "made-up-key",
        "unknown-id",
        "negative-id",
        "huge-id",
        "id-as-text",
        "not-a-list",
        "missing-key",
        "other-secret",
        "edited-signature",
        "edited-payload",
        "truncated",
        "prefixed",
        "edited-separator",
        "b-payload-a-signature",
        "garbage",
        "bare-id",
        "overlong",
    ],
)
def test_a_token_that_is_not_exactly_right_opens_nothing(client, sent, make):
    token = make(client.application, sent)
    response = client.get(link(token))
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    text = page_text(response)
    for private in ("Cải ngồng gửi thử", "Mật ong gửi thử", "Nguyễn Thị Lan"):
        assert private not in text
    before = message_count()
    assert reply(client, token).status_code == 404
    assert message_count() == before


def test_an_expired_link_says_so_and_how_to_ask_again(client, sent):
    old = token_for(
        client.application, [sent["a"].id, sent["a"].group_key], age=tokens.TOKEN_MAX_AGE + 60
    )
    response = client.get(link(old))
    assert response.status_code == 410
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = page_text(response)
    assert "Liên kết đã hết hạn" in text
    assert "dùng được 180 ngày" in text
    assert "Để hỏi lại, hãy thêm sản phẩm vào danh sách yêu cầu báo giá" in text
    assert "Cải ngồng gửi thử" not in text
    html = response.get_data(as_text=True)
    assert 'href="/yeu-cau-bao-gia"' in html and 'href="/san-pham"' in html
    assert '<meta name="robots" content="noindex">' in html
    before = message_count()
    assert reply(client, old).status_code == 410
    assert message_count() == before
    english = page_text(client.get(f"{link(old)}?lang=en"))
    assert "This link has expired" in english


def test_a_link_just_inside_its_age_still_opens(client, sent):
    recent = token_for(
        client.application, [sent["a"].id, sent["a"].group_key], age=tokens.TOKEN_MAX_AGE - 60
    )
    assert client.get(link(recent)).status_code == 200


def test_read_token_honours_max_age(demo_db, sent):
    old = token_for(demo_db, [1, "k" * 32], age=120)
    with demo_db.app_context():
        assert tokens.read_token(old, max_age=3600) == (1, "k" * 32)
        with pytest.raises(tokens.InvalidToken) as refused:
            tokens.read_token(old, max_age=60)
    assert refused.value.expired


def test_the_link_of_a_spam_inquiry_opens_nothing(client, sent):
    db.session.get(Inquiry, sent["a"].id).status = InquiryStatus.SPAM
    db.session.commit()
    assert client.get(link(sent["token_a"])).status_code == 404
    before = message_count()
    assert reply(client, sent["token_a"]).status_code == 404
    assert message_count() == before
    assert client.get(link(sent["token_b"])).status_code == 200  # its sibling is not spam


def test_a_member_of_another_cooperative_cannot_guess_an_inquiry(client, sent, goods):
    member_b = create_user(cooperative=goods["coop_b"])
    db.session.commit()
    other = client.application.test_client()
    sign_in(other, member_b)
    for token in (str(sent["a"].id), f"{sent['a'].id}.{sent['a'].group_key}", "1"):
        assert other.get(link(token)).status_code == 404
    forged = token_for(client.application, [sent["a"].id, sent["b"].group_key], secret="guess")
    assert other.get(link(forged)).status_code == 404


def test_the_private_page_shows_no_buyer_contact_details(client, sent):
    response = client.get(link(sent["token_a"]))
    html = response.get_data(as_text=True)
    for private in (
        "0912345678",
        "0912 345 678",
        "lan.nguyen@example.com",
        "Cửa hàng Lan Chi",
        "Phường Kinh Bắc, Bắc Ninh",
    ):
        assert private not in html, private
    assert "Nguyễn Thị Lan" not in html.split("<main")[0]  # not in the title or head


def test_the_confirmation_belongs_to_the_browser_that_sent(client, sent):
    assert client.get(SENT).status_code == 200
    stranger = client.application.test_client()
    response = stranger.get(SENT)
    assert response.status_code == 302
    assert "/yeu-cau/" not in response.get_data(as_text=True)


def test_the_send_form_is_private_too(client, goods):
    fill(client, goods)
    response = client.get("/yeu-cau-bao-gia/gui")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_another_browser_with_the_link_reads_and_answers(client, sent):
    """The link is the key: no account needed, and the answer goes into that inquiry only."""
    phone = client.application.test_client()
    token = sent["token_b"]
    assert "Mật ong gửi thử" in page_text(phone.get(link(token)))
    response = reply(phone, token, "Hũ 500 ml hay 1 lít ạ?", form_url=link(token))
    assert response.status_code == 302
    bodies = db.session.scalars(
        select(InquiryMessage.body).where(InquiryMessage.inquiry_id == sent["b"].id)
    ).all()
    assert bodies == ["Hũ 500 ml hay 1 lít ạ?"]
    assert message_count() == 1
