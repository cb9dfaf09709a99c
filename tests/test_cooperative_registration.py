"""Registering a cooperative (/tai-khoan/dang-ky-htx): the form, its rules, what it writes."""

import unicodedata

import pytest
from sqlalchemy import select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    LegalForm,
    Locality,
    Membership,
    MembershipRole,
)
from shop.cooperatives.services import unique_slug
from shop.extensions import db
from tests.factories import create_cooperative, create_user
from tests.helpers import post_form, sign_in
from tests.test_cooperative_support import (
    body,
    counts,
    field_error,
    form_data,
    fresh,
    get,
    make_world,
    text,
    valid_tax_code,
    wrong_check_digit,
)

URL = "/tai-khoan/dang-ky-htx"


@pytest.fixture
def buyer(client):
    user = create_user(Role.BUYER, email="nguoi-dang-ky@example.com")
    db.session.commit()
    sign_in(client, user)
    return user


def register(client, **overrides):
    return post_form(client, URL, form_data(**overrides))


def new_cooperative(user) -> Cooperative | None:
    return db.session.scalar(
        select(Cooperative)
        .join(Membership, Membership.cooperative_id == Cooperative.id)
        .where(Membership.user_id == user.id)
        .execution_options(populate_existing=True)
    )


# --------------------------------------------------------------------------- the page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_form_has_labelled_fields_with_examples(client, buyer, lang):
    response = get(client, URL, lang)
    assert response.status_code == 200
    page = body(response)
    assert f'<html lang="{lang}">' in page
    for field in (
        "name",
        "tax_code",
        "tax_code_missing_reason",
        "sector_id",
        "locality_id",
        "address_vi",
        "founded_year",
        "member_count",
        "description_vi",
        "phone",
        "zalo",
        "email",
        "website",
    ):
        assert f'<label for="{field}">' in page, field
    for value in ("hop_tac_xa", "lien_hiep_hop_tac_xa", "to_hop_tac", "quy_tin_dung_nhan_dan"):
        assert f'value="{value}"' in page
    assert page.count('name="locality_id"') == 1
    localities = db.session.scalars(select(Locality)).all()
    assert len(localities) == 41
    for locality in localities:
        assert f'<option value="{locality.id}"' in page
    assert '<button type="submit" class="button button-primary">' in page
    if lang == "vi":
        assert "Mã số thuế (10 số, ví dụ 2300123454)" in page
        assert "Tổ hợp tác" in page and "Quỹ tín dụng nhân dân" in page
        assert "Gửi đăng ký" in page


# --------------------------------------------------------------------------- success


def test_registration_creates_a_pending_cooperative_owned_by_the_user(client, buyer):
    before = counts()
    response = register(client, tax_code="2300 123.454")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/quan-ly-htx/")

    coop = new_cooperative(buyer)
    assert coop.status == CooperativeStatus.PENDING
    assert coop.slug == "hop-tac-xa-nong-nghiep-hoa-sen"
    assert coop.tax_code == "2300123454"
    assert coop.legal_form == LegalForm.COOPERATIVE
    assert coop.phone == "0912 345 678"
    assert coop.founded_year == 2015 and coop.member_count == 74
    assert coop.verified_at is None
    link = db.session.scalar(select(Membership).where(Membership.user_id == buyer.id))
    assert link.role == MembershipRole.OWNER
    assert fresh(type(buyer), buyer.id).role == Role.MEMBER
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_type == "cooperative", AuditEntry.target_id == coop.id
        )
    )
    assert entry.action == "cooperative.registered" and entry.actor_id == buyer.id
    assert entry.after["status"] == "pending" and entry.after["tax_code"] == "2300123454"
    after = counts()
    assert after["Cooperative"] == before["Cooperative"] + 1
    assert after["Membership"] == before["Membership"] + 1

    dashboard = text(client.get("/quan-ly-htx/"))
    assert "Đã nhận hồ sơ đăng ký" in dashboard
    assert "đang chờ xác minh" in dashboard.lower()
    assert "chưa đăng bán được" in dashboard
    assert "chưa hiện trên các trang công khai" in dashboard
    # Not public until verified.
    assert client.get(f"/htx/{coop.slug}").status_code == 404
    assert "Hoa Sen" not in text(client.get("/htx"))


def test_branch_tax_code_is_accepted(client, buyer):
    response = register(client, tax_code=valid_tax_code(7654321) + "-001")
    assert response.status_code == 302
    assert new_cooperative(buyer).tax_code.endswith("-001")


def test_cooperative_group_may_leave_the_tax_code_empty(client, buyer):
    response = register(client, legal_form="to_hop_tac", tax_code="", name="Tổ hợp tác Dưa lưới")
    assert response.status_code == 302
    coop = new_cooperative(buyer)
    assert coop.tax_code is None and coop.legal_form == LegalForm.GROUP


def test_a_reason_allows_an_empty_tax_code(client, buyer):
    reason = "HTX mới thành lập, đang chờ cấp mã"
    response = register(client, tax_code="", tax_code_missing_reason=reason)
    assert response.status_code == 302
    coop = new_cooperative(buyer)
    assert coop.tax_code is None and coop.tax_code_missing_reason == reason


def test_reason_is_dropped_when_a_tax_code_is_given(client, buyer):
    register(client, tax_code_missing_reason="không cần")
    assert new_cooperative(buyer).tax_code_missing_reason is None


def test_similar_names_get_distinct_slugs(client, buyer):
    assert register(client, name="HTX Hoa Sen", tax_code=valid_tax_code(1)).status_code == 302
    second = create_user(Role.BUYER)
    db.session.commit()
    sign_in(client, second)
    assert register(client, name="HTX Hòa Sen", tax_code=valid_tax_code(50)).status_code == 302
    assert new_cooperative(buyer).slug == "htx-hoa-sen"
    assert new_cooperative(second).slug == "htx-hoa-sen-2"


def test_unique_slug_counts_up_past_taken_suffixes(demo_db):
    create_cooperative(name="HTX Sen", slug="htx-sen")
    create_cooperative(name="HTX Sen 2", slug="htx-sen-2")
    create_cooperative(name="HTX Sen Vàng", slug="htx-sen-vang")
    assert unique_slug("HTX Sen") == "htx-sen-3"
    assert unique_slug("HTX Sen Vàng") == "htx-sen-vang-2"
    assert unique_slug("HTX Đồng Kỵ") == "htx-dong-ky"
    assert unique_slug("🌾🌾") == "x"


def test_text_is_stored_nfc_and_shown_literally(client, buyer):
    name = "HTX <b>Hoa</b> {{ 7*7 }} {% if true %}x{% endif %} 🌾"
    decomposed = unicodedata.normalize("NFD", "Thôn Đông, xã Liên Bão")
    response = register(client, name=name, address_vi=decomposed, description_vi="Rau 🥬 sạch")
    assert response.status_code == 302
    coop = new_cooperative(buyer)
    assert coop.name == name
    assert coop.address_vi == "Thôn Đông, xã Liên Bão"
    assert unicodedata.is_normalized("NFC", coop.address_vi)
    assert coop.description_vi == "Rau 🥬 sạch"
    for url in ("/quan-ly-htx/", "/quan-ly-htx/ho-so"):
        raw = client.get(url).get_data(as_text=True)
        assert "<b>Hoa</b>" not in raw
        # Escaped, and the template syntax is text, never evaluated ("49", "x").
        assert "HTX &lt;b&gt;Hoa&lt;/b&gt; {{ 7*7 }} {% if true %}x{% endif %} 🌾" in raw
        assert "🌾" in raw


# --------------------------------------------------------------------------- bad input

BAD_INPUT = [
    ("name", "", "name", "Hãy nhập tên hợp tác xã."),
    ("name", "H" * 256, "name", "Dài quá: tối đa 255 ký tự"),
    ("name", "HTX\x00Sen", "name", "ký tự điều khiển"),
    ("tax_code", "12345", "tax_code", "Mã số thuế gồm 10 chữ số"),
    ("tax_code", "23001234AB", "tax_code", "Mã số thuế gồm 10 chữ số"),
    ("tax_code", wrong_check_digit("2300123454"), "tax_code", "chữ số kiểm tra không khớp"),
    ("tax_code", "", "tax_code", "hoặc ghi lý do chưa có mã"),
    ("phone", "12345", "phone", "Số điện thoại không đúng"),
    ("phone", "", "phone", "Hãy nhập số điện thoại"),
    ("zalo", "zalo của tôi", "zalo", "Số điện thoại không đúng"),
    ("email", "khong-phai-email", "email", "Địa chỉ email không hợp lệ"),
    ("email", "a@b", "email", "Địa chỉ email không hợp lệ"),
    ("website", "javascript:alert(1)", "website", "http:// hoặc https://"),
    ("website", "ftp://htx.vn", "website", "http:// hoặc https://"),
    ("founded_year", "năm ngoái", "founded_year", "Hãy nhập một số nguyên"),
    ("founded_year", "1800", "founded_year", "Hãy nhập một số từ 1900 đến 2026"),
    ("founded_year", "2030", "founded_year", "Hãy nhập một số từ 1900 đến 2026"),
    ("member_count", "-5", "member_count", "Hãy nhập một số nguyên"),
    ("member_count", "0", "member_count", "Hãy nhập một số từ 1"),
    ("sector_id", "999999", "sector_id", "Lựa chọn không hợp lệ"),
    ("sector_id", "abc", "sector_id", "Lựa chọn không hợp lệ"),
    ("locality_id", "", "locality_id", "Hãy chọn xã hoặc phường"),
    ("legal_form", "cong_ty", "legal_form", "Lựa chọn không hợp lệ"),
    ("legal_form", "", "legal_form", "Hãy chọn loại hình"),
    ("address_vi", "", "address_vi", "Hãy nhập địa chỉ trụ sở."),
    ("description_vi", "Rau. " * 1001, "description_vi", "Dài quá: tối đa 5000 ký tự"),
    ("tax_code_missing_reason", "x" * 501, "tax_code_missing_reason", "tối đa 500 ký tự"),
    ("name_en", "N" * 256, "name_en", "Dài quá"),
]


@pytest.mark.parametrize(
    "field, value, error_id, message",
    BAD_INPUT,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_INPUT)],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(
    client, buyer, field, value, error_id, message
):
    before = counts()
    response = register(client, **{field: value})
    assert response.status_code == 422
    assert message in field_error(response, error_id)
    page = body(response)
    assert "Chưa lưu được" in page
    # Nothing typed is lost: the other answers are still in the form.
    assert 'value="Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh"' in page or field == "address_vi"
    assert "Trồng rau an toàn theo VietGAP." in page or field == "description_vi"
    assert counts() == before
    assert fresh(type(buyer), buyer.id).role == Role.BUYER


def test_failed_submit_keeps_a_bad_number_as_typed(client, buyer):
    response = register(client, founded_year="hai nghìn", tax_code="12")
    page = body(response)
    assert 'value="hai nghìn"' in page and 'value="12"' in page


def test_duplicate_tax_code_is_refused_with_a_clear_message(client, buyer):
    existing = db.session.scalar(select(Cooperative).where(Cooperative.tax_code.is_not(None)))
    spaced = f"{existing.tax_code[:4]} {existing.tax_code[4:7]}.{existing.tax_code[7:]}"
    before = counts()
    response = register(client, tax_code=spaced)
    assert response.status_code == 422
    message = field_error(response, "tax_code")
    assert f"Mã số thuế {existing.tax_code} đã được một hợp tác xã khác đăng ký" in message
    assert counts() == before


def test_missing_csrf_token_writes_nothing(client, buyer):
    before = counts()
    response = client.post(URL, data=form_data())
    assert response.status_code == 400
    assert counts() == before


# --------------------------------------------------------------------------- who may register


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/tai-khoan/dang-nhap?next=" in response.headers["Location"]


@pytest.mark.parametrize("who", ["owner_a", "editor_a"])
def test_members_are_told_they_already_run_a_cooperative(client, who):
    world = make_world()
    sign_in(client, getattr(world, who))
    response = get(client, URL)
    assert response.status_code == 200
    page = text(response)
    assert "đã thuộc nhóm quản lý của HTX Thế giới A" in page
    assert 'name="tax_code"' not in body(response)
    before = counts()
    refused = post_form(client, URL, form_data(), form_url="/quan-ly-htx/ho-so")
    assert refused.status_code == 409
    assert counts() == before


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_staff_are_pointed_to_the_console(client, who):
    world = make_world()
    sign_in(client, getattr(world, who))
    response = get(client, URL)
    assert response.status_code == 200
    assert "Tài khoản cán bộ Liên minh HTX không đăng ký" in text(response)
    assert 'href="/quan-tri/htx/moi"' in body(response)
    before = counts()
    refused = post_form(client, URL, form_data(), form_url="/quan-tri/htx/moi")
    assert refused.status_code == 409
    assert counts() == before


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_refusal_page_in_both_languages(client, lang):
    world = make_world()
    sign_in(client, world.owner_a)
    response = get(client, URL, lang)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in body(response)
    assert 'href="/quan-ly-htx/"' in body(response)
