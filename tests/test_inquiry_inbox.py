"""The cooperative's inquiry inbox (/quan-ly-htx/yeu-cau) and the staff's support view.

Decisions these tests pin down: a member sees only its own cooperative's inquiries (another
cooperative's id is a 404 for reading and for every change, and nothing is written); the buyer's
contact details appear on the addressed cooperative's pages and on staff pages, never in
notices, owners' emails or public pages; a reply is emailed to the buyer in the buyer's language
with the private link and moves a new inquiry to "replied" once; internal notes never reach the
buyer; status changes apply to the status the member saw (the second of two members gets a 409
naming the first); spam notifies nobody, ever; text is shown literally; every page runs a number
of SQL statements that does not grow with inquiries or messages.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.cooperatives.models import MembershipRole
from shop.extensions import db
from shop.inquiries import queries, replies, support
from shop.inquiries.models import (
    BuyerType,
    ContactChannel,
    Inquiry,
    InquiryItem,
    InquiryMessage,
    InquiryStatus,
    MessageAuthor,
)
from shop.notify.models import Notification, OutboxEmail
from tests.factories import create_cooperative, create_product, create_user
from tests.helpers import csrf_token, page_text, sign_in
from tests.test_inquiry_send import fill, make_goods, send, sent_inquiries

INBOX = "/quan-ly-htx/yeu-cau"
SUPPORT = "/quan-tri/yeu-cau"
#: What the buyer typed in tests.test_inquiry_send.VALID, as it could leak.
CONTACTS = ("0912345678", "0912 345 678", "lan.nguyen@example.com", "Cửa hàng Lan Chi")


# --------------------------------------------------------------------------- helpers


def member_client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def post(client, url, data, form_url):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url)})


def reply(client, inquiry, body="Giá 25.000 ₫/kg, giao thứ Hai.", inquiry_id=None):
    target = inquiry_id or inquiry.id
    return post(client, f"{INBOX}/{target}/tra-loi", {"reply-body": body}, INBOX)


def note(client, inquiry, body="Đã gọi điện, hẹn gửi mẫu.", inquiry_id=None):
    target = inquiry_id or inquiry.id
    return post(client, f"{INBOX}/{target}/ghi-chu", {"note-body": body}, INBOX)


def set_status(client, inquiry, status, seen=None, inquiry_id=None):
    target = inquiry_id or inquiry.id
    seen = seen or db.session.get(Inquiry, inquiry.id).status.value
    return post(client, f"{INBOX}/{target}/trang-thai", {"status": status, "seen": seen}, INBOX)


def fresh(inquiry) -> Inquiry:
    db.session.expire_all()
    return db.session.get(Inquiry, inquiry.id)


def messages_of(inquiry) -> list[InquiryMessage]:
    return list(
        db.session.scalars(
            select(InquiryMessage)
            .where(InquiryMessage.inquiry_id == inquiry.id)
            .order_by(InquiryMessage.id)
        )
    )


def emails(kind=None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def counts() -> tuple:
    """Rows a refused request must not add: messages, emails, notices, audit entries."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (InquiryMessage, OutboxEmail, Notification, AuditEntry)
    )


def make_inquiry(cooperative, products, n: int = 0, **values) -> Inquiry:
    """An inquiry written directly (for volume), with one item per product."""
    created = values.pop("created_at", datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    inquiry = Inquiry(
        cooperative_id=cooperative.id,
        group_key=f"{n:032x}",
        status=values.pop("status", InquiryStatus.NEW),
        buyer_name=values.pop("buyer_name", f"Người mua số {n}"),
        buyer_phone=values.pop("buyer_phone", f"09{n:08d}"),
        buyer_email=values.pop("buyer_email", f"mua-{n}@example.com"),
        buyer_type=BuyerType.HOUSEHOLD,
        preferred_contact=ContactChannel.PHONE,
        message=values.pop("message", "Cho xin báo giá."),
        created_at=created,
        updated_at=created,
        **values,
    )
    inquiry.items = [
        InquiryItem(
            product_id=p.id, product_name=p.name_vi, unit_code=p.unit_code, quantity=Decimal(2)
        )
        for p in products
    ]
    db.session.add(inquiry)
    db.session.flush()
    return inquiry


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def goods(client, fresh_throttle):
    return make_goods()


@pytest.fixture
def sent(client, goods, demo_db):
    """The buyer's list sent once to two cooperatives; A's and B's owners signed in."""
    fill(client, goods)
    assert send(client).status_code == 302
    a, b = sent_inquiries(goods)
    return {
        **goods,
        "a": a,
        "b": b,
        "buyer": client,
        "member_a": member_client(demo_db, goods["owner_a"]),
        "member_b": member_client(demo_db, goods["owner_b"]),
    }


@pytest.fixture
def staff(demo_db):
    user = create_user(Role.STAFF, name="Cán bộ Hỗ trợ")
    db.session.commit()
    return member_client(demo_db, user)


def sent_links() -> list[str]:
    """The paths of the private links in the buyer's confirmation email."""
    return [
        re.sub(r"^https?://[^/]+", "", link)
        for mail in emails("inquiry_sent")
        for link in re.findall(r"https?://\S+/yeu-cau/\S+", mail.body)
    ]


# --------------------------------------------------------------------------- rules


def test_a_reply_or_note_must_say_something_and_not_too_much(demo_db):
    with demo_db.test_request_context():
        assert replies.body_error("Có hàng.") is None
        assert replies.body_error("x" * replies.BODY_MAX) is None
        assert replies.body_error("   \n ", "Hãy viết câu trả lời.") == "Hãy viết câu trả lời."
        assert replies.body_error("") == "Hãy viết nội dung trước khi gửi."
        assert replies.body_error("x" * 5001) == "Dài quá: tối đa 5000 ký tự (bạn đã nhập 5001)."


@pytest.mark.parametrize(
    "before, target, allowed",
    [
        ("new", "won", True),
        ("replied", "won", True),
        ("lost", "won", True),
        ("won", "lost", True),
        ("new", "spam", True),
        ("replied", "spam", True),
        ("won", "spam", False),  # a deal made is not spam
        ("spam", "won", False),  # spam stays spam: its buyer was never told anything
        ("spam", "lost", False),
        ("won", "won", False),
        ("new", "new", False),
        ("new", "replied", False),  # only a reply makes an inquiry "replied"
    ],
)
def test_which_status_may_follow_which(before, target, allowed):
    inquiry = Inquiry(status=InquiryStatus(before))
    assert replies.can_move(inquiry, InquiryStatus(target)) is allowed


def test_a_month_is_vietnam_s_month_in_utc():
    start, end = queries.month_bounds(date(2026, 11, 1))
    assert start == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    start, end = queries.month_bounds(date(2026, 12, 1))
    assert end == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, month",
    [
        ("2026-11", date(2026, 11, 1)),
        ("2027-01", date(2027, 1, 1)),
        ("2026-13", None),
        ("2026-1", None),
        ("11/2026", None),
        ("２０２６-11", None),
        ("1999-12", None),
        ("", None),
    ],
)
def test_the_month_filter_reads_only_months(raw, month):
    assert support._month(raw) == month


def test_the_month_filter_offers_two_years_back():
    months = support._months(date(2026, 11, 26))
    assert months[0] == ("2026-11", "11/2026")
    assert months[10] == ("2026-01", "01/2026")
    assert months[11] == ("2025-12", "12/2025")
    assert len(months) == 24


# --------------------------------------------------------------------------- the inbox


def test_the_inbox_lists_only_the_cooperative_s_own_inquiries(sent):
    text = page_text(sent["member_a"].get(INBOX))
    assert "Yêu cầu báo giá" in text
    assert "Nguyễn Thị Lan · Cửa hàng Lan Chi" in text
    assert "Cải ngồng gửi thử: 20 kg · Rau muống gửi thử: 5 kg" in text
    assert "Mật ong gửi thử" not in text  # B's part of the same send
    assert f"#{sent['a'].id}" in text and f"#{sent['b'].id}" not in text
    html = sent["member_a"].get(INBOX).get_data(as_text=True)
    assert 'href="tel:0912345678"' in html  # phone first: a call button on the row
    b_text = page_text(sent["member_b"].get(INBOX))
    assert "Mật ong gửi thử: 3 hũ" in b_text and "Cải ngồng" not in b_text


def test_tabs_count_each_status_and_filter(demo_db, sent):
    coop = sent["coop_a"]
    product = sent["greens"]
    for n, status in enumerate(["replied", "won", "won", "lost", "spam"], start=1):
        make_inquiry(
            coop, [product], n, status=InquiryStatus(status), buyer_name=f"Khách {status} {n}"
        )
    db.session.commit()
    client = sent["member_a"]
    text = page_text(client.get(INBOX))
    assert "Tất cả (5) Mới (1) Đã trả lời (1) Đã chốt đơn (2) Không thành (1) Thư rác (1)" in text
    assert "Khách spam" not in text  # "all" leaves spam out
    won = page_text(client.get(f"{INBOX}?trang_thai=won"))
    assert "Khách won 2" in won and "Khách won 3" in won and "Nguyễn Thị Lan" not in won
    spam = page_text(client.get(f"{INBOX}?trang_thai=spam"))
    assert "Khách spam 5" in spam and "Khách won" not in spam
    bad = client.get(f"{INBOX}?trang_thai=<b>")
    assert bad.status_code == 200
    assert "Trạng thái không hợp lệ, bộ lọc đã được bỏ qua." in page_text(bad)


def test_the_inbox_shows_30_newest_first_per_page(demo_db):
    coop = create_cooperative()
    product = create_product(coop)
    owner = create_user(cooperative=coop)
    start = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    for n in range(31):
        make_inquiry(
            coop, [product], n, created_at=start + timedelta(hours=n), buyer_name=f"Khách {n:02d}"
        )
    db.session.commit()
    client = member_client(demo_db, owner)
    titles = re.compile(r'<h2 class="card-title"><a [^>]*>(Khách \d\d)')
    names = titles.findall(client.get(INBOX).get_data(as_text=True))
    assert names == [f"Khách {n:02d}" for n in range(30, 0, -1)]
    second = client.get(f"{INBOX}?page=2").get_data(as_text=True)
    assert titles.findall(second) == ["Khách 00"]
    assert client.get(f"{INBOX}?page=3").status_code == 404


def test_an_empty_inbox_says_what_will_come(demo_db):
    coop = create_cooperative()
    owner = create_user(cooperative=coop)
    db.session.commit()
    text = page_text(member_client(demo_db, owner).get(INBOX))
    assert "Chưa có yêu cầu báo giá nào." in text
    assert "Tất cả (0) Mới (0)" in text


def test_the_inbox_in_english(sent):
    text = page_text(sent["member_a"].get(f"{INBOX}?lang=en"))
    assert "Quote request" in text
    assert "All (1) New (1) Replied (0) Deal made (0) No deal (0) Spam (0)" in text
    assert "View and reply" in text


def test_the_dashboard_counts_new_inquiries(sent, demo_db):
    client = sent["member_a"]
    text = page_text(client.get("/quan-ly-htx/"))
    assert "1 yêu cầu mới — người mua đang chờ hợp tác xã trả lời." in text
    html = client.get("/quan-ly-htx/").get_data(as_text=True)
    assert f'href="{INBOX}?trang_thai=new"' in html
    assert '<span class="nav-count" aria-hidden="true">1</span>' in html
    assert "1 new inquiry" in page_text(client.get("/quan-ly-htx/?lang=en"))
    reply(client, sent["a"])
    text = page_text(client.get("/quan-ly-htx/?lang=vi"))
    assert "Không có yêu cầu báo giá mới" in text


# --------------------------------------------------------------------------- one inquiry


def test_the_inquiry_page_shows_the_buyer_s_contacts_phone_first(sent):
    response = sent["member_a"].get(f"{INBOX}/{sent['a'].id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Nguyễn Thị Lan" in text
    assert "Gọi 0912 345 678" in text
    assert 'href="tel:0912345678"' in html
    assert 'href="https://zalo.me/0912345678"' in html
    assert 'href="mailto:lan.nguyen@example.com"' in html
    # The buyer chose Zalo: that button is the primary one.
    assert re.search(r'class="button button-zalo button-primary" href="https://zalo.me/', html)
    for fact in (
        "Cơ quan, cửa hàng hoặc doanh nghiệp Cửa hàng Lan Chi",
        "Người mua là Cửa hàng",
        "Nơi nhận hàng Phường Kinh Bắc, Bắc Ninh",
        "Muốn được liên hệ qua Nhắn Zalo",
        "Ngôn ngữ của người mua Tiếng Việt",
    ):
        assert fact in text
    assert "Cải ngồng gửi thử 20 kg" in text and "Rau muống gửi thử 5 kg" in text
    assert "Cần giao trước Tết, đóng thùng 10 kg." in text
    assert "Mật ong" not in text


def test_the_booth_the_buyer_came_from_is_named(sent):
    text = page_text(sent["member_b"].get(f"{INBOX}/{sent['b'].id}"))
    assert "Gặp ở Gian hàng số 7" in text


def test_the_inquiry_page_in_english(sent):
    text = page_text(sent["member_a"].get(f"{INBOX}/{sent['a'].id}?lang=en"))
    assert "Quote request #" in text
    assert "Call 0912 345 678" in text
    assert "Buyer type Shop" in text
    assert "Reply to the buyer" in text and "Internal note" in text
    assert "Deal made" in text and "Mark as spam" in text


# --------------------------------------------------------------------------- replying


def test_a_reply_reaches_the_buyer_by_email_and_on_the_private_page(sent):
    client, inquiry = sent["member_a"], sent["a"]
    before = emails()
    response = reply(client, inquiry, "Giá 25.000 ₫/kg.\nGiao thứ Hai hằng tuần.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{INBOX}/{inquiry.id}#trao-doi")

    stored = fresh(inquiry)
    assert stored.status == InquiryStatus.REPLIED and stored.replied_at is not None
    (message,) = messages_of(inquiry)
    assert message.author == MessageAuthor.COOPERATIVE and not message.internal
    assert message.author_user_id == sent["owner_a"].id

    (mail,) = emails()[len(before) :]
    assert mail.kind == "inquiry_replied" and mail.to_address == "lan.nguyen@example.com"
    assert mail.subject == "HTX Rau Gửi Thử đã trả lời yêu cầu báo giá của bạn"
    assert "Chào Nguyễn Thị Lan," in mail.body
    assert "Giá 25.000 ₫/kg.\nGiao thứ Hai hằng tuần." in mail.body
    assert "---" not in mail.body  # the buyer's language only
    (link,) = re.findall(r"https?://\S+/yeu-cau/\S+", mail.body)
    page = sent["buyer"].get(re.sub(r"^https?://[^/]+", "", link))
    assert page.status_code == 200
    text = page_text(page)
    assert "Giá 25.000 ₫/kg." in text and "Giao thứ Hai hằng tuần." in text
    assert "Hợp tác xã đã trả lời" in text

    shown = page_text(client.get(f"{INBOX}/{inquiry.id}"))
    assert "Đã gửi câu trả lời. Người mua nhận được qua email" in shown
    assert f"{sent['owner_a'].name} (HTX Rau Gửi Thử)" in shown

    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "inquiry.replied", AuditEntry.target_id == inquiry.id
        )
    )
    assert entry.actor_id == sent["owner_a"].id
    assert entry.before == {"status": "new"} and entry.after["status"] == "replied"


def test_a_second_reply_keeps_the_time_of_the_first(sent):
    client, inquiry = sent["member_a"], sent["a"]
    reply(client, inquiry, "Lần một.")
    first = fresh(inquiry).replied_at
    assert set_status(client, inquiry, "won").status_code == 302
    reply(client, inquiry, "Lần hai, sau khi chốt đơn.")
    stored = fresh(inquiry)
    assert stored.replied_at == first
    assert stored.status == InquiryStatus.WON  # a reply never undoes a result
    assert [m.body for m in messages_of(inquiry)] == ["Lần một.", "Lần hai, sau khi chốt đơn."]


def test_a_buyer_who_wrote_in_english_is_answered_in_english(client, goods, demo_db):
    fill(client, goods)
    assert send(client, lang="en").status_code == 302
    inquiry, _b = sent_inquiries(goods)
    owner = member_client(demo_db, goods["owner_a"])
    reply(owner, inquiry, "25,000 VND per kg.")
    (mail,) = emails("inquiry_replied")
    assert mail.subject == "Greens Test Cooperative has replied to your request for quotes"
    assert mail.body.startswith("Hello Nguyễn Thị Lan,")
    assert "25,000 VND per kg." in mail.body
    assert "Ngôn ngữ của người mua Tiếng Anh" in page_text(owner.get(f"{INBOX}/{inquiry.id}"))


def test_without_an_email_the_reply_waits_on_the_private_page(client, goods, demo_db):
    fill(client, goods)
    assert send(client, email="", preferred_contact="phone").status_code == 302
    inquiry, _b = sent_inquiries(goods)
    owner = member_client(demo_db, goods["owner_a"])
    text = page_text(owner.get(f"{INBOX}/{inquiry.id}"))
    assert "Người mua không để lại email" in text
    response = reply(owner, inquiry, "Có hàng.")
    assert response.status_code == 302
    assert not emails("inquiry_replied")
    assert fresh(inquiry).status == InquiryStatus.REPLIED
    assert "hãy gọi điện hoặc nhắn Zalo để báo cho người mua." in page_text(
        owner.get(f"{INBOX}/{inquiry.id}")
    )


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Hãy viết câu trả lời."),
        ("   \n  ", "Hãy viết câu trả lời."),
        ("x" * 5001, "Dài quá: tối đa 5000 ký tự (bạn đã nhập 5001)."),
        ("Giá\x00 rẻ", "Có ký tự điều khiển không hợp lệ; hãy gõ lại ô này."),
    ],
)
def test_a_bad_reply_is_refused_with_a_clear_message(sent, body, message):
    before = counts()
    response = reply(sent["member_a"], sent["a"], body)
    assert response.status_code == 422
    text = page_text(response)
    assert "Chưa lưu được: hãy sửa những chỗ sau" in text and message in text
    assert counts() == before
    assert fresh(sent["a"]).status == InquiryStatus.NEW


def test_a_reply_of_5000_characters_is_taken(sent):
    assert reply(sent["member_a"], sent["a"], "x" * 5000).status_code == 302


def test_html_in_a_reply_is_shown_literally_everywhere(sent, staff):
    body = '<b>Giá tốt</b> <script>alert("x")</script> <a href="https://lua.example">xem</a>'
    reply(sent["member_a"], sent["a"], body)
    link = re.findall(r"https?://\S+/yeu-cau/\S+", emails("inquiry_replied")[0].body)[0]
    pages = [
        sent["member_a"].get(f"{INBOX}/{sent['a'].id}"),
        sent["buyer"].get(re.sub(r"^https?://[^/]+", "", link)),
        staff.get(f"{SUPPORT}/{sent['a'].id}"),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "&lt;b&gt;Giá tốt&lt;/b&gt;" in html
        assert '<script>alert("x")</script>' not in html and "<b>Giá tốt</b>" not in html
        assert '<a href="https://lua.example">' not in html


# --------------------------------------------------------------------------- notes


def test_an_internal_note_stays_with_the_cooperative_and_staff(sent, staff):
    client, inquiry = sent["member_a"], sent["a"]
    before_mail, before_notices = (
        len(emails()),
        db.session.scalar(select(func.count()).select_from(Notification)),
    )
    response = note(client, inquiry, "Khách quen của chị Hoa, ưu tiên giao sớm.")
    assert response.status_code == 302
    (stored,) = messages_of(inquiry)
    assert stored.internal and stored.author == MessageAuthor.COOPERATIVE
    assert fresh(inquiry).status == InquiryStatus.NEW  # a note is not a reply
    assert len(emails()) == before_mail
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before_notices

    mine = page_text(client.get(f"{INBOX}/{inquiry.id}"))
    assert "Ghi chú nội bộ — người mua không thấy" in mine
    assert "Khách quen của chị Hoa" in mine
    assert "Khách quen của chị Hoa" in page_text(staff.get(f"{SUPPORT}/{inquiry.id}"))
    for path in sent_links():
        assert "Khách quen" not in page_text(sent["buyer"].get(path))


def test_an_empty_or_long_note_is_refused(sent):
    before = counts()
    empty = note(sent["member_a"], sent["a"], "")
    assert empty.status_code == 422 and "Hãy viết ghi chú." in page_text(empty)
    long = note(sent["member_a"], sent["a"], "y" * 5001)
    assert long.status_code == 422
    assert "Dài quá: tối đa 5000 ký tự (bạn đã nhập 5001)." in page_text(long)
    assert counts() == before


# --------------------------------------------------------------------------- status


@pytest.mark.parametrize(
    "target, label, buyer_reads",
    [
        ("won", "Đã chốt đơn", "Đã thỏa thuận mua bán"),
        ("lost", "Không thành", "Đã kết thúc, không thành giao dịch"),
        ("spam", "Thư rác", None),
    ],
)
def test_a_member_sets_the_result(sent, target, label, buyer_reads):
    client, inquiry = sent["member_a"], sent["a"]
    page = page_text(client.get(f"{INBOX}/{inquiry.id}"))
    assert "Người mua thấy kết quả mua bán trên trang riêng của họ (không có email báo)" in page
    before_mail = len(emails())
    response = set_status(client, inquiry, target)
    assert response.status_code == 302
    assert fresh(inquiry).status == InquiryStatus(target)
    assert len(emails()) == before_mail  # nobody is emailed about a result
    text = page_text(client.get(f"{INBOX}/{inquiry.id}"))
    assert label in text
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "inquiry.status_changed", AuditEntry.target_id == inquiry.id
        )
    )
    assert entry.before == {"status": "new"} and entry.after == {"status": target}
    # The buyer reads the result on the private page, as the note says (spam: no page at all).
    link_a, link_b = sent_links()
    assert "HTX Mật Ong Gửi Thử" in page_text(sent["buyer"].get(link_b))
    if buyer_reads is None:
        assert sent["buyer"].get(link_a).status_code == 404
    else:
        text = page_text(sent["buyer"].get(link_a))
        assert "HTX Rau Gửi Thử" in text and buyer_reads in text


def test_two_members_at_once_one_wins_the_other_gets_409(sent, demo_db):
    inquiry = sent["a"]
    first = sent["member_a"]
    colleague = create_user(
        cooperative=sent["coop_a"], membership_role=MembershipRole.EDITOR, name="Lê Văn Hai"
    )
    db.session.commit()
    second = member_client(demo_db, colleague)
    # Both have the page open while the inquiry is "new".
    assert 'name="seen" value="new"' in first.get(f"{INBOX}/{inquiry.id}").get_data(as_text=True)
    assert 'name="seen" value="new"' in second.get(f"{INBOX}/{inquiry.id}").get_data(as_text=True)
    assert set_status(first, inquiry, "won", seen="new").status_code == 302
    before = counts()
    response = set_status(second, inquiry, "lost", seen="new")
    assert response.status_code == 409
    text = page_text(response)
    assert f"{sent['owner_a'].name} đã đổi yêu cầu này sang “Đã chốt đơn” lúc" in text
    assert "Thao tác của bạn chưa được lưu" in text
    assert fresh(inquiry).status == InquiryStatus.WON
    assert counts() == before


def test_a_move_the_rules_refuse_is_a_409(sent):
    client, inquiry = sent["member_a"], sent["a"]
    set_status(client, inquiry, "spam")
    before = counts()
    response = set_status(client, inquiry, "won", seen="spam")
    assert response.status_code == 409
    assert "Không chuyển được yêu cầu từ “Thư rác” sang “Đã chốt đơn”." in page_text(response)
    assert fresh(inquiry).status == InquiryStatus.SPAM
    assert counts() == before


@pytest.mark.parametrize(
    "data",
    [
        {"status": "replied", "seen": "new"},
        {"status": "new", "seen": "new"},
        {"status": "sold", "seen": "new"},
        {"status": "won", "seen": "unknown"},
        {"status": "won"},
        {"seen": "new"},
    ],
)
def test_a_made_up_status_is_refused(sent, data):
    before = counts()
    response = post(sent["member_a"], f"{INBOX}/{sent['a'].id}/trang-thai", data, INBOX)
    assert response.status_code == 422
    assert "Hãy bấm một trong các nút trạng thái." in page_text(response)
    assert counts() == before and fresh(sent["a"]).status == InquiryStatus.NEW


# --------------------------------------------------------------------------- spam


def test_spam_notifies_nobody_ever(sent):
    client, inquiry = sent["member_a"], sent["a"]
    paths = sent_links()
    before_mail = len(emails())
    before_notices = db.session.scalar(select(func.count()).select_from(Notification))
    set_status(client, inquiry, "spam")
    assert len(emails()) == before_mail
    # The buyer's links of this inquiry are dead; answering through one tells nobody.
    buyer = sent["buyer"]
    opened = [buyer.get(path).status_code for path in paths]
    assert opened.count(404) == 1 and opened.count(200) == 1  # B's link still works
    for path in paths:
        buyer.post(f"{path}/tra-loi", data={"body": "Alo?", "csrf_token": csrf_token(buyer)})
    assert len(messages_of(inquiry)) == 0
    assert len(emails("inquiry_buyer_replied")) == 1  # B's owner only, for B's inquiry
    notices = db.session.scalars(
        select(Notification).where(Notification.cooperative_id == sent["coop_a"].id)
    ).all()
    assert all(n.kind == "inquiry_received" for n in notices)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before_notices + 1
    # And the cooperative cannot reply to it either.
    text = page_text(client.get(f"{INBOX}/{inquiry.id}"))
    assert "Yêu cầu này là thư rác" in text and "Trả lời người mua" not in text
    before = counts()
    refused = reply(client, inquiry, "Chào anh")
    assert refused.status_code == 409
    assert "đã bị đánh dấu là thư rác" in page_text(refused)
    assert counts() == before


def test_a_honeypot_inquiry_sits_in_the_spam_tab_and_told_nobody(client, goods, demo_db):
    fill(client, goods)
    assert send(client, hp_reference_code="http://spam.example").status_code == 302
    inquiry, _b = sent_inquiries(goods)
    assert inquiry.status == InquiryStatus.SPAM
    owner = member_client(demo_db, goods["owner_a"])
    assert "Nguyễn Thị Lan" not in page_text(owner.get(INBOX))
    assert "Nguyễn Thị Lan" in page_text(owner.get(f"{INBOX}?trang_thai=spam"))
    assert "Không có yêu cầu báo giá mới" in page_text(owner.get("/quan-ly-htx/"))
    assert reply(owner, inquiry, "Chào").status_code == 409
    assert not emails()


# --------------------------------------------------------------------------- privacy


def test_another_cooperative_s_member_finds_nothing_by_id(sent):
    outsider, inquiry = sent["member_b"], sent["a"]
    before = counts()
    status = fresh(inquiry).status
    assert outsider.get(f"{INBOX}/{inquiry.id}").status_code == 404
    assert reply(outsider, inquiry).status_code == 404
    assert note(outsider, inquiry).status_code == 404
    assert set_status(outsider, inquiry, "spam", seen="new").status_code == 404
    assert counts() == before and fresh(inquiry).status == status
    # The 404 is the one an id that does not exist gets: nothing about A is revealed.
    missing = outsider.get(f"{INBOX}/999999")
    denied = outsider.get(f"{INBOX}/{inquiry.id}")
    assert page_text(missing) == page_text(denied)
    assert "Nguyễn Thị Lan" not in page_text(denied)
    assert outsider.get(f"{INBOX}/{2**40}").status_code == 404


@pytest.mark.parametrize("who", ["buyer", "staff", "anonymous"])
def test_only_members_reach_the_inbox(demo_db, sent, who):
    client = demo_db.test_client()
    if who != "anonymous":
        sign_in(client, create_user(Role.BUYER if who == "buyer" else Role.STAFF))
    response = client.get(f"{INBOX}/{sent['a'].id}")
    if who == "anonymous":
        assert (
            response.status_code == 302 and "/tai-khoan/dang-nhap" in response.headers["Location"]
        )
    else:
        assert response.status_code == 403


def test_buyer_contacts_stay_off_notices_owner_emails_and_public_pages(sent, demo_db, demo):
    reply(sent["member_a"], sent["a"])
    note(sent["member_a"], sent["a"], "Gọi lại số 0912 345 678 chiều nay.")
    notices = db.session.scalars(select(Notification)).all()
    for notice in notices:
        assert not any(c in str(notice.params) for c in CONTACTS)
    for mail in emails():
        if mail.to_address != "lan.nguyen@example.com":
            assert not any(c in mail.body or c in mail.subject for c in CONTACTS), mail.kind
    owner_home = page_text(sent["member_a"].get("/quan-ly-htx/"))
    assert not any(c in owner_home for c in CONTACTS)
    public = demo_db.test_client()
    pages = [
        "/",
        f"/htx/{sent['coop_a'].slug}",
        f"/htx/{sent['coop_b'].slug}",
        f"/san-pham/{sent['greens'].slug}",
        f"/san-pham/{sent['honey'].slug}",
        "/san-pham",
        "/tim-kiem?q=lan",
    ]
    for path in pages:
        response = public.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert not any(c in text for c in CONTACTS), path
    # Nor on the other cooperative's pages, nor in the buyer-facing link of B.
    b_pages = [sent["member_b"].get(INBOX), sent["member_b"].get("/quan-ly-htx/")]
    for response in b_pages:
        assert "Rau muống gửi thử" not in page_text(response)


# --------------------------------------------------------------------------- staff support


def test_staff_read_every_inquiry_with_filters(sent, staff, demo_db):
    other = create_cooperative(name="HTX Lọc Thử")
    product = create_product(other)
    make_inquiry(
        other,
        [product],
        901,
        status=InquiryStatus.WON,
        buyer_name="Khách tháng trước",
        created_at=datetime(2026, 10, 31, 16, 59, tzinfo=UTC),  # 31/10 23:59 in Vietnam
    )
    make_inquiry(
        other,
        [product],
        902,
        buyer_name="Khách đầu tháng",
        created_at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC),  # 1/11 00:00 in Vietnam
    )
    db.session.commit()
    text = page_text(staff.get(SUPPORT))
    assert "Yêu cầu báo giá" in text
    for name in ("Nguyễn Thị Lan", "Khách tháng trước", "Khách đầu tháng"):
        assert name in text
    assert "HTX Rau Gửi Thử" in text and "HTX Mật Ong Gửi Thử" in text

    by_coop = page_text(staff.get(f"{SUPPORT}?htx={other.slug}"))
    assert "Khách tháng trước" in by_coop and "Nguyễn Thị Lan" not in by_coop
    assert "2 yêu cầu" in by_coop
    won = page_text(staff.get(f"{SUPPORT}?trang_thai=won"))
    assert "Khách tháng trước" in won and "Khách đầu tháng" not in won
    october = page_text(staff.get(f"{SUPPORT}?thang=2026-10&htx={other.slug}"))
    assert "Khách tháng trước" in october and "Khách đầu tháng" not in october
    november = page_text(staff.get(f"{SUPPORT}?thang=2026-11&htx={other.slug}"))
    assert "Khách đầu tháng" in november and "Khách tháng trước" not in november

    bad = staff.get(f"{SUPPORT}?htx=khong-co&trang_thai=sold&thang=2026-13")
    assert bad.status_code == 200
    bad_text = page_text(bad)
    assert "Không tìm thấy hợp tác xã này, bộ lọc đã được bỏ qua." in bad_text
    assert "Trạng thái không hợp lệ, bộ lọc đã được bỏ qua." in bad_text
    assert "Tháng không hợp lệ, bộ lọc đã được bỏ qua." in bad_text
    assert "Nguyễn Thị Lan" in bad_text  # the bad filters were dropped


def test_staff_read_one_inquiry_with_contacts_and_notes_but_change_nothing(sent, staff):
    reply(sent["member_a"], sent["a"], "Có hàng ngay.")
    note(sent["member_a"], sent["a"], "Chỉ nội bộ.")
    response = staff.get(f"{SUPPORT}/{sent['a'].id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert "Nguyễn Thị Lan → HTX Rau Gửi Thử" in text
    assert 'href="tel:0912345678"' in html and "lan.nguyen@example.com" in html
    assert "Có hàng ngay." in text and "Chỉ nội bộ." in text
    assert "Ghi chú nội bộ — người mua không thấy" in text
    assert "Chỉ để xem." in text
    assert "<textarea" not in html and 'method="post" action="/quan-ly-htx' not in html
    assert staff.get(f"{SUPPORT}/999999").status_code == 404
    assert staff.get(f"{SUPPORT}/{2**40}").status_code == 404


def test_the_console_names_the_support_view(staff):
    html = staff.get(SUPPORT).get_data(as_text=True)
    assert f'<a href="{SUPPORT}" aria-current="page">Yêu cầu báo giá</a>' in html


def test_staff_pages_in_english(sent, staff):
    note(sent["member_a"], sent["a"], "Chỉ nội bộ.")
    text = page_text(staff.get(f"{SUPPORT}?lang=en"))
    assert "Quote request" in text and "All cooperatives" in text
    one = page_text(staff.get(f"{SUPPORT}/{sent['a'].id}"))
    assert "Read only." in one and "Internal note — the buyer does not see it" in one


@pytest.mark.parametrize("role", [Role.BUYER, Role.MEMBER])
def test_members_and_buyers_cannot_open_the_support_view(demo_db, sent, role):
    user = sent["owner_a"] if role == Role.MEMBER else create_user(Role.BUYER)
    db.session.commit()
    client = member_client(demo_db, user)
    assert client.get(SUPPORT).status_code == 403
    assert client.get(f"{SUPPORT}/{sent['a'].id}").status_code == 403


# --------------------------------------------------------------------------- SQL statements


def _grow(coop, product, start: int, count: int, messages: int = 0, author=None):
    for n in range(start, start + count):
        inquiry = make_inquiry(coop, [product, product], n, buyer_name=f"Khách {n}")
        for m in range(messages):
            db.session.add(
                InquiryMessage(
                    inquiry_id=inquiry.id,
                    author=MessageAuthor.COOPERATIVE if m % 2 else MessageAuthor.BUYER,
                    author_user_id=author.id if (author and m % 2) else None,
                    body=f"Tin nhắn {m}",
                    internal=m % 3 == 0,
                )
            )
    db.session.flush()


def test_statement_counts_do_not_grow_with_inquiries_or_messages(demo_db, count_queries):
    coop = create_cooperative()
    product = create_product(coop)
    owner = create_user(cooperative=coop)
    staff_user = create_user(Role.STAFF)
    _grow(coop, product, 1000, 3, messages=1, author=owner)
    first = db.session.scalar(select(func.min(Inquiry.id)).where(Inquiry.cooperative_id == coop.id))
    db.session.commit()
    member = member_client(demo_db, owner)
    staff = member_client(demo_db, staff_user)
    urls = {
        "inbox": (member, INBOX),
        "inbox tab": (member, f"{INBOX}?trang_thai=new"),
        "inquiry": (member, f"{INBOX}/{first}"),
        "dashboard": (member, "/quan-ly-htx/"),
        "support": (staff, SUPPORT),
        "support filtered": (staff, f"{SUPPORT}?htx={coop.slug}&thang=2026-11"),
        "support inquiry": (staff, f"{SUPPORT}/{first}"),
    }

    def measure():
        found = {}
        for name, (client, url) in urls.items():
            with count_queries() as counter:
                assert client.get(url).status_code == 200, name
            found[name] = counter.count
        return found

    small = measure()
    _grow(coop, product, 2000, 40, messages=0)
    for m in range(25):
        db.session.add(
            InquiryMessage(
                inquiry_id=first,
                author=MessageAuthor.COOPERATIVE,
                author_user_id=owner.id,
                body=f"Thêm {m}",
                internal=m % 2 == 0,
            )
        )
    db.session.commit()
    assert measure() == small
