"""The cooperative dashboard (/quan-ly-htx): status, notices, the profile and resubmitting."""

import pytest
from sqlalchemy import select, update

from shop.audit.models import AuditEntry
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.notify.messages import NOTICE_KINDS, render
from shop.notify.models import Notification
from shop.notify.services import notify_cooperative
from tests.factories import create_user
from tests.helpers import post_form, sign_in
from tests.test_cooperative_support import (
    audit_actions,
    body,
    counts,
    field_error,
    form_data,
    fresh,
    get,
    make_world,
    row_values,
    text,
    valid_tax_code,
)

HOME = "/quan-ly-htx/"
PROFILE = "/quan-ly-htx/ho-so"
RESUBMIT = "/quan-ly-htx/ho-so/gui-lai"


def set_status(coop, status, reason=None):
    db.session.execute(
        update(Cooperative)
        .where(Cooperative.id == coop.id)
        .values(status=status, status_reason=reason, verified_at=None)
    )
    db.session.commit()


def profile_data(coop, **overrides):
    """The profile form as a member would send it back for this cooperative."""
    data = form_data(
        name=coop.name,
        tax_code=coop.tax_code or valid_tax_code(4242424),
        sector_id=str(coop.sector_id),
        locality_id=str(coop.locality_id),
        address_vi=coop.address_vi,
        phone=coop.phone,
    )
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- home


STATUS_TEXT = {
    CooperativeStatus.PENDING: "Hồ sơ của hợp tác xã đang chờ xác minh",
    CooperativeStatus.NEEDS_INFO: "Liên minh HTX cần bạn bổ sung thông tin",
    CooperativeStatus.VERIFIED: "đã được Liên minh HTX tỉnh xác minh",
    CooperativeStatus.SUSPENDED: "đang bị tạm ngưng",
}


@pytest.mark.parametrize("status", list(STATUS_TEXT))
def test_home_banner_explains_the_status(client, status):
    world = make_world()
    set_status(world.coop_a, status, reason="Thiếu ảnh giấy chứng nhận <đăng ký>.")
    sign_in(client, world.owner_a)
    response = get(client, HOME)
    assert response.status_code == 200
    page = text(response)
    assert STATUS_TEXT[status] in page
    assert "HTX Thế giới A" in page
    raw = body(response)
    assert 'href="/quan-ly-htx/ho-so"' in raw and 'href="/quan-ly-htx/thanh-vien"' in raw
    if status in (CooperativeStatus.NEEDS_INFO, CooperativeStatus.SUSPENDED):
        assert "Thiếu ảnh giấy chứng nhận <đăng ký>." in page
        assert "&lt;đăng ký&gt;" in response.get_data(as_text=True)
    if status == CooperativeStatus.NEEDS_INFO:
        assert 'action="/quan-ly-htx/ho-so/gui-lai"' in raw
        assert "Gửi lại để xác minh" in page
    else:
        assert 'action="/quan-ly-htx/ho-so/gui-lai"' not in raw


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_home_in_both_languages_shows_notices(client, lang):
    world = make_world()
    notify_cooperative(world.coop_a, "cooperative_needs_info", name="x", reason="Gửi ảnh <b>")
    notify_cooperative(world.coop_b, "cooperative_verified", name="HTX Thế giới B")
    db.session.commit()
    sign_in(client, world.editor_a)
    response = get(client, HOME, lang)
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in raw
    assert "Gửi ảnh &lt;b&gt;" in raw
    # Only this cooperative's notices.
    assert "HTX Thế giới B" not in raw
    if lang == "vi":
        assert "Liên minh HTX cần bổ sung thông tin: Gửi ảnh <b>" in text(response)


def test_every_notice_kind_renders_with_its_parameters(demo_db):
    params = {
        "products_imported": {"count": 48, "batch_id": 1},
        "cooperative_verified": {"name": "HTX Sen"},
        "cooperative_needs_info": {"name": "HTX Sen", "reason": "gửi mã số thuế"},
        "cooperative_suspended": {"name": "HTX Sen", "reason": "hàng sai mô tả"},
        "cooperative_reinstated": {"name": "HTX Sen"},
        "invitation_accepted": {"who": "Chị Lan", "role": "editor"},
        "ownership_transferred": {"old": "Anh Minh", "new": "Chị Lan"},
        "member_removed": {"who": "Chị Lan", "by": "Anh Minh"},
        "product_approved": {"product": "Tương Bần", "product_id": 1},
        "product_changes_requested": {
            "product": "Tương Bần",
            "product_id": 1,
            "reasons": ["photo", "bogus"],
            "note": "Ảnh mờ",
        },
        "product_rejected": {"product": "Tương Bần", "product_id": 1, "note": "Hàng cấm"},
        "revision_approved": {"product": "Tương Bần", "product_id": 1},
        "revision_changes_requested": {
            "product": "Tương Bần",
            "product_id": 1,
            "reasons": ["price"],
            "note": None,
        },
        "revision_rejected": {"product": "Tương Bần", "product_id": 1, "note": "Giá sai"},
        "report_changes_requested": {
            "product": "Tương Bần",
            "product_id": 1,
            "reasons": ["description"],
            "note": "Người mua báo mô tả sai",
        },
        "report_unpublished": {"product": "Tương Bần", "product_id": 1, "note": "Hàng giả"},
        "application_accepted": {
            "programme": "Tuần hàng Xuân",
            "application_id": 1,
            "booth_number": 10,
            "dropped": ["Tương Bần"],
        },
        "application_waitlisted": {"programme": "Tuần hàng Xuân", "reason": "Khu đã kín"},
        "application_declined": {"programme": "Tuần hàng Xuân", "reason": "Chưa hợp chủ đề"},
        "inquiry_received": {"inquiry_id": 7, "buyer": "Chị Hoa", "count": 3},
        "inquiry_buyer_replied": {"inquiry_id": 7, "buyer": "Chị Hoa"},
    }
    assert set(params) == set(NOTICE_KINDS)
    expected = {
        "products_imported": ["Đã nhập 48 sản phẩm"],
        "cooperative_verified": ["HTX Sen", "xác minh"],
        "cooperative_needs_info": ["gửi mã số thuế"],
        "cooperative_suspended": ["HTX Sen", "tạm ngưng", "hàng sai mô tả"],
        "cooperative_reinstated": ["HTX Sen", "mở lại"],
        "invitation_accepted": ["Chị Lan", "Biên tập viên"],
        "ownership_transferred": ["Anh Minh", "Chị Lan"],
        "member_removed": ["Chị Lan", "Anh Minh"],
        "product_approved": ["“Tương Bần”", "đã được duyệt"],
        "product_changes_requested": ["“Tương Bần”", "Cần xem lại: Ảnh sản phẩm.", "Ảnh mờ"],
        "product_rejected": ["“Tương Bần”", "không được duyệt", "Hàng cấm"],
        "revision_approved": ["Bản sửa", "“Tương Bần”", "đã được duyệt"],
        "revision_changes_requested": ["Bản sửa", "Cần xem lại: Giá.", "vẫn thấy bản cũ"],
        "revision_rejected": ["Bản sửa", "không được duyệt", "Giá sai"],
        "report_changes_requested": ["“Tương Bần”", "tạm ẩn", "Cần xem lại: Mô tả."],
        "report_unpublished": ["đã gỡ", "“Tương Bần”", "Hàng giả"],
        "application_accepted": ["“Tuần hàng Xuân”", "gian hàng số 10", "Tương Bần"],
        "application_waitlisted": ["“Tuần hàng Xuân”", "danh sách chờ", "Khu đã kín"],
        "application_declined": ["“Tuần hàng Xuân”", "không được nhận", "Chưa hợp chủ đề"],
        "inquiry_received": ["Yêu cầu báo giá mới #7", "Chị Hoa", "3 sản phẩm"],
        "inquiry_buyer_replied": ["Chị Hoa đã trả lời", "#7"],
    }
    with demo_db.test_request_context("/?lang=vi"):
        for kind, values in params.items():
            rendered = render(Notification(kind=kind, params=values))
            for part in expected[kind]:
                assert part in rendered, (kind, rendered)
        assert render(Notification(kind="unknown_kind", params={})) == "Thông báo mới từ Chợ HTX."


# --------------------------------------------------------------------------- profile


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_profile_form_is_filled_with_the_cooperative(client, lang):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.PENDING)
    sign_in(client, world.owner_a)
    response = get(client, PROFILE, lang)
    assert response.status_code == 200
    raw = body(response)
    assert f'<html lang="{lang}">' in raw
    assert 'value="HTX Thế giới A"' in raw
    assert f'value="{world.coop_a.phone}"' in raw
    assert '<label for="phone">' in raw and '<label for="name">' in raw


def test_profile_saves_and_records_what_changed(client):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.PENDING)
    coop = world.coop_a
    sign_in(client, world.editor_a)
    response = post_form(
        client,
        PROFILE,
        profile_data(coop, phone="+84 912 000 111", description_vi="Mới", name="HTX Thế giới A2"),
    )
    assert response.status_code == 302
    saved = fresh(Cooperative, coop.id)
    assert saved.phone == "0912 000 111" and saved.description_vi == "Mới"
    assert saved.name == "HTX Thế giới A2"
    # Never verified, never public: the address follows the corrected name.
    assert saved.slug == "htx-the-gioi-a2"
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.target_id == coop.id, AuditEntry.action == "cooperative.profile_updated")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.actor_id == world.editor_a.id
    assert entry.before["phone"] == "0900 000 999" and entry.after["phone"] == "0912 000 111"
    assert "Đã lưu hồ sơ." in text(client.get(PROFILE))


def test_verified_identity_is_read_only(client):
    world = make_world()
    coop = world.coop_a
    db.session.execute(
        update(Cooperative).where(Cooperative.id == coop.id).values(tax_code="2300123454")
    )
    db.session.commit()
    sign_in(client, world.owner_a)
    page = client.get(PROFILE)
    raw = body(page)
    assert 'name="name"' not in raw and 'name="tax_code"' not in raw
    assert 'name="legal_form"' not in raw
    assert "liên hệ Liên minh Hợp tác xã tỉnh Bắc Ninh" in text(page)
    assert "2300123454" in raw
    response = post_form(
        client,
        PROFILE,
        profile_data(
            coop,
            name="Tên bị đổi lén",
            tax_code=valid_tax_code(99),
            legal_form="to_hop_tac",
            tax_code_missing_reason="x",
            address_vi="Địa chỉ mới",
        ),
    )
    assert response.status_code == 302
    saved = fresh(Cooperative, coop.id)
    assert saved.name == "HTX Thế giới A" and saved.tax_code == "2300123454"
    assert saved.legal_form.value == "hop_tac_xa" and saved.tax_code_missing_reason is None
    assert saved.address_vi == "Địa chỉ mới"
    assert saved.slug == "htx-the-gioi-a"


def test_tampered_ids_change_nothing_of_another_cooperative(client):
    world = make_world()
    a, b = world.coop_a, world.coop_b
    b_before = row_values(Cooperative, b.id)
    sign_in(client, world.owner_a)
    data = profile_data(a, address_vi="Địa chỉ của A")
    data.update(
        id=str(b.id),
        cooperative_id=str(b.id),
        slug=b.slug,
        status="verified",
        verified_at="2020-01-01",
        status_reason="",
    )
    response = post_form(client, PROFILE, data)
    assert response.status_code == 302
    assert row_values(Cooperative, b.id) == b_before
    a_after = fresh(Cooperative, a.id)
    assert a_after.address_vi == "Địa chỉ của A"
    assert a_after.status == CooperativeStatus.VERIFIED and a_after.slug == "htx-the-gioi-a"
    assert audit_actions(b) == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "123", "Số điện thoại không đúng"),
        ("email", "htx@", "Địa chỉ email không hợp lệ"),
        ("website", "javascript:alert(1)", "http:// hoặc https://"),
        ("address_vi", "x" * 300, "Dài quá"),
        ("member_count", "nhiều", "Hãy nhập một số nguyên"),
        ("description_en", "a\x00b", "ký tự điều khiển"),
    ],
)
def test_bad_profile_input_changes_nothing(client, field, value, message):
    world = make_world()
    coop = world.coop_a
    sign_in(client, world.owner_a)
    before_counts = counts()
    before = row_values(Cooperative, coop.id)
    response = post_form(client, PROFILE, profile_data(coop, **{field: value}))
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert counts() == before_counts
    assert row_values(Cooperative, coop.id) == before


def test_duplicate_tax_code_on_the_profile_is_refused(client):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.PENDING)
    taken = valid_tax_code(31337)
    db.session.execute(
        update(Cooperative).where(Cooperative.id == world.coop_b.id).values(tax_code=taken)
    )
    db.session.commit()
    sign_in(client, world.owner_a)
    response = post_form(client, PROFILE, profile_data(world.coop_a, tax_code=taken))
    assert response.status_code == 422
    assert "đã được một hợp tác xã khác đăng ký" in field_error(response, "tax_code")
    # Its own code is not a duplicate of itself.
    own = valid_tax_code(27182)
    db.session.execute(
        update(Cooperative).where(Cooperative.id == world.coop_a.id).values(tax_code=own)
    )
    db.session.commit()
    assert post_form(client, PROFILE, profile_data(world.coop_a)).status_code == 302


# --------------------------------------------------------------------------- resubmitting


def test_resubmit_sends_a_cooperative_back_to_the_queue(client):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.NEEDS_INFO, reason="Gửi mã số thuế.")
    sign_in(client, world.editor_a)
    response = post_form(client, RESUBMIT, form_url=HOME)
    assert response.status_code == 302
    coop = fresh(Cooperative, world.coop_a.id)
    assert coop.status == CooperativeStatus.PENDING and coop.status_reason is None
    assert audit_actions(coop)[-1] == "cooperative.resubmitted"
    assert "Đã gửi lại hồ sơ" in text(client.get(HOME))


def test_profile_is_saved_and_resubmitted_in_one_go(client):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.NEEDS_INFO, reason="Thêm số Zalo.")
    sign_in(client, world.owner_a)
    page = text(client.get(PROFILE))
    assert "Thêm số Zalo." in page and "Lưu và gửi lại để xác minh" in page
    data = profile_data(world.coop_a, zalo="0987 654 321", resubmit="1")
    response = post_form(client, PROFILE, data)
    assert response.status_code == 302 and response.headers["Location"].endswith(HOME)
    coop = fresh(Cooperative, world.coop_a.id)
    assert coop.zalo == "0987 654 321" and coop.status == CooperativeStatus.PENDING
    assert audit_actions(coop)[-2:] == ["cooperative.profile_updated", "cooperative.resubmitted"]


def test_resubmit_flag_on_a_pending_profile_only_saves(client):
    world = make_world()
    set_status(world.coop_a, CooperativeStatus.PENDING)
    sign_in(client, world.owner_a)
    response = post_form(client, PROFILE, profile_data(world.coop_a, zalo="", resubmit="1"))
    assert response.status_code == 302 and response.headers["Location"].endswith(PROFILE)
    assert audit_actions(world.coop_a)[-1:] != ["cooperative.resubmitted"]
    assert fresh(Cooperative, world.coop_a.id).status == CooperativeStatus.PENDING


@pytest.mark.parametrize("status", [CooperativeStatus.PENDING, CooperativeStatus.VERIFIED])
def test_resubmit_does_nothing_unless_asked_for_more(client, status):
    world = make_world()
    set_status(world.coop_a, status)
    sign_in(client, world.owner_a)
    before = counts()
    response = post_form(client, RESUBMIT, form_url=HOME)
    assert response.status_code == 302
    assert fresh(Cooperative, world.coop_a.id).status == status
    assert counts() == before
    assert "không cần gửi lại" in text(client.get(HOME))


def test_a_member_without_membership_row_is_refused(client):
    from shop.accounts.models import Role

    stray = create_user(Role.MEMBER)
    db.session.commit()
    sign_in(client, stray)
    assert client.get(HOME).status_code == 403
