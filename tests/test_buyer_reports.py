"""Buyers' product reports ("Báo cáo sản phẩm") and the staff's case pages.

A buyer reports a public product; reports gather in one open case per product; staff dismiss
it, ask the cooperative for changes, or take the product down. What buyers, staff and the
cooperative see, what the database holds afterwards, and what is refused.
"""

import html
import re
import threading
import unicodedata
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy import text as sql

from shop.accounts import throttle
from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog import services as catalog_services
from shop.catalog.models import Category, Product, ProductRevision, ProductStatus, RevisionStatus
from shop.cooperatives.models import CooperativeStatus
from shop.extensions import db
from shop.moderation import services
from shop.moderation.models import CaseStatus, ModerationCase, ProductReport, ReportReason
from shop.notify.models import Notification, OutboxEmail
from tests.factories import create_cooperative, create_product, create_user, load_taxonomy
from tests.helpers import csrf_token, page_text, sign_in

CASES = "/quan-tri/bao-cao-san-pham"
COUNTED = (ModerationCase, ProductReport, AuditEntry, Notification, OutboxEmail)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def world(blank_db):
    """Cooperative A (an owner) with a public product; a buyer, staff, and B's owner."""
    with blank_db.app_context():
        throttle.reset()  # every test starts with no report counted from its addresses
    load_taxonomy()
    coop_a = create_cooperative(name="HTX Thế giới A", slug="htx-the-gioi-a", email="a@htx.vn")
    coop_b = create_cooperative(name="HTX Thế giới B", slug="htx-the-gioi-b")
    category = db.session.scalar(select(Category).order_by(Category.sort_order))
    world = SimpleNamespace(
        app=blank_db,
        coop_a=coop_a,
        category=category,
        product=create_product(
            coop_a, name_vi="Rượu làng Vân", slug="ruou-lang-van", category=category
        ),
        owner_a=create_user(cooperative=coop_a, email="chu-a@example.com"),
        owner_b=create_user(cooperative=coop_b, email="chu-b@example.com"),
        buyer=create_user(Role.BUYER, email="nguoi-mua@example.com"),
        staff=create_user(Role.STAFF, email="can-bo@example.com"),
        staff_2=create_user(Role.STAFF, email="can-bo-hai@example.com"),
    )
    db.session.commit()
    yield world
    with blank_db.app_context():
        throttle.reset()


def client_for(world, user=None):
    client = world.app.test_client()
    if user is not None:
        sign_in(client, user)
    return client


def text(response) -> str:
    return html.unescape(page_text(response))


def counts() -> dict:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def fresh(model, id_):
    return db.session.get(model, id_, populate_existing=True)


def report_url(product) -> str:
    return f"/san-pham/{product.slug}/bao-cao"


def send_report(client, product, address="10.0.0.1", **fields):
    """Fill the report form as a browser at `address` would, and send it."""
    data = {"reason": "counterfeit", "details": "Nhãn giống hệt cơ sở khác.", "email": ""}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, report_url(product))
    return client.post(report_url(product), data=data, environ_base={"REMOTE_ADDR": address})


def open_case(world, product=None, reports=1) -> ModerationCase:
    """A case with `reports` reports from different addresses, made through the form."""
    product = product or world.product
    client = client_for(world)
    for n in range(reports):
        assert send_report(client, product, address=f"10.1.0.{n + 1}").status_code == 200
    return db.session.scalar(
        select(ModerationCase).where(
            ModerationCase.product_id == product.id, ModerationCase.status == CaseStatus.OPEN
        )
    )


def decide(client, case, path, prefix, **fields):
    """Open the case page, then post one of its decision forms."""
    url = f"{CASES}/{case.id}"
    data = {"csrf_token": csrf_token(client, url)}
    for name, value in fields.items():
        data[f"{prefix}-{name}"] = value
    return client.post(f"{url}/{path}", data=data)


def owner_emails(kind):
    return list(
        db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
        )
    )


def notices(world):
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.cooperative_id == world.coop_a.id)
            .order_by(Notification.id)
        )
    )


def audit(action):
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# --------------------------------------------------------------------------- the report form


@pytest.mark.parametrize(
    "lang, link, heading",
    [
        ("vi", "Báo cáo sản phẩm", "Sản phẩm có vấn đề gì?"),
        ("en", "Report this product", "What is wrong"),
    ],
)
def test_product_page_links_to_a_plain_report_form(world, lang, link, heading):
    client = client_for(world)
    raw = client.get(f"/san-pham/{world.product.slug}?lang={lang}").get_data(as_text=True)
    assert f'href="{report_url(world.product)}" rel="nofollow">{link}</a>' in raw
    response = client.get(report_url(world.product))
    assert response.status_code == 200
    page = text(response)
    assert heading in page
    if lang == "vi":
        for label in ("Thông tin sai", "Hàng cấm", "Hàng giả, hàng nhái", "Khác", "Mô tả thêm"):
            assert label in page
        assert "Email của bạn (không bắt buộc)" in page
    else:
        assert "Counterfeit or imitation" in page and "Send the report" in page


def test_a_first_report_opens_a_case_and_thanks_the_buyer(world):
    before = counts()
    response = send_report(
        client_for(world), world.product, details="Chai giống hệt rượu của cơ sở khác."
    )
    assert response.status_code == 200
    page = text(response)
    assert "Chúng tôi đã nhận báo cáo của bạn về “Rượu làng Vân”." in page
    assert "Tiếp theo sẽ thế nào?" in page and "hợp tác xã không biết ai đã báo cáo" in page.lower()

    case = db.session.scalar(select(ModerationCase))
    assert (case.status, case.report_count, case.product_id) == (
        CaseStatus.OPEN,
        1,
        world.product.id,
    )
    report = db.session.scalar(select(ProductReport))
    assert report.reason == ReportReason.COUNTERFEIT
    assert report.details == "Chai giống hệt rượu của cơ sở khác."
    assert report.reporter_email is None and report.reporter_user_id is None
    # A keyed hash of the address, never the address itself.
    assert len(report.reporter_key) == 64 and "10.0.0.1" not in report.reporter_key
    with world.app.test_request_context():
        assert report.reporter_key == services.reporter_key("10.0.0.1")
    [entry] = audit("moderation.case_opened")
    assert (entry.target_type, entry.target_id, entry.actor_id) == (
        "moderation_case",
        case.id,
        None,
    )
    # The cooperative hears nothing of single reports.
    after = counts()
    assert after["Notification"] == before["Notification"]
    assert after["OutboxEmail"] == before["OutboxEmail"]


def test_a_signed_in_buyer_is_recorded_and_email_is_normalised(world):
    decomposed = unicodedata.normalize("NFD", "Thông tin sai về độ cồn")
    response = send_report(
        client_for(world, world.buyer),
        world.product,
        reason="wrong_info",
        details=f"  {decomposed}  ",
        email="  Nguoi.Mua@Example.COM ",
    )
    assert response.status_code == 200
    report = db.session.scalar(select(ProductReport))
    assert report.details == unicodedata.normalize("NFC", "Thông tin sai về độ cồn")
    assert report.reporter_email == "nguoi.mua@example.com"
    assert report.reporter_user_id == world.buyer.id


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"reason": None}, "Hãy chọn sản phẩm có vấn đề gì."),
        ({"reason": ""}, "Hãy chọn sản phẩm có vấn đề gì."),
        ({"reason": "spam"}, "Lựa chọn này không có trong danh sách. Hãy chọn lại."),
        ({"reason": "other", "details": "   "}, "Khi chọn “Khác”, hãy mô tả vấn đề bạn thấy."),
        ({"details": "x" * 2001}, "Dài quá: tối đa 2000 ký tự (bạn đã nhập 2001)."),
        ({"details": "a\x00b"}, "Có ký tự điều khiển không hợp lệ"),
        ({"email": "nguoi-mua@"}, "Địa chỉ email không hợp lệ."),
    ],
)
def test_bad_reports_are_refused_with_a_clear_message(world, fields, message):
    before = counts()
    response = send_report(client_for(world), world.product, **fields)
    assert response.status_code == 422
    page = text(response)
    assert "Chưa gửi được: hãy sửa những chỗ sau" in page
    assert message in page
    assert counts() == before


def test_other_with_details_is_accepted(world):
    response = send_report(
        client_for(world), world.product, reason="other", details="Ảnh chụp sản phẩm khác."
    )
    assert response.status_code == 200
    assert db.session.scalar(select(ProductReport.reason)) == ReportReason.OTHER


def test_english_messages_on_a_refused_report(world):
    client = client_for(world)
    client.get("/?lang=en")
    response = send_report(client, world.product, reason="other", details="")
    assert response.status_code == 422
    assert "When you choose “Other”, describe the problem you saw." in text(response)


@pytest.mark.parametrize("state", ["draft", "submitted", "archived", "suspended", "unknown"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_products_not_on_public_pages_cannot_be_reported(world, state, method):
    product = world.product
    if state == "suspended":
        world.coop_a.status = CooperativeStatus.SUSPENDED
    elif state == "unknown":
        product = SimpleNamespace(slug="khong-co-san-pham-nay")
    else:
        product.status = ProductStatus(state)
    db.session.commit()
    client = client_for(world)
    before = counts()
    if method == "GET":
        response = client.get(report_url(product))
    else:
        token = csrf_token(client)
        response = client.post(
            report_url(product), data={"csrf_token": token, "reason": "prohibited"}
        )
    assert response.status_code == 404
    assert counts() == before


def test_a_malformed_slug_is_404(world):
    assert client_for(world).get("/san-pham/Không%20hợp%20lệ/bao-cao").status_code == 404


# --------------------------------------------------------------------------- one case per product


def test_further_reports_join_the_open_case(world):
    client = client_for(world)
    assert send_report(client, world.product, address="10.0.0.1").status_code == 200
    assert (
        send_report(client, world.product, address="10.0.0.2", reason="prohibited").status_code
        == 200
    )
    assert (
        send_report(client_for(world, world.buyer), world.product, address="10.0.0.3").status_code
        == 200
    )
    [case] = db.session.scalars(select(ModerationCase)).all()
    assert case.report_count == 3
    assert db.session.scalar(select(func.count(ProductReport.id))) == 3
    assert len(audit("moderation.case_opened")) == 1


def test_the_same_person_reporting_twice_adds_nothing(world):
    client = client_for(world)
    assert send_report(client, world.product, address="10.0.0.9").status_code == 200
    before = counts()
    response = send_report(client, world.product, address="10.0.0.9", reason="prohibited")
    assert response.status_code == 200
    assert "Bạn đã báo cáo “Rượu làng Vân” rồi, nên lần này chúng tôi không ghi thêm." in text(
        response
    )
    assert counts() == before
    # A signed-in buyer is known by the account, whatever address the phone has now.
    buyer = client_for(world, world.buyer)
    assert send_report(buyer, world.product, address="10.0.0.10").status_code == 200
    before = counts()
    response = send_report(buyer, world.product, address="10.0.0.11")
    assert "không ghi thêm" in text(response)
    assert counts() == before
    assert fresh(ModerationCase, db.session.scalar(select(ModerationCase.id))).report_count == 2


def test_too_many_reports_from_one_address_are_refused(world):
    products = [world.product] + [
        create_product(world.coop_a, category=world.category) for _ in range(5)
    ]
    db.session.commit()
    client = client_for(world)
    for product in products[:5]:
        assert send_report(client, product, address="10.9.9.9").status_code == 200
    before = counts()
    response = send_report(client, products[5], address="10.9.9.9")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau" in text(response)
    assert counts() == before
    # Another address is not held back.
    assert send_report(client, products[5], address="10.9.9.10").status_code == 200


def test_two_first_reports_racing_end_in_one_case(world, monkeypatch):
    """The loser of the partial unique index joins the winner's case (savepoint, re-read)."""
    product = world.product
    winner = ModerationCase(product_id=product.id, status=CaseStatus.OPEN, report_count=1)
    db.session.add(winner)
    db.session.commit()
    looked = []
    real = services._open_case_of

    def late_lookup(product_id):
        # The first look happens before the other request's case exists.
        looked.append(product_id)
        return None if len(looked) == 1 else real(product_id)

    monkeypatch.setattr(services, "_open_case_of", late_lookup)
    with world.app.test_request_context():
        report = services.report_product(
            product, "prohibited", "", None, None, services.reporter_key("10.2.2.2")
        )
        db.session.commit()
    assert report.case_id == winner.id
    [case] = db.session.scalars(select(ModerationCase)).all()
    assert fresh(ModerationCase, case.id).report_count == 2
    assert audit("moderation.case_opened") == []


# --------------------------------------------------------------------------- the case page


def test_case_page_shows_reports_literally_and_offers_three_decisions(world):
    client = client_for(world)
    send_report(
        client,
        world.product,
        address="10.0.0.1",
        details="<script>alert('x')</script> giả",
        email="mua@example.com",
    )
    send_report(
        client_for(world, world.buyer),
        world.product,
        address="10.0.0.2",
        reason="wrong_info",
        details="",
    )
    case = db.session.scalar(select(ModerationCase))
    response = client_for(world, world.staff).get(f"{CASES}/{case.id}")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert "<script>alert" not in raw
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; giả" in raw
    page = text(response)
    assert "Rượu làng Vân" in page and "HTX Thế giới A" in page
    assert "2 báo cáo" in page and "Đang chờ xử lý" in page
    assert "Hàng giả, hàng nhái" in page and "Thông tin sai" in page
    assert "Liên hệ: mua@example.com" in page
    assert "Liên hệ: nguoi-mua@example.com" in page  # the signed-in buyer's account
    assert f'href="/quan-tri/san-pham/{world.product.id}"' in raw
    assert f'href="/san-pham/{world.product.slug}"' in raw
    for button in ("Đóng báo cáo", "Yêu cầu sửa", "Gỡ sản phẩm"):
        assert f">{button}</button>" in raw
    for reason in ("Ảnh sản phẩm", "Giá", "Mô tả"):
        assert reason in page
    assert "Sản phẩm chưa từng bị báo cáo trước đây." in page


def test_case_pages_in_english(world):
    case = open_case(world)
    client = client_for(world, world.staff)
    page = text(client.get(f"{CASES}/{case.id}?lang=en"))
    assert "1 report" in page and "Counterfeit or imitation" in page
    assert "Take the product down" in page and "Earlier reports" in page
    page = text(client.get(f"{CASES}?lang=en"))
    assert "Buyer reports" in page and "Waiting for a decision" in page and "Rượu làng Vân" in page


def test_unknown_case_is_404(world):
    client = client_for(world, world.staff)
    assert client.get(f"{CASES}/999999").status_code == 404
    assert client.get(f"{CASES}/99999999999").status_code == 404


# --------------------------------------------------------------------------- decisions


def test_dismiss_closes_the_case_and_leaves_the_product_alone(world):
    case = open_case(world, reports=2)
    client = client_for(world, world.staff)
    before = counts()
    response = decide(client, case, "bo-qua", "dismiss", note="Đã gọi HTX, nhãn đúng.")
    assert response.status_code == 302 and response.headers["Location"].endswith(CASES)
    case = fresh(ModerationCase, case.id)
    assert (case.status, case.outcome, case.decided_by_id) == (
        CaseStatus.DISMISSED,
        "dismissed",
        world.staff.id,
    )
    assert case.note == "Đã gọi HTX, nhãn đúng." and case.decided_at is not None
    assert fresh(Product, world.product.id).status == ProductStatus.PUBLISHED
    assert client_for(world).get(f"/san-pham/{world.product.slug}").status_code == 200
    [entry] = audit("moderation.case_dismissed")
    assert (entry.actor_id, entry.target_id, entry.reason) == (
        world.staff.id,
        case.id,
        "Đã gọi HTX, nhãn đúng.",
    )
    assert entry.before == {"status": "open"}
    after = counts()
    assert after["Notification"] == before["Notification"]
    assert after["OutboxEmail"] == before["OutboxEmail"]
    # A decided case shows who decided what, and no forms.
    page = client.get(f"{CASES}/{case.id}")
    raw = page.get_data(as_text=True)
    assert "can-bo@example.com đã xử lý lúc" in text(page)
    assert "Không có vi phạm, đóng báo cáo" in text(page)
    assert '<form method="post" action="/quan-tri/bao-cao-san-pham' not in raw


def test_request_changes_sends_the_product_back_with_the_reasons(world):
    case = open_case(world)
    client = client_for(world, world.staff)
    response = decide(
        client,
        case,
        "yeu-cau-sua",
        "changes",
        reasons=["description", "certificate"],
        note="Ghi rõ độ cồn và giấy phép sản xuất rượu.",
    )
    assert response.status_code == 302
    assert "Đã gửi yêu cầu sửa “Rượu làng Vân”" in text(client.get(CASES))
    case = fresh(ModerationCase, case.id)
    assert (case.status, case.outcome) == (CaseStatus.RESOLVED, "changes_requested")
    product = fresh(Product, world.product.id)
    assert product.status == ProductStatus.CHANGES_REQUESTED
    assert product.review_reasons == ["description", "certificate"]
    assert product.moderation_note == "Ghi rõ độ cồn và giấy phép sản xuất rượu."
    assert client_for(world).get(f"/san-pham/{product.slug}").status_code == 404

    [notice] = notices(world)
    assert notice.kind == "report_changes_requested"
    assert notice.params["reasons"] == ["description", "certificate"]
    [email] = owner_emails("report_changes_requested")
    assert email.to_address == "chu-a@example.com"
    assert "Rượu làng Vân" in email.subject
    assert "Mô tả, Chứng nhận, OCOP" in email.body and "độ cồn" in email.body
    assert "Gửi duyệt" in email.body and "---" in email.body  # Vietnamese, then English
    [entry] = audit("moderation.changes_requested")
    assert entry.reason == "Ghi rõ độ cồn và giấy phép sản xuất rượu."
    assert entry.before == {"status": "open", "product_status": "published"}
    assert entry.after["product_status"] == "changes_requested"
    assert entry.after["reasons"] == ["description", "certificate"]

    # The cooperative reads the reasons on its dashboard and can send the product again.
    owner = client_for(world, world.owner_a)
    page = text(owner.get("/quan-ly-htx/"))
    assert "Liên minh HTX đã xem lại sản phẩm “Rượu làng Vân” và cần bạn sửa" in page
    assert "Cần xem lại: Mô tả, Chứng nhận, OCOP." in page
    page = text(owner.get(f"/quan-ly-htx/san-pham/{product.id}"))
    assert "Ghi rõ độ cồn và giấy phép sản xuất rượu." in page
    product = fresh(Product, product.id)
    catalog_services.submit(product, world.owner_a)
    assert product.status == ProductStatus.SUBMITTED


def test_unpublish_takes_the_product_off_at_once(world):
    case = open_case(world)
    client = client_for(world, world.staff)
    note = "Nhãn mang thương hiệu của cơ sở khác (hàng nhái)."
    response = decide(client, case, "go-san-pham", "unpublish", note=note)
    assert response.status_code == 302
    product = fresh(Product, world.product.id)
    assert product.status == ProductStatus.REJECTED and product.moderation_note == note
    assert fresh(ModerationCase, case.id).outcome == "unpublished"
    assert client_for(world).get(f"/san-pham/{product.slug}").status_code == 404
    assert world.product.slug not in client_for(world).get("/san-pham").get_data(as_text=True)
    [notice] = notices(world)
    assert notice.kind == "report_unpublished" and notice.params["note"] == note
    [email] = owner_emails("report_unpublished")
    assert "đã bị gỡ khỏi Chợ HTX" in email.subject and note in email.body
    [entry] = audit("moderation.unpublished")
    assert entry.reason == note and entry.after["product_status"] == "rejected"
    page = text(client_for(world, world.owner_a).get("/quan-ly-htx/"))
    assert "Liên minh HTX đã gỡ sản phẩm “Rượu làng Vân” khỏi Chợ HTX." in page


def test_take_down_closes_a_pending_revision(world):
    revision = catalog_services.update_product(world.product, world.owner_a, {"price_vnd": 99000})
    db.session.commit()
    case = open_case(world)
    decide(client_for(world, world.staff), case, "go-san-pham", "unpublish", note="Hàng cấm.")
    revision = fresh(ProductRevision, revision.id)
    assert revision.status == RevisionStatus.REJECTED and revision.reason == "moderation"


@pytest.mark.parametrize(
    "path, prefix, fields, message",
    [
        (
            "go-san-pham",
            "unpublish",
            {"note": "  "},
            "Hãy ghi lý do gỡ sản phẩm để hợp tác xã biết.",
        ),
        (
            "yeu-cau-sua",
            "changes",
            {"note": ""},
            "Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì.",
        ),
        ("bo-qua", "dismiss", {"note": "x" * 2001}, "Dài quá: tối đa 2000 ký tự"),
    ],
)
def test_incomplete_decisions_are_refused(world, path, prefix, fields, message):
    case = open_case(world)
    before = counts()
    response = decide(client_for(world, world.staff), case, path, prefix, **fields)
    assert response.status_code == 422
    assert message in text(response)
    assert counts() == before
    assert fresh(ModerationCase, case.id).status == CaseStatus.OPEN
    assert fresh(Product, world.product.id).status == ProductStatus.PUBLISHED


def test_a_product_no_longer_on_sale_is_left_as_it_is(world):
    case = open_case(world)
    catalog_services.archive(fresh(Product, world.product.id), world.owner_a)
    db.session.commit()
    client = client_for(world, world.staff)
    assert "Sản phẩm hiện không đang bán (Đã lưu trữ)" in text(client.get(f"{CASES}/{case.id}"))
    before = counts()
    response = decide(client, case, "yeu-cau-sua", "changes", reasons=["price"])
    assert response.status_code == 302
    assert "không còn đang bán nên không thay đổi gì thêm" in text(client.get(CASES))
    assert fresh(Product, world.product.id).status == ProductStatus.ARCHIVED
    assert fresh(ModerationCase, case.id).status == CaseStatus.RESOLVED
    after = counts()
    assert after["Notification"] == before["Notification"]
    assert after["OutboxEmail"] == before["OutboxEmail"]
    assert after["AuditEntry"] == before["AuditEntry"] + 1


@pytest.mark.parametrize(
    "path, prefix, fields",
    [
        ("bo-qua", "dismiss", {}),
        ("yeu-cau-sua", "changes", {"reasons": ["photo"]}),
        ("go-san-pham", "unpublish", {"note": "Hàng cấm."}),
    ],
)
def test_a_decided_case_answers_409_and_writes_nothing(world, path, prefix, fields):
    case = open_case(world)
    first = client_for(world, world.staff)
    assert decide(first, case, "bo-qua", "dismiss").status_code == 302
    before = counts()
    response = decide(client_for(world, world.staff_2), case, path, prefix, **fields)
    assert response.status_code == 409
    page = text(response)
    assert "Báo cáo về “Rượu làng Vân” đã được can-bo@example.com xử lý lúc" in page
    assert "Quyết định của bạn không được ghi lại." in page
    assert counts() == before
    assert fresh(Product, world.product.id).status == ProductStatus.PUBLISHED
    assert fresh(ModerationCase, case.id).decided_by_id == world.staff.id


def test_the_loser_of_a_race_gets_already_decided(world):
    """The case looked open when read, but another decision landed before the UPDATE."""
    case = open_case(world)
    db.session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == case.id)
        .values(status=CaseStatus.DISMISSED, outcome="dismissed", decided_by_id=world.staff.id)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(services.AlreadyDecided):
        services.unpublish(case, world.staff_2, "Hàng giả.")
    db.session.rollback()
    assert fresh(Product, world.product.id).status == ProductStatus.PUBLISHED
    assert audit("moderation.unpublished") == []


def test_a_new_report_after_a_decision_opens_a_new_case_with_history(world):
    case = open_case(world)
    decide(client_for(world, world.staff), case, "bo-qua", "dismiss", note="Không sao.")
    send_report(client_for(world), world.product, address="10.3.3.3", reason="prohibited")
    cases = db.session.scalars(select(ModerationCase).order_by(ModerationCase.id)).all()
    assert [c.status for c in cases] == [CaseStatus.DISMISSED, CaseStatus.OPEN]
    page = text(client_for(world, world.staff).get(f"{CASES}/{cases[1].id}"))
    assert "Các lần báo cáo trước" in page
    assert "Không có vi phạm, đóng báo cáo" in page and "Ghi chú: Không sao." in page


def test_case_list_shows_open_cases_first_then_decided(world):
    open_case(world)
    other = create_product(world.coop_a, name_vi="Gốm Phù Lãng", category=world.category)
    db.session.commit()
    decided = open_case(world, other)
    decide(client_for(world, world.staff), decided, "bo-qua", "dismiss")
    response = client_for(world, world.staff).get(CASES)
    page = text(response)
    assert page.index("Đang chờ xử lý") < page.index("Rượu làng Vân")
    assert page.index("Rượu làng Vân") < page.index("Đã xử lý gần đây") < page.index("Gốm Phù Lãng")


def test_list_and_case_pages_do_not_grow_queries_with_data(world, count_queries):
    client = client_for(world, world.staff)

    def measure(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    first = open_case(world, reports=1)
    small_list, small_case = measure(CASES), measure(f"{CASES}/{first.id}")
    for n in range(4):
        product = create_product(world.coop_a, category=world.category, name_vi=f"Hàng {n}")
        db.session.commit()
        case = open_case(world, product, reports=2)
        if n % 2:
            decide(client, case, "bo-qua", "dismiss")
    for n in range(4):
        send_report(client_for(world), world.product, address=f"10.7.0.{n}")
    assert measure(CASES) == small_list
    assert measure(f"{CASES}/{first.id}") == small_case


def test_audit_log_names_the_new_actions(world):
    case = open_case(world)
    decide(client_for(world, world.staff), case, "go-san-pham", "unpublish", note="Hàng cấm.")
    page = text(client_for(world, world.staff).get("/quan-tri/nhat-ky"))
    assert "Mở hồ sơ báo cáo sản phẩm" in page
    assert "Gỡ sản phẩm bị báo cáo" in page and "Hồ sơ báo cáo sản phẩm" in page


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_b", "owner_a", "staff"])
def test_only_staff_reach_the_case_pages(world, who):
    case = open_case(world)
    client = client_for(world, None if who == "anonymous" else getattr(world, who))
    for method, url in [
        ("GET", CASES),
        ("GET", f"{CASES}/{case.id}"),
        ("POST", f"{CASES}/{case.id}/yeu-cau-sua"),
        ("POST", f"{CASES}/{case.id}/go-san-pham"),
    ]:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client)})
        if who == "anonymous":
            assert response.status_code == 302 and "/tai-khoan/dang-nhap" in response.location
        elif who == "staff":
            assert response.status_code in (200, 422), (url, response.status_code)
        else:
            assert response.status_code == 403, (who, url)
    assert fresh(ModerationCase, case.id).status == CaseStatus.OPEN


@pytest.mark.parametrize("who", ["anonymous", "buyer", "owner_a", "staff"])
def test_anyone_may_report(world, who):
    client = client_for(world, None if who == "anonymous" else getattr(world, who))
    assert client.get(report_url(world.product)).status_code == 200
    assert send_report(client, world.product, address=f"10.5.5.{len(who)}").status_code == 200


# --------------------------------------------------------------------------- real concurrency


class _Visitor:
    """A browser on the live server: its own cookies, redirects not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), self._NoRedirect()
        )

    def open(self, path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, path):
        status, page = self.open(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def log_in(self, email, password):
        token = self.token("/tai-khoan/dang-nhap")
        status, _ = self.open(
            "/tai-khoan/dang-nhap", {"csrf_token": token, "email": email, "password": password}
        )
        assert status == 302


def test_two_first_reports_at_the_same_moment_make_one_case(live_server):
    """Two buyers report the same product at once on the real server: one case, two reports."""
    import uuid

    password = "hai-người-mua-cùng-báo"
    slug = "tuong-ban-demo"
    engine = create_engine(
        live_server.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    )
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sql("SELECT id FROM product WHERE status = 'published' ORDER BY id DESC LIMIT 1")
            ).first()
            product_id = row[0]
            slug = conn.execute(
                sql("SELECT slug FROM product WHERE id = :id"), {"id": product_id}
            ).scalar()
        visitors = []
        for n in range(2):
            email = f"mua-{uuid.uuid4().hex[:6]}-{n}@example.com"
            live_server.flask(
                "users", "create", email, "--role", "buyer", env={"SHOP_USER_PASSWORD": password}
            )
            visitor = _Visitor(live_server.url)
            visitor.log_in(email, password)
            visitors.append(visitor)
        path = f"/san-pham/{slug}/bao-cao"
        forms = [
            {"csrf_token": v.token(path), "reason": "counterfeit", "details": f"Người {n}"}
            for n, v in enumerate(visitors)
        ]
        barrier = threading.Barrier(2)
        results = [None, None]

        def send(n):
            barrier.wait(timeout=30)
            results[n] = visitors[n].open(path, forms[n])

        threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [status for status, _ in results] == [200, 200], results
        with engine.connect() as conn:
            cases = conn.execute(
                sql("SELECT id, status, report_count FROM moderation_case WHERE product_id = :p"),
                {"p": product_id},
            ).all()
            reports = conn.execute(
                sql("SELECT case_id FROM product_report WHERE product_id = :p"), {"p": product_id}
            ).all()
        assert len(cases) == 1, cases
        assert cases[0][1:] == ("open", 2)
        assert [r[0] for r in reports] == [cases[0][0]] * 2
    finally:
        engine.dispose()
