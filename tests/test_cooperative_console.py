"""The alliance console's cooperative pages (/quan-tri): counts, lists, decisions, onboarding."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    LegalForm,
    MembershipRole,
)
from shop.db import utcnow
from shop.extensions import db
from shop.notify.models import Notification
from tests.factories import create_user
from tests.helpers import post_form, sign_in
from tests.test_cooperative_support import (
    audit_actions,
    body,
    counts,
    emails,
    field_error,
    form_data,
    fresh,
    get,
    make_world,
    membership,
    pending_cooperative,
    text,
    valid_tax_code,
)

QUEUE = "/quan-tri/htx/cho-duyet"
LIST = "/quan-tri/htx"
NEW = "/quan-tri/htx/moi"
LINK = re.compile(r"/tai-khoan/loi-moi/([A-Za-z0-9_-]+)")


@pytest.fixture
def world(client):
    world = make_world()
    sign_in(client, world.staff)
    return world


def waiting(world, name="HTX Chờ duyệt", **values):
    """A pending cooperative with an owner, as registration leaves it."""
    coop = pending_cooperative(name=name, **values)
    owner = create_user(cooperative=coop, email=f"chu-{coop.id}@example.com")
    db.session.commit()
    return coop, owner


def verify(client, coop, seen="pending", back=None):
    data = {"verify-seen_status": seen}
    if back:
        data["back"] = back
    return post_form(client, f"/quan-tri/htx/{coop.id}/xac-minh", data, form_url=QUEUE)


def ask_more(client, coop, reason, seen="pending"):
    data = {"info-seen_status": seen, "info-reason": reason}
    return post_form(client, f"/quan-tri/htx/{coop.id}/can-bo-sung", data, form_url=QUEUE)


def status_count(status) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Cooperative).where(Cooperative.status == status)
    )


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_console_home_counts_what_waits(client, world, lang):
    waiting(world)
    pending_cooperative(status=CooperativeStatus.NEEDS_INFO)
    db.session.commit()
    response = get(client, "/quan-tri/", lang)
    assert response.status_code == 200
    raw = body(response)
    assert f'<html lang="{lang}">' in raw
    pending = status_count(CooperativeStatus.PENDING)
    needs_info = status_count(CooperativeStatus.NEEDS_INFO)
    assert pending >= 1 and needs_info >= 1
    stats = re.findall(r"<dd>(\d+)</dd>", raw)
    assert stats[:2] == [str(pending), str(needs_info)]
    for href in (QUEUE, LIST, NEW, f"{LIST}?status=needs_info"):
        assert f'href="{href}"' in raw
    if lang == "vi":
        assert "Chờ xác minh" in raw and "Đang chờ hợp tác xã bổ sung" in raw


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_queue_shows_oldest_first_with_details(client, world, lang):
    newer, newer_owner = waiting(world, name="HTX Mới hơn", tax_code="2300123454")
    older, _ = waiting(
        world,
        name="HTX Cũ hơn",
        legal_form=LegalForm.GROUP,
        tax_code_missing_reason="Tổ hợp tác chưa có mã",
        member_count=12,
        email="lienhe@htx-cu.example",
    )
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == older.id)
        .values(created_at=utcnow() - timedelta(days=3))
    )
    db.session.commit()
    response = get(client, QUEUE, lang)
    assert response.status_code == 200
    raw = body(response)
    assert raw.index("HTX Cũ hơn") < raw.index("HTX Mới hơn")
    assert "2300123454" in raw and "Tổ hợp tác chưa có mã" in raw
    assert "lienhe@htx-cu.example" in raw and newer_owner.email in raw
    assert "12" in raw and older.locality_id and older.sector_id
    assert f'action="/quan-tri/htx/{older.id}/xac-minh"' in raw
    assert f'action="/quan-tri/htx/{older.id}/can-bo-sung"' in raw
    assert f'<label for="info-reason-{older.id}">' in raw
    # Verified cooperatives are not in the queue.
    assert "HTX Thế giới A" not in raw


def test_list_searches_without_diacritics_and_filters_by_status(client, world):
    waiting(world, name="HTX Hòa Sen Đông Kỵ")
    db.session.commit()
    for q in ("hoa sen", "HÒA SEN", "dong ky"):
        page = text(client.get(LIST, query_string={"q": q}))
        assert "HTX Hòa Sen Đông Kỵ" in page, q
        assert "HTX Thế giới A" not in page
    pending = text(client.get(LIST, query_string={"status": "pending"}))
    assert "HTX Hòa Sen Đông Kỵ" in pending and "HTX Thế giới A" not in pending
    verified = text(client.get(LIST, query_string={"status": "verified", "q": "the gioi"}))
    assert "HTX Thế giới A" in verified and "HTX Hòa Sen" not in verified
    # Unknown filters are ignored, not errors.
    assert client.get(LIST, query_string={"status": "xyz", "q": "\x00"}).status_code == 200


def test_list_finds_a_tax_code_and_paginates(client, world):
    coop = db.session.scalar(select(Cooperative).where(Cooperative.tax_code.is_not(None)))
    spaced = f"{coop.tax_code[:4]} {coop.tax_code[4:]}"
    assert coop.name in text(client.get(LIST, query_string={"q": spaced}))
    total = db.session.scalar(select(func.count()).select_from(Cooperative))
    assert total > 30
    first = body(client.get(LIST))
    assert 'rel="next"' in first
    assert client.get(LIST, query_string={"page": 2}).status_code == 200
    assert client.get(LIST, query_string={"page": 99}).status_code == 404
    assert client.get(LIST, query_string={"page": "x"}).status_code == 404


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_detail_shows_the_record_team_and_history(client, world, lang):
    coop, owner = waiting(world, tax_code_missing_reason="Chưa cấp <mã>")
    ask_more(client, coop, "Gửi bản chụp giấy chứng nhận")
    response = get(client, f"/quan-tri/htx/{coop.id}", lang)
    assert response.status_code == 200
    raw = body(response)
    page = response.get_data(as_text=True)
    assert "Chưa cấp &lt;mã&gt;" in page
    assert owner.email in raw
    assert "Gửi bản chụp giấy chứng nhận" in raw
    assert world.staff.email in raw  # who decided, in the history
    if lang == "vi":
        assert "Yêu cầu bổ sung thông tin" in raw
        assert "Đang chờ xác minh → Cần bổ sung thông tin" in raw
    assert client.get("/quan-tri/htx/999999").status_code == 404


# --------------------------------------------------------------------------- decisions


def test_verifying_publishes_notifies_emails_and_records(client, world):
    coop, owner = waiting(world, name="HTX Được xác minh")
    assert client.get(f"/htx/{coop.slug}").status_code == 404
    response = verify(client, coop, back="queue")
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    saved = fresh(Cooperative, coop.id)
    assert saved.status == CooperativeStatus.VERIFIED and saved.verified_at is not None
    notice = db.session.scalar(select(Notification).where(Notification.cooperative_id == coop.id))
    assert notice.kind == "cooperative_verified"
    [message] = emails("cooperative_verified")
    assert message.to_address == owner.email and "HTX Được xác minh" in message.subject
    assert "/quan-ly-htx/" in message.body
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == coop.id, AuditEntry.action == "cooperative.verified"
        )
    )
    assert entry.actor_id == world.staff.id
    assert entry.before == {"status": "pending"} and entry.after == {"status": "verified"}
    assert "Đã xác minh HTX Được xác minh" in text(client.get(QUEUE))
    assert client.get(f"/htx/{coop.slug}").status_code == 200
    sign_in(client, owner)
    home = text(client.get("/quan-ly-htx/"))
    assert "Liên minh HTX đã xác minh HTX Được xác minh" in home


def test_asking_for_more_needs_a_reason(client, world):
    coop, _ = waiting(world)
    before = counts()
    response = ask_more(client, coop, "   ")
    assert response.status_code == 422
    assert "Hãy ghi rõ hợp tác xã cần bổ sung gì" in field_error(response, f"info-reason-{coop.id}")
    assert counts() == before
    assert fresh(Cooperative, coop.id).status == CooperativeStatus.PENDING
    too_long = ask_more(client, coop, "x" * 2001)
    assert too_long.status_code == 422
    assert counts() == before


def test_asking_for_more_reaches_the_members(client, world):
    coop, owner = waiting(world)
    reason = "Mã số thuế không khớp với giấy chứng nhận; hãy gửi lại mã đúng. <b>"
    response = ask_more(client, coop, reason)
    assert response.status_code == 302
    saved = fresh(Cooperative, coop.id)
    assert saved.status == CooperativeStatus.NEEDS_INFO and saved.status_reason == reason
    assert saved.verified_at is None
    [message] = emails("cooperative_needs_info")
    assert message.to_address == owner.email and reason in message.body
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == coop.id, AuditEntry.action == "cooperative.needs_info"
        )
    )
    assert entry.reason == reason and entry.after == {"status": "needs_info"}
    sign_in(client, owner)
    home = client.get("/quan-ly-htx/")
    assert reason in text(home)
    assert "&lt;b&gt;" in home.get_data(as_text=True)
    # The cooperative fixes its record and sends it back; staff can verify it then.
    assert post_form(client, "/quan-ly-htx/ho-so/gui-lai", form_url="/quan-ly-htx/").status_code
    assert fresh(Cooperative, coop.id).status == CooperativeStatus.PENDING
    sign_in(client, world.staff)
    assert verify(client, coop).status_code == 302
    assert audit_actions(coop)[-3:] == [
        "cooperative.needs_info",
        "cooperative.resubmitted",
        "cooperative.verified",
    ]


def test_a_late_decision_is_refused_with_who_decided(client, world):
    coop, _ = waiting(world)
    assert verify(client, coop).status_code == 302  # the first staff member
    second = create_user(Role.STAFF, email="can-bo-hai@example.com")
    db.session.commit()
    sign_in(client, second)
    before = counts()
    # The second one's page still showed "pending".
    response = ask_more(client, coop, "Thiếu giấy tờ", seen="pending")
    assert response.status_code == 409
    page = text(response)
    assert "đã được xử lý bởi can-bo@example.com" in page
    assert "Đã xác minh" in page
    assert counts() == before
    assert fresh(Cooperative, coop.id).status == CooperativeStatus.VERIFIED
    assert verify(client, coop).status_code == 409
    assert counts() == before


def test_a_decision_taken_on_a_stale_page_is_refused(client, world):
    """Staff B's page showed 'pending'; A has meanwhile asked for more: B's verify must fail."""
    coop, _ = waiting(world)
    assert ask_more(client, coop, "Thiếu mã số thuế").status_code == 302
    before = counts()
    response = verify(client, coop, seen="pending")
    assert response.status_code == 409
    assert counts() == before
    assert fresh(Cooperative, coop.id).status == CooperativeStatus.NEEDS_INFO


@pytest.mark.parametrize("status", [CooperativeStatus.SUSPENDED, CooperativeStatus.INACTIVE])
def test_only_undecided_cooperatives_can_be_decided(client, world, status):
    coop, _ = waiting(world)
    db.session.execute(update(Cooperative).where(Cooperative.id == coop.id).values(status=status))
    db.session.commit()
    before = counts()
    assert verify(client, coop, seen="").status_code == 409
    assert ask_more(client, coop, "x", seen="").status_code == 409
    assert counts() == before
    assert fresh(Cooperative, coop.id).status == status


# --------------------------------------------------------------------------- onboarding


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_onboarding_form_reuses_the_cooperative_form(client, world, lang):
    response = get(client, NEW, lang)
    assert response.status_code == 200
    raw = body(response)
    assert f'<html lang="{lang}">' in raw
    for field in ("owner_email", "name", "tax_code", "phone", "locality_id"):
        assert f'<label for="{field}">' in raw


def test_staff_onboard_a_cooperative_and_its_owner_accepts(client, world):
    data = form_data(name="HTX Lên sàn cùng cán bộ", owner_email="Chu.Moi@Example.com")
    response = post_form(client, NEW, data)
    assert response.status_code == 302
    coop = db.session.scalar(select(Cooperative).where(Cooperative.name == data["name"]))
    assert response.headers["Location"].endswith(f"/quan-tri/htx/{coop.id}")
    assert coop.status == CooperativeStatus.VERIFIED and coop.verified_at is not None
    assert coop.slug == "htx-len-san-cung-can-bo"
    assert audit_actions(coop)[:2] == ["cooperative.created_by_staff", "invitation.created"]
    invitation = db.session.scalar(select(Invitation).where(Invitation.cooperative_id == coop.id))
    assert invitation.role == MembershipRole.OWNER and invitation.email == "chu.moi@example.com"
    [message] = emails("invitation")
    token = LINK.search(message.body).group(1)
    detail = text(client.get(f"/quan-tri/htx/{coop.id}"))
    assert "chu.moi@example.com" in detail and "lời mời đang chờ" in detail

    owner = create_user(Role.BUYER, email="chu.moi@example.com")
    db.session.commit()
    sign_in(client, owner)
    assert post_form(client, f"/tai-khoan/loi-moi/{token}").status_code == 302
    link = membership(owner)
    assert link.cooperative_id == coop.id and link.role == MembershipRole.OWNER
    assert client.get("/quan-ly-htx/thanh-vien").status_code == 200
    assert 'action="/quan-ly-htx/thanh-vien/moi"' in body(client.get("/quan-ly-htx/thanh-vien"))


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"owner_email": ""}, "owner_email", "Hãy nhập email của người sẽ quản lý"),
        ({"owner_email": "khong-hop-le"}, "owner_email", "Địa chỉ email không hợp lệ"),
        ({"owner_email": "can-bo@example.com"}, "owner_email", "tài khoản cán bộ"),
        ({"owner_email": "chu-b@example.com"}, "owner_email", "đã quản lý một hợp tác xã khác"),
        ({"tax_code": "123"}, "tax_code", "Mã số thuế gồm 10 chữ số"),
        ({"phone": "abc"}, "phone", "Số điện thoại không đúng"),
        ({"name": ""}, "name", "Hãy nhập tên hợp tác xã."),
    ],
)
def test_bad_onboarding_writes_nothing(client, world, overrides, field, message):
    data = form_data(owner_email="chu.moi@example.com", tax_code=valid_tax_code(555))
    data.update(overrides)
    before = counts()
    response = post_form(client, NEW, data)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert counts() == before


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_list_and_conflict_pages_in_both_languages(client, world, lang):
    coop, _ = waiting(world, name="HTX Hai ngôn ngữ")
    listing = get(client, f"{LIST}?q=hai+ngon+ngu", lang)
    assert listing.status_code == 200
    raw = body(listing)
    assert f'<html lang="{lang}">' in raw and "HTX Hai ngôn ngữ" in raw
    assert f'href="/quan-tri/htx/{coop.id}"' in raw
    assert verify(client, coop).status_code == 302
    refused = post_form(
        client,
        f"/quan-tri/htx/{coop.id}/xac-minh?lang={lang}",
        {"verify-seen_status": "pending"},
        form_url=QUEUE,
    )
    assert refused.status_code == 409
    raw = body(refused)
    assert f'<html lang="{lang}">' in raw
    assert "can-bo@example.com" in raw and f'href="/quan-tri/htx/{coop.id}"' in raw
