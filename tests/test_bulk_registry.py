"""The registry import's rules (shop/bulk/registry.py): columns, matching, duplicates, confirm."""

import unicodedata
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.bulk import registry
from shop.bulk.models import BatchKind, BatchStatus, ImportBatch
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    Invitation,
    LegalForm,
    Locality,
    MembershipRole,
    Sector,
)
from shop.cooperatives.rules import tax_check_digit
from shop.extensions import db
from shop.notify.models import OutboxEmail
from tests.factories import create_cooperative, create_user

#: Checksum-valid codes no demo cooperative holds (the demo's start with 99).
CODE = "2300123454"
OTHER_CODE = "2409876544"


@pytest.fixture
def ctx(demo_db):
    """A request context (gettext, url_for) on the demo data, rolled back afterwards."""
    with demo_db.test_request_context("/"):
        yield demo_db


@pytest.fixture
def known(ctx):
    return registry.load_registry([])


def values(**overrides) -> dict:
    base = {
        "name": "Hợp tác xã Rau sạch Nhập Thử",
        "tax_code": CODE,
        "tax_code_missing_reason": "",
        "legal_form": "Hợp tác xã",
        "sector": "Nông nghiệp",
        "locality": "Xã Liên Bão",
        "address_vi": "Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh",
        "founded_year": "2015",
        "member_count": "25",
        "phone": "0912345678",
        "owner_email": "chu.nhiem@example.com",
        "description_vi": "Rau VietGAP.",
    }
    return {**base, **overrides}


def problems(known, formulas=(), **overrides) -> dict[str, list[str]]:
    found, _record = registry.check_row(values(**overrides), list(formulas), known)
    out: dict[str, list[str]] = {}
    for p in found:
        out.setdefault(p.column, []).append(p.message)
    return out


def record_of(known, **overrides) -> dict:
    found, record = registry.check_row(values(**overrides), [], known)
    assert not found, [p.message for p in found]
    return record


def place(slug):
    return db.session.scalar(select(Locality).where(Locality.slug == slug))


def sector(slug):
    return db.session.scalar(select(Sector).where(Sector.slug == slug))


# --------------------------------------------------------------------------- a valid row


def test_a_valid_row_gives_the_cooperative(known):
    record = record_of(known)
    assert record["name"] == "Hợp tác xã Rau sạch Nhập Thử"
    assert record["tax_code"] == CODE
    assert record["tax_code_missing_reason"] is None
    assert record["legal_form"] == LegalForm.COOPERATIVE
    assert record["sector_id"] == sector("nong-nghiep").id
    assert record["locality_id"] == place("xa-lien-bao").id
    assert record["founded_year"] == 2015
    assert record["member_count"] == 25
    assert record["phone"] == "0912 345 678"
    assert record["owner_email"] == "chu.nhiem@example.com"


def test_optional_cells_may_be_empty(known):
    record = record_of(
        known,
        address_vi="",
        founded_year="",
        member_count="",
        phone="",
        owner_email="",
        description_vi="",
        legal_form="",
    )
    assert record["legal_form"] == LegalForm.COOPERATIVE
    assert record["founded_year"] is None and record["phone"] is None
    assert record["owner_email"] is None


# --------------------------------------------------------------------------- name


def test_name_is_required(known):
    assert problems(known, name="")["name"] == ["Hãy nhập tên hợp tác xã."]


def test_name_length(known):
    assert "tối đa 255 ký tự" in problems(known, name="H" * 256)["name"][0]
    assert "name" not in problems(known, name="H" * 255)


def test_control_characters_are_refused(known):
    assert "ký tự điều khiển" in problems(known, name="HTX\x00 Sen")["name"][0]


def test_the_templates_example_row_is_refused(known):
    found = problems(known, name=registry.EXAMPLE["name"])
    assert "dòng ví dụ" in found["name"][0]


# --------------------------------------------------------------------------- tax code


@pytest.mark.parametrize("written", ["2300123454", "2300 123 454", "2300.123.454", " 23001 23454 "])
def test_tax_code_spaces_and_dots_are_removed(known, written):
    assert record_of(known, tax_code=written)["tax_code"] == CODE


@pytest.mark.parametrize("code", ["2300123454-001", "0100109106", "2409876544"])
def test_valid_tax_codes(known, code):
    assert record_of(known, tax_code=code)["tax_code"] == code


def test_wrong_check_digit(known):
    wrong = CODE[:9] + str((int(CODE[9]) + 1) % 10)
    message = problems(known, tax_code=wrong)["tax_code"][0]
    assert message == (
        f"Mã số thuế {wrong} không đúng: chữ số kiểm tra không khớp. "
        "Hãy xem lại giấy chứng nhận đăng ký."
    )


def test_prefix_without_a_valid_code(known):
    prefix = next(
        f"2300000{i:02d}" for i in range(1, 100) if tax_check_digit(f"2300000{i:02d}") is None
    )
    assert "chữ số kiểm tra" in problems(known, tax_code=prefix + "1")["tax_code"][0]


@pytest.mark.parametrize("code", ["123", "23001234545", "23OO123454", "2300123454-01"])
def test_tax_code_shape(known, code):
    assert "10 chữ số" in problems(known, tax_code=code)["tax_code"][0]


@pytest.mark.parametrize("code", ["2300000000", CODE + "-000"])
def test_zero_digits_and_branch_000_are_refused(known, code):
    assert "tax_code" in problems(known, tax_code=code)


def test_a_leading_zero_dropped_by_excel_is_pointed_out(known):
    message = problems(known, tax_code="100109106")["tax_code"][0]
    assert "0100109106" in message and "bỏ số 0" in message


def test_empty_tax_code_needs_a_reason_unless_a_group(known):
    assert "Lý do chưa có mã số thuế" in problems(known, tax_code="")["tax_code"][0]
    record = record_of(known, tax_code="", tax_code_missing_reason="HTX chưa được cấp mã")
    assert record["tax_code"] is None
    assert record["tax_code_missing_reason"] == "HTX chưa được cấp mã"
    group = record_of(known, tax_code="", legal_form="Tổ hợp tác")
    assert group["tax_code"] is None and group["legal_form"] == LegalForm.GROUP


def test_a_reason_is_dropped_when_there_is_a_code(known):
    assert record_of(known, tax_code_missing_reason="cũ")["tax_code_missing_reason"] is None


def test_a_tax_code_already_in_the_database_names_the_cooperative(known):
    existing = db.session.scalar(
        select(Cooperative).where(Cooperative.tax_code.is_not(None)).order_by(Cooperative.id)
    )
    found, _record = registry.check_row(values(tax_code=existing.tax_code), [], known)
    [problem] = found
    assert problem.column == "tax_code"
    assert problem.message == f"Mã số thuế {existing.tax_code} đã có:"
    assert problem.cooperative == (existing.id, existing.name)


# ------------------------------------------------------------------ sector, commune, legal form


@pytest.mark.parametrize(
    "written, slug",
    [
        ("Nông nghiệp", "nong-nghiep"),
        ("nong nghiep", "nong-nghiep"),
        ("NÔNG NGHIỆP", "nong-nghiep"),
        ("Agriculture", "nong-nghiep"),
        ("quỹ tín dụng", "quy-tin-dung-nhan-dan"),
        ("Tiểu thủ công nghiệp", "tieu-thu-cong-nghiep"),
        ("xay dung", "xay-dung"),
    ],
)
def test_sector_by_folded_name(known, written, slug):
    assert record_of(known, sector=written)["sector_id"] == sector(slug).id


def test_unknown_sector_lists_the_valid_ones(known):
    message = problems(known, sector="Du lịch")["sector"][0]
    assert message.startswith("Không có lĩnh vực “Du lịch”")
    assert "Nông nghiệp" in message and "Quỹ tín dụng nhân dân" in message


def test_ambiguous_sector_lists_the_candidates(known):
    message = problems(known, sector="nghiệp")["sector"][0]
    assert "khớp với nhiều mục" in message
    assert "Nông nghiệp" in message and "Tiểu thủ công nghiệp" in message


@pytest.mark.parametrize(
    "written",
    [
        "Phường Từ Sơn",
        "tu son",
        "TỪ SƠN",
        "P. Từ Sơn",
        "phuong tu son",
        "Từ Sơn, tỉnh Bắc Ninh",
        unicodedata.normalize("NFD", "Phường Từ Sơn"),
    ],
)
def test_commune_by_folded_name_with_or_without_its_prefix(known, written):
    assert record_of(known, locality=written)["locality_id"] == place("phuong-tu-son").id


def test_commune_of_the_other_kind_still_matches_by_its_name(known):
    # Written as a commune (xã) but it is a ward since 2025: the name alone is enough.
    assert record_of(known, locality="Xã Phù Khê")["locality_id"] == place("phuong-phu-khe").id


def test_ambiguous_commune_lists_the_candidates(known):
    message = problems(known, locality="Sơn")["locality"][0]
    assert "khớp với nhiều mục" in message
    for name in ("Phường Nam Sơn", "Phường Tam Sơn", "Phường Từ Sơn"):
        assert name in message


def test_a_pre_2025_commune_names_the_unit_it_joined(known):
    message = problems(known, locality="Phường Đình Bảng")["locality"][0]
    assert "trước ngày 1/7/2025" in message and "Phường Từ Sơn" in message


def test_unknown_commune(known):
    message = problems(known, locality="Xã Lâm Thao Phú Thọ")["locality"][0]
    assert "Không tìm thấy xã/phường" in message


def test_a_commune_of_another_province_is_refused(known):
    # Xã Lâm Thao exists in Phú Thọ too (domain notes): the province written decides.
    message = problems(known, locality="Xã Lâm Thao, tỉnh Phú Thọ")["locality"][0]
    assert "không thuộc tỉnh Bắc Ninh" in message
    assert record_of(known, locality="Xã Lâm Thao, tỉnh Bắc Ninh")["locality_id"] == (
        place("xa-lam-thao").id
    )


@pytest.mark.parametrize(
    "written, form",
    [
        ("HTX", LegalForm.COOPERATIVE),
        ("hop tac xa", LegalForm.COOPERATIVE),
        ("Liên hiệp HTX", LegalForm.UNION),
        ("Liên hiệp hợp tác xã", LegalForm.UNION),
        ("tổ hợp tác", LegalForm.GROUP),
        ("QTDND", LegalForm.CREDIT_FUND),
        ("Quỹ tín dụng nhân dân", LegalForm.CREDIT_FUND),
    ],
)
def test_legal_form_by_name(known, written, form):
    assert record_of(known, legal_form=written)["legal_form"] == form


def test_unknown_legal_form(known):
    assert "Không rõ loại hình" in problems(known, legal_form="Công ty")["legal_form"][0]


def test_a_credit_fund_sector_defaults_to_a_credit_fund(known):
    record = record_of(known, legal_form="", sector="Quỹ tín dụng nhân dân")
    assert record["legal_form"] == LegalForm.CREDIT_FUND


# --------------------------------------------------------------------------- numbers and contacts


@pytest.mark.parametrize(
    "year, ok", [("1949", False), ("1950", True), ("2026", True), ("2027", False)]
)
def test_founded_year_range(known, year, ok):
    # TestConfig pins today to 2026-11-26.
    assert ("founded_year" not in problems(known, founded_year=year)) is ok


def test_founded_year_must_be_a_number(known):
    assert problems(known, founded_year="năm 2015")["founded_year"] == [
        "Hãy nhập một số nguyên, ví dụ 25."
    ]


@pytest.mark.parametrize("count, expected", [("1", 1), ("1.200", 1200), ("95 035", 95035)])
def test_member_count(known, count, expected):
    assert record_of(known, member_count=count)["member_count"] == expected


@pytest.mark.parametrize("count", ["0", "-3", "ba mươi", "2000000"])
def test_member_count_must_be_at_least_one(known, count):
    assert "member_count" in problems(known, member_count=count)


def test_phone(known):
    assert record_of(known, phone="+84 222 3812 345")["phone"] == "0222 3812 345"
    assert "Số điện thoại không đúng" in problems(known, phone="12345")["phone"][0]


def test_email_format(known):
    assert "email không hợp lệ" in problems(known, owner_email="khong-phai-email")["owner_email"][0]
    assert record_of(known, owner_email="Chu.Nhiem@Example.COM")["owner_email"] == (
        "chu.nhiem@example.com"
    )


def test_email_of_staff_or_of_a_member_elsewhere_is_refused(ctx):
    staff = create_user(Role.STAFF)
    member = create_user(cooperative=create_cooperative())
    rows = [{"values": {"owner_email": staff.email}}, {"values": {"owner_email": member.email}}]
    known = registry.load_registry(rows)
    assert "tài khoản cán bộ" in problems(known, owner_email=staff.email)["owner_email"][0]
    assert "đã quản lý" in problems(known, owner_email=member.email)["owner_email"][0]


def test_a_formula_cell_is_an_error_and_never_read(known):
    found = problems(known, formulas=["tax_code"], tax_code="=2300123454")
    assert found["tax_code"] == ["Ô “Mã số thuế” là công thức (=2300123454); hãy nhập giá trị."]


# --------------------------------------------------------------------------- duplicates


def sheet(*rows):
    """Batch rows from sheet line 2 on; "_skip": True leaves a row out."""
    out = []
    for n, row in enumerate(rows, start=2):
        row = dict(row)
        skip = row.pop("_skip", False)
        out.append({"line": n, "values": values(**row), "skip": skip, "formulas": []})
    return out


def by_line(checked):
    return {c.line: [(p.column, p.message) for p in c.problems] for c in checked}


def test_the_same_tax_code_twice_in_the_sheet(known):
    rows = sheet(
        {"name": "HTX Một", "owner_email": ""},
        {"name": "HTX Hai", "tax_code": "2300.123.454", "owner_email": ""},
        {"name": "HTX Ba", "tax_code": OTHER_CODE, "owner_email": ""},
    )
    found = by_line(registry.check_rows(rows, known))
    assert found[2] == [("tax_code", "Mã số thuế trùng với dòng 3 của tệp.")]
    assert found[3] == [("tax_code", "Mã số thuế trùng với dòng 2 của tệp.")]
    assert found[4] == []


def test_a_row_left_out_is_no_duplicate(known):
    rows = sheet(
        {"name": "HTX Một", "owner_email": ""},
        {"name": "HTX Hai", "owner_email": "", "_skip": True},
    )
    checked = registry.check_rows(rows, known)
    assert by_line(checked)[2] == []


def test_the_same_folded_name_in_the_same_commune_twice(known):
    rows = sheet(
        {"name": "HTX Hòa Sen", "owner_email": ""},
        {"name": "htx hoa sen", "tax_code": OTHER_CODE, "locality": "lien bao", "owner_email": ""},
        {
            "name": "HTX Hoa Sen",
            "tax_code": "",
            "legal_form": "THT",
            "locality": "Từ Sơn",
            "owner_email": "",
        },
    )
    found = by_line(registry.check_rows(rows, known))
    assert found[2] == [("name", "Cùng tên, cùng xã/phường với dòng 3 của tệp.")]
    assert found[3] == [("name", "Cùng tên, cùng xã/phường với dòng 2 của tệp.")]
    assert found[4] == []


def test_a_name_already_in_the_commune_names_the_cooperative(known):
    existing = db.session.scalar(select(Cooperative).order_by(Cooperative.id))
    locality = db.session.get(Locality, existing.locality_id)
    found, _record = registry.check_row(
        values(name=existing.name.upper(), locality=locality.short_name), [], known
    )
    [problem] = found
    assert problem.column == "name"
    assert problem.message == f"{locality.name_vi} đã có hợp tác xã cùng tên:"
    assert problem.cooperative == (existing.id, existing.name)


def test_the_same_representative_email_twice(known):
    rows = sheet({"name": "HTX Một"}, {"name": "HTX Hai", "tax_code": OTHER_CODE})
    found = by_line(registry.check_rows(rows, known))
    assert found[2] == [
        ("owner_email", "Email này cũng ở dòng 3; mỗi người chỉ quản lý một hợp tác xã.")
    ]


def test_preview_order_puts_rows_to_fix_first(known):
    rows = sheet(
        {"name": "HTX Một", "owner_email": ""},
        {"name": "", "tax_code": "", "legal_form": "THT", "owner_email": ""},
        {"name": "HTX Ba", "tax_code": OTHER_CODE, "owner_email": "", "_skip": True},
    )
    ordered = registry.preview_order(registry.check_rows(rows, known))
    assert [c.line for c in ordered] == [3, 2, 4]


# --------------------------------------------------------------------------- confirm


def make_batch(actor, rows) -> ImportBatch:
    batch = ImportBatch(
        kind=BatchKind.COOPERATIVES, created_by_id=actor.id, file_name="dang-ky.xlsx", rows=rows
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_confirm_creates_verified_cooperatives_with_invitations(ctx):
    staff = create_user(Role.STAFF)
    rows = sheet(
        {"name": "HTX Rau Một", "owner_email": "mot@example.com"},
        {"name": "HTX Rau Hai", "tax_code": OTHER_CODE, "owner_email": ""},
        {"name": "", "_skip": True},
    )
    batch = make_batch(staff, rows)
    audits, emails = count(AuditEntry), count(OutboxEmail)
    created = registry.confirm(batch, staff)
    assert [c.name for c in created] == ["HTX Rau Một", "HTX Rau Hai"]
    for coop in created:
        assert coop.status == CooperativeStatus.VERIFIED and coop.verified_at is not None
        assert coop.slug.startswith("htx-rau-")
    assert batch.status == BatchStatus.DONE and batch.created_ids == [c.id for c in created]
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.cooperative_id == created[0].id)
    )
    assert invitation.email == "mot@example.com" and invitation.role == MembershipRole.OWNER
    assert db.session.scalar(select(OutboxEmail.to_address).order_by(OutboxEmail.id.desc())) == (
        "mot@example.com"
    )
    assert count(OutboxEmail) == emails + 1
    # One "created" entry per cooperative, one for the invitation.
    assert count(AuditEntry) == audits + 3
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == created[1].id,
            AuditEntry.action == "cooperative.created_by_staff",
        )
    )
    assert entry.actor_id == staff.id and entry.after["import_batch_id"] == batch.id


def test_confirm_twice_writes_once(ctx):
    staff = create_user(Role.STAFF)
    batch = make_batch(staff, sheet({"name": "HTX Một Lần", "owner_email": ""}))
    registry.confirm(batch, staff)
    before = count(Cooperative)
    with pytest.raises(registry.ConfirmRefused) as refused:
        registry.confirm(batch, staff)
    assert refused.value.reason == "not_preview"
    assert count(Cooperative) == before


def test_confirm_refuses_rows_with_errors(ctx):
    staff = create_user(Role.STAFF)
    batch = make_batch(
        staff,
        sheet(
            {"name": "HTX Tốt", "owner_email": ""},
            {"name": "", "tax_code": OTHER_CODE, "owner_email": ""},
        ),
    )
    with pytest.raises(registry.ConfirmRefused) as refused:
        registry.confirm(batch, staff)
    assert refused.value.reason == "errors" and refused.value.count == 1


def test_only_staff_confirm(ctx):
    from shop.cooperatives.services import NotAllowed

    buyer = create_user(Role.BUYER)
    batch = make_batch(buyer, sheet({"name": "HTX Không", "owner_email": ""}))
    with pytest.raises(NotAllowed):
        registry.confirm(batch, buyer)


@contextmanager
def a_colleague_saves(tax_code: str, beside: Cooperative, before: str | None = None):
    """Inside: a cooperative with `tax_code` (in `beside`'s sector and commune) lands just
    before this session inserts its first cooperative (or the one named `before`), once,
    between the import's check and its insert. Yields the names it landed before."""
    raced = []

    def another_writer(mapper, connection, target):
        if raced or (before is not None and target.name != before):
            return
        raced.append(target.name)
        connection.execute(
            insert(Cooperative.__table__).values(
                slug="htx-vua-tao",
                name="HTX Vừa tạo",
                legal_form=LegalForm.COOPERATIVE.value,
                sector_id=beside.sector_id,
                locality_id=beside.locality_id,
                address_vi="",
                description_vi="",
                tax_code=tax_code,
                tax_code_is_demo=False,
                is_demo=False,
                status=CooperativeStatus.VERIFIED.value,
            )
        )

    event.listen(Cooperative, "before_insert", another_writer)
    try:
        yield raced
    finally:
        event.remove(Cooperative, "before_insert", another_writer)


def test_a_tax_code_inserted_meanwhile_breaks_the_unique_constraint(ctx):
    staff = create_user(Role.STAFF)
    batch = make_batch(staff, sheet({"name": "HTX Chạy Đua", "owner_email": ""}))
    other = create_cooperative(name="HTX Khác")
    with a_colleague_saves(CODE, beside=other) as raced, pytest.raises(IntegrityError):
        registry.confirm(batch, staff)
    assert raced == ["HTX Chạy Đua"]
    db.session.rollback()


def test_slugs_are_unique_among_cooperatives_and_rows(ctx):
    staff = create_user(Role.STAFF)
    existing = db.session.scalar(select(Cooperative).order_by(Cooperative.id))
    elsewhere = "Xã Phù Lãng" if existing.locality_id != place("xa-phu-lang").id else "Xã Chi Lăng"
    batch = make_batch(
        staff,
        sheet(
            {"name": existing.name, "locality": elsewhere, "owner_email": ""},
            {"name": "HTX Hòa Sen", "tax_code": OTHER_CODE, "owner_email": ""},
            {
                "name": "HTX Hoa Sen",
                "tax_code": "",
                "legal_form": "Tổ hợp tác",
                "locality": "Phường Từ Sơn",
                "owner_email": "",
            },
        ),
    )
    created = registry.confirm(batch, staff)
    assert created[0].slug == existing.slug + "-2"
    assert [c.slug for c in created[1:]] == ["htx-hoa-sen", "htx-hoa-sen-2"]
