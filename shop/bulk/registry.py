"""The alliance's registry of cooperatives, imported from its spreadsheet by staff.

Columns and the template, the rules a row must pass, duplicate detection (in the sheet and
against the database) and the confirming write. Rows are kept in ImportBatch.rows between the
preview and the confirmation, as {"line", "values": {key: text}, "skip", "formulas": [key]};
their problems are worked out again each time they are shown, never stored.

Choices made here:
- An empty tax code is allowed for a tổ hợp tác; any other row without one must say why in the
  column "Lý do chưa có mã số thuế" (the same rule as the registration form).
- A row whose name (folded) is already used in the same commune, in the sheet or in the
  database, is an error with no "import anyway": two cooperatives of one name in one commune
  are one cooperative entered twice far more often than two, and a real second one can be
  told apart by its full registered name. The staff member corrects the row or leaves it out.
- A commune written with its pre-2025 name is not guessed: the error names the unit it was
  merged into.
"""

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select, update

from shop import clock
from shop.accounts.models import Role, User
from shop.audit.services import record
from shop.bulk.models import BatchKind, BatchStatus, ImportBatch
from shop.bulk.sheets import read_table
from shop.cooperatives import services as cooperative_services
from shop.cooperatives.forms import email_error, format_phone, normalize_email
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    LegalForm,
    Locality,
    Membership,
    MembershipRole,
    Sector,
)
from shop.cooperatives.rules import normalize_phone, normalize_tax_code, tax_code_error
from shop.db import utcnow
from shop.extensions import db
from shop.text.folding import fold_words, nfc, slugify

FIRST_YEAR = 1950
MAX_MEMBERS = 1_000_000
_TAX_SHAPE = re.compile(r"^\d{10}(-\d{3})?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Column:
    key: str
    #: The header written in the template (the alliance's sheet is Vietnamese).
    header: str
    #: The column's name on the pages, in the reader's language.
    label: object
    #: Other headers accepted for this column (compared folded, '*' ignored).
    aliases: tuple[str, ...] = ()
    required: bool = False
    #: Longest text accepted.
    limit: int = 255
    multiline: bool = False


COLUMNS = (
    Column(
        "name",
        "Tên HTX*",
        _l("Tên HTX"),
        ("Tên HTX", "Tên hợp tác xã", "Tên", "Name"),
        required=True,
    ),
    Column("tax_code", "Mã số thuế", _l("Mã số thuế"), ("MST", "Tax code"), limit=40),
    Column(
        "tax_code_missing_reason",
        "Lý do chưa có mã số thuế",
        _l("Lý do chưa có mã số thuế"),
        ("Lý do chưa có MST", "Lý do không có mã số thuế"),
        limit=500,
        multiline=True,
    ),
    Column("legal_form", "Loại hình", _l("Loại hình"), ("Loại hình tổ chức", "Legal form")),
    Column(
        "sector",
        "Lĩnh vực*",
        _l("Lĩnh vực"),
        ("Lĩnh vực", "Lĩnh vực chính", "Sector"),
        required=True,
    ),
    Column(
        "locality",
        "Xã/phường*",
        _l("Xã/phường"),
        ("Xã/phường", "Xã, phường", "Xã phường", "Xã / phường", "Commune/ward", "Commune"),
        required=True,
    ),
    Column("address_vi", "Địa chỉ", _l("Địa chỉ"), ("Địa chỉ trụ sở", "Address")),
    Column("founded_year", "Năm thành lập", _l("Năm thành lập"), ("Founded",), limit=40),
    Column("member_count", "Số thành viên", _l("Số thành viên"), ("Members",), limit=40),
    Column("phone", "Điện thoại", _l("Điện thoại"), ("Số điện thoại", "Phone"), limit=40),
    Column(
        "owner_email",
        "Email người đại diện",
        _l("Email người đại diện"),
        ("Email", "Email người quản lý", "Representative email"),
        limit=254,
    ),
    Column(
        "description_vi",
        "Mô tả",
        _l("Mô tả"),
        ("Giới thiệu", "Description"),
        limit=5000,
        multiline=True,
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
KEYS = tuple(c.key for c in COLUMNS)

#: The template's example row. Uploaded unchanged, it is refused (it is not a real cooperative).
EXAMPLE = {
    "name": "Hợp tác xã Nông nghiệp Ví Dụ Mẫu",
    "tax_code": "",
    "tax_code_missing_reason": "HTX mới thành lập, đang chờ cấp mã",
    "legal_form": "Hợp tác xã",
    "sector": "Nông nghiệp",
    "locality": "Xã Liên Bão",
    "address_vi": "Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh",
    "founded_year": "2015",
    "member_count": "25",
    "phone": "0912 345 678",
    "owner_email": "htx.vidumau@gmail.com",
    "description_vi": "Trồng rau an toàn theo VietGAP.",
}

#: Names of the legal forms, folded, as the alliance's sheets write them.
LEGAL_FORM_NAMES = {
    LegalForm.COOPERATIVE: ("Hợp tác xã", "HTX", "Cooperative"),
    LegalForm.UNION: (
        "Liên hiệp hợp tác xã",
        "Liên hiệp HTX",
        "LHHTX",
        "Union of cooperatives",
        "Cooperative union",
    ),
    LegalForm.GROUP: ("Tổ hợp tác", "THT", "Cooperative group"),
    LegalForm.CREDIT_FUND: (
        "Quỹ tín dụng nhân dân",
        "Quỹ tín dụng",
        "QTDND",
        "People's credit fund",
    ),
}
CREDIT_FUND_SECTOR = "quy-tin-dung-nhan-dan"


#: fold() with punctuation as spaces and spaces collapsed: "Xã/Phường" → "xa phuong".
folded = fold_words


# --------------------------------------------------------------------------- the template


def template_rows() -> tuple[list[str], list[str]]:
    """The header and the example row of the template."""
    return [c.header for c in COLUMNS], [EXAMPLE[c.key] for c in COLUMNS]


def template_xlsx(sectors, localities) -> bytes:
    """Sheet 1: the columns and the example row; sheet 2: the valid names for three columns."""
    header, example = template_rows()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách HTX"
    sheet.append(header)
    sheet.append(example)
    bold = Font(bold=True)
    for i, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = 40 if column.key in ("name", "address_vi", "description_vi") else 20
        sheet.column_dimensions[get_column_letter(i)].width = width
        if column.key in ("tax_code", "phone"):
            # Text columns: Excel must not drop a phone's leading 0 or turn a code into a number.
            sheet.column_dimensions[get_column_letter(i)].number_format = "@"
            sheet.cell(row=2, column=i).number_format = "@"
    sheet.freeze_panes = "A2"

    lists = workbook.create_sheet("Danh mục")
    lists.append(["Lĩnh vực", "Xã/phường", "Loại hình"])
    for cell in lists[1]:
        cell.font = bold
    forms = [names[0] for names in LEGAL_FORM_NAMES.values()]
    sector_names = [s.name_vi for s in sectors]
    place_names = [loc.name_vi for loc in localities]
    for n in range(max(len(sector_names), len(place_names), len(forms))):
        lists.append(
            [
                sector_names[n] if n < len(sector_names) else None,
                place_names[n] if n < len(place_names) else None,
                forms[n] if n < len(forms) else None,
            ]
        )
    for letter in "ABC":
        lists.column_dimensions[letter].width = 30
    lists.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- reading a sheet


def create_batch(actor: User, file_name: str, data: bytes, *, max_rows: int) -> ImportBatch:
    """Read an uploaded sheet into a batch in preview; flushes.

    Raises SheetError (message, status) when the file cannot be read, lacks a required column
    (422, naming them) or holds no row; then nothing is written.
    """
    sheet, index = read_table(
        file_name,
        data,
        {c.key: (c.header, *c.aliases) for c in COLUMNS},
        {c.key: c.header.rstrip("*") for c in COLUMNS if c.required},
        _("Tệp không có dòng hợp tác xã nào dưới dòng tiêu đề."),
        max_rows=max_rows,
    )
    rows = []
    for row in sheet.rows:
        values, formulas = {}, []
        for key in KEYS:
            i = index.get(key)
            values[key] = nfc(row.cells[i]).strip() if i is not None and i < len(row.cells) else ""
            if i is not None and i in row.formulas:
                formulas.append(key)
        rows.append({"line": row.line, "values": values, "skip": False, "formulas": formulas})
    batch = ImportBatch(
        kind=BatchKind.COOPERATIVES,
        status=BatchStatus.PREVIEW,
        cooperative_id=None,
        created_by_id=actor.id,
        file_name=nfc(file_name or "")[:255] or "-",
        rows=rows,
        progress_total=len(rows),
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def registry_batch(batch_id: int):
    """A registry batch by id (any other kind finds nothing)."""
    return select(ImportBatch).where(
        ImportBatch.id == batch_id, ImportBatch.kind == BatchKind.COOPERATIVES
    )


def recent_batches(limit: int = 10):
    """The latest registry uploads, without their rows: (id, file_name, status, created_at,
    progress_total = rows read, progress_done = cooperatives created)."""
    return (
        select(
            ImportBatch.id,
            ImportBatch.file_name,
            ImportBatch.status,
            ImportBatch.created_at,
            ImportBatch.progress_total,
            ImportBatch.progress_done,
        )
        .where(ImportBatch.kind == BatchKind.COOPERATIVES)
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(limit)
    )


def set_row(batch: ImportBatch, line: int, *, values: dict | None = None, skip=None) -> bool:
    """Replace a row's cells (its formulas are gone then) or leave it out / take it back.

    False when the sheet has no such line. The JSON list is replaced so the change is saved.
    """
    rows, found = [], False
    for row in batch.rows:
        if row["line"] == line:
            found = True
            row = dict(row)
            if values is not None:
                row["values"] = {key: nfc(values.get(key) or "").strip() for key in KEYS}
                row["formulas"] = []
            if skip is not None:
                row["skip"] = bool(skip)
        rows.append(row)
    if found:
        batch.rows = rows
        db.session.flush()
    return found


# --------------------------------------------------------------------------- checking rows


@dataclass
class Problem:
    """Why a cell (column key) of a row cannot be imported."""

    column: str
    message: str
    #: An existing cooperative the row clashes with: (id, name), linked on the page.
    cooperative: tuple[int, str] | None = None


@dataclass
class CheckedRow:
    line: int
    values: dict
    skip: bool
    problems: list[Problem] = field(default_factory=list)
    #: The cooperative's attributes when the row is valid, plus "owner_email".
    record: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_of(self, key: str) -> list[Problem]:
        return [p for p in self.problems if p.column == key]


@dataclass
class Registry:
    """What rows are checked against: read once per page, whatever the number of rows."""

    sectors: list
    localities: list
    #: tax code → (id, name) of the cooperative holding it.
    tax_codes: dict
    #: (folded name, locality id) → (id, name).
    names: dict
    #: email → "staff" or "member" for addresses that may not own a new cooperative.
    emails: dict
    this_year: int
    #: Answers of match_sector / match_locality by the text written (rows repeat them).
    _matches: dict = field(default_factory=dict, repr=False)

    def sector(self, value: str):
        key = ("sector", value)
        if key not in self._matches:
            self._matches[key] = match_sector(value, self.sectors)
        return self._matches[key]

    def locality(self, value: str):
        key = ("locality", value)
        if key not in self._matches:
            self._matches[key] = match_locality(value, self.localities)
        return self._matches[key]


def load_registry(rows) -> Registry:
    """Read the taxonomy and the existing cooperatives (four queries for any number of rows)."""
    sectors = list(db.session.scalars(select(Sector).order_by(Sector.sort_order, Sector.id)))
    localities = list(
        db.session.scalars(select(Locality).order_by(Locality.short_name, Locality.id))
    )
    tax_codes, names = {}, {}
    for id_, name, locality_id, tax_code in db.session.execute(
        select(Cooperative.id, Cooperative.name, Cooperative.locality_id, Cooperative.tax_code)
    ):
        if tax_code:
            tax_codes[tax_code] = (id_, name)
        names.setdefault((folded(name), locality_id), (id_, name))
    wanted = {normalize_email(r["values"].get("owner_email") or "") for r in rows} - {""}
    emails = {}
    if wanted:
        for email, role, membership_id in db.session.execute(
            select(User.email, User.role, Membership.id)
            .outerjoin(Membership, Membership.user_id == User.id)
            .where(User.email.in_(sorted(wanted)))
        ):
            if role in (Role.STAFF, Role.ADMIN):
                emails[email] = "staff"
            elif membership_id is not None:
                emails[email] = "member"
    return Registry(sectors, localities, tax_codes, names, emails, clock.today().year)


def match_sector(value: str, sectors) -> tuple[object | None, str | None]:
    """(sector, None) or (None, why not) for a sector written as text."""
    wanted = folded(value)

    def keys(sector):
        return {folded(sector.name_vi), folded(sector.name_en or ""), folded(sector.slug)} - {""}

    found = [s for s in sectors if wanted in keys(s)]
    if not found:
        found = [s for s in sectors if any(_part_of(wanted, k) for k in keys(s))]
    if len(found) == 1:
        return found[0], None
    if found:
        return None, _ambiguous(value, [s.name_vi for s in found])
    return None, _(
        "Không có lĩnh vực “%(value)s”. Hãy ghi một trong: %(names)s.",
        value=value,
        names=", ".join(s.name_vi for s in sectors),
    )


#: Prefixes of a commune's name, folded: "Xã Liên Bão", "P. Từ Sơn", "phuong tu son".
_PLACE_PREFIXES = (
    ("phuong", "phuong"),
    ("p", "phuong"),
    ("xa", "xa"),
    ("x", "xa"),
    ("ward", "phuong"),
    ("commune", "xa"),
)


def match_locality(value: str, localities) -> tuple[object | None, str | None]:
    """(locality, None) or (None, why not): "tu son", "Phường Từ Sơn", "P. Từ Sơn" all match.

    The text before a comma counts ("Xã Liên Bão, tỉnh Bắc Ninh"). Several communes match →
    an error listing them; a pre-2025 name → an error naming the unit it was merged into.
    """
    first, _comma, rest = value.partition(",")
    rest = folded(rest)
    if rest and "bac ninh" not in rest and re.search(r"\b(tinh|thanh pho|tp)\b", rest):
        # "Xã Lâm Thao, tỉnh Phú Thọ": a commune of the same name in another province.
        return None, _(
            "“%(value)s” không thuộc tỉnh Bắc Ninh; chỉ nhập hợp tác xã trong tỉnh.",
            value=value,
        )
    text = folded(first)
    kind = None
    for prefix, prefix_kind in _PLACE_PREFIXES:
        if text.startswith(prefix + " ") and len(text) > len(prefix) + 1:
            text, kind = text[len(prefix) + 1 :], prefix_kind
            break
    if not text:
        return None, _("Hãy ghi xã hoặc phường nơi đặt trụ sở.")

    def short(loc):
        return folded(loc.short_name)

    found = [loc for loc in localities if text in (short(loc), folded(loc.name_vi))]
    if len(found) > 1 and kind:
        found = [loc for loc in found if loc.kind.value == kind] or found
    if not found:
        found = [loc for loc in localities if _part_of(text, short(loc))]
    if len(found) == 1:
        return found[0], None
    if found:
        return None, _ambiguous(value, [loc.name_vi for loc in found])
    merged_into = [
        loc
        for loc in localities
        if any(_contains_end(folded(unit), text) for unit in (loc.former_units_vi or []))
    ]
    if merged_into:
        return None, _(
            "“%(value)s” là tên trước ngày 1/7/2025; nay thuộc %(names)s. Hãy ghi tên mới.",
            value=value,
            names=", ".join(loc.name_vi for loc in merged_into),
        )
    return None, _(
        "Không tìm thấy xã/phường “%(value)s” trong tỉnh. Hãy ghi đúng tên xã/phường sau "
        "ngày 1/7/2025 (xem trang “Danh mục” của tệp mẫu).",
        value=value,
    )


def _part_of(part: str, name: str) -> bool:
    """Whole words of a name: "son" is part of "tu son"; "tu" is not part of "tuong giang"."""
    return bool(part and name) and f" {part} " in f" {name} "


def _contains_end(name: str, wanted: str) -> bool:
    """ "phuong dinh bang" ends with the words "dinh bang" (the unit's kind left out)."""
    return name == wanted or name.endswith(" " + wanted)


def _ambiguous(value: str, names: list[str]) -> str:
    return _(
        "“%(value)s” khớp với nhiều mục: %(names)s. Hãy ghi đầy đủ tên.",
        value=value,
        names=", ".join(names),
    )


def match_legal_form(value: str) -> LegalForm | None:
    wanted = folded(value)
    for form, names in LEGAL_FORM_NAMES.items():
        if wanted in {folded(n) for n in names} or wanted == folded(form.value):
            return form
    return None


def _whole_number(value: str) -> int | None:
    raw = re.sub(r"[\s.,]", "", value)
    if not raw or not (raw.isascii() and raw.isdecimal()) or len(raw) > 9:
        return None
    return int(raw)


def check_row(values: dict, formulas, registry: Registry) -> tuple[list[Problem], dict | None]:
    """The problems of one row on its own, and the cooperative's attributes when there are none.

    Duplicates between rows are found by check_rows.
    """
    problems: list[Problem] = []

    def problem(key, message, cooperative=None):
        problems.append(Problem(key, message, cooperative))

    for key in formulas or ():
        column = COLUMN_BY_KEY.get(key)
        if column is not None:
            problem(
                key,
                _(
                    "Ô “%(column)s” là công thức (%(formula)s); hãy nhập giá trị.",
                    column=column.label,
                    formula=(values.get(key) or "")[:60],
                ),
            )
    bad = set(formulas or ())
    for column in COLUMNS:
        text = values.get(column.key) or ""
        if column.key in bad:
            continue
        if len(text) > column.limit:
            problem(
                column.key,
                _(
                    "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(count)d).",
                    max=column.limit,
                    count=len(text),
                ),
            )
            bad.add(column.key)
        elif (_CONTROL if column.multiline else _CONTROL_ONE_LINE).search(text):
            problem(column.key, _("Có ký tự điều khiển không hợp lệ; hãy gõ lại ô này."))
            bad.add(column.key)

    def value(key):
        return "" if key in bad else (values.get(key) or "")

    out: dict = {}
    name = value("name")
    if not name and "name" not in bad:
        problem("name", _("Hãy nhập tên hợp tác xã."))
    elif name and folded(name) == folded(EXAMPLE["name"]):
        problem("name", _("Đây là dòng ví dụ của tệp mẫu; hãy xóa dòng này hoặc bỏ qua nó."))
    out["name"] = name

    sector = None
    if value("sector"):
        sector, why = registry.sector(value("sector"))
        if why:
            problem("sector", why)
    elif "sector" not in bad:
        problem("sector", _("Hãy ghi lĩnh vực chính, ví dụ: Nông nghiệp."))
    out["sector_id"] = sector.id if sector else None

    locality = None
    if value("locality"):
        locality, why = registry.locality(value("locality"))
        if why:
            problem("locality", why)
    elif "locality" not in bad:
        problem("locality", _("Hãy ghi xã hoặc phường nơi đặt trụ sở."))
    out["locality_id"] = locality.id if locality else None

    legal_form = None
    if value("legal_form"):
        legal_form = match_legal_form(value("legal_form"))
        if legal_form is None:
            problem(
                "legal_form",
                _(
                    "Không rõ loại hình “%(value)s”. Hãy ghi một trong: %(names)s.",
                    value=value("legal_form"),
                    names=", ".join(n[0] for n in LEGAL_FORM_NAMES.values()),
                ),
            )
    elif "legal_form" not in bad:
        is_fund = sector is not None and sector.slug == CREDIT_FUND_SECTOR
        legal_form = LegalForm.CREDIT_FUND if is_fund else LegalForm.COOPERATIVE
    out["legal_form"] = legal_form

    code = normalize_tax_code(value("tax_code")) if value("tax_code") else ""
    reason = value("tax_code_missing_reason")
    if code:
        if not _TAX_SHAPE.match(code):
            message = _(
                "Mã số thuế gồm 10 chữ số (ví dụ 2300123454); chi nhánh thêm gạch ngang "
                "và 3 số (ví dụ 2300123454-001)."
            )
            if re.fullmatch(r"\d{9}(-\d{3})?", code) and not tax_code_error("0" + code):
                message += " " + _(
                    "Có thể Excel đã bỏ số 0 ở đầu: %(code)s? Hãy định dạng ô là văn bản.",
                    code="0" + code,
                )
            problem("tax_code", message)
        elif tax_code_error(code):
            problem(
                "tax_code",
                _(
                    "Mã số thuế %(code)s không đúng: chữ số kiểm tra không khớp. "
                    "Hãy xem lại giấy chứng nhận đăng ký.",
                    code=code,
                ),
            )
        elif code in registry.tax_codes:
            problem(
                "tax_code",
                _("Mã số thuế %(code)s đã có:", code=code),
                registry.tax_codes[code],
            )
    elif (
        not {"tax_code", "tax_code_missing_reason"} & bad
        and legal_form not in (LegalForm.GROUP, None)
        and not reason
    ):
        problem(
            "tax_code",
            _(
                "Hãy nhập mã số thuế, hoặc ghi lý do chưa có mã vào ô “Lý do chưa có mã số "
                "thuế”. Tổ hợp tác được để trống."
            ),
        )
    out["tax_code"] = code or None
    out["tax_code_missing_reason"] = None if code else (reason or None)

    if name and locality is not None:
        existing = registry.names.get((folded(name), locality.id))
        if existing:
            problem(
                "name",
                _(
                    "%(locality)s đã có hợp tác xã cùng tên:",
                    locality=locality.name_vi,
                ),
                existing,
            )

    out["address_vi"] = value("address_vi")

    for key, low, high in (
        ("founded_year", FIRST_YEAR, registry.this_year),
        ("member_count", 1, MAX_MEMBERS),
    ):
        out[key] = None
        if value(key):
            number = _whole_number(value(key))
            if number is None:
                problem(key, _("Hãy nhập một số nguyên, ví dụ 25."))
            elif not low <= number <= high:
                problem(key, _("Hãy nhập một số từ %(min)d đến %(max)d.", min=low, max=high))
            else:
                out[key] = number

    out["phone"] = None
    if value("phone"):
        if normalize_phone(value("phone")) is None:
            problem(
                "phone",
                _("Số điện thoại không đúng. Ví dụ: 0912 345 678 (di động) hoặc 0222 3812 345."),
            )
        else:
            out["phone"] = format_phone(value("phone"))

    out["owner_email"] = None
    if value("owner_email"):
        email = normalize_email(value("owner_email"))
        why = email_error(email)
        if why:
            problem("owner_email", why)
        elif registry.emails.get(email) == "staff":
            problem("owner_email", _("Email này là tài khoản cán bộ; cán bộ không quản lý HTX."))
        elif registry.emails.get(email) == "member":
            problem("owner_email", _("Email này đã quản lý một hợp tác xã khác."))
        else:
            out["owner_email"] = email

    out["description_vi"] = value("description_vi")
    return problems, (None if problems else out)


def check_rows(rows, registry: Registry) -> list[CheckedRow]:
    """Every row with its problems, duplicates between rows included (skipped rows aside)."""
    checked = []
    for row in rows:
        problems, attributes = check_row(row["values"], row.get("formulas"), registry)
        checked.append(
            CheckedRow(row["line"], row["values"], bool(row.get("skip")), problems, attributes)
        )
    live = [c for c in checked if not c.skip]
    _same_value(
        live,
        lambda c: _valid_code(c.values.get("tax_code")),
        "tax_code",
        lambda lines: _("Mã số thuế trùng với dòng %(lines)s của tệp.", lines=lines),
    )
    places = {loc.id: loc for loc in registry.localities}

    def name_place(c):
        name = folded(c.values.get("name") or "")
        loc, _why = registry.locality(c.values.get("locality") or "")
        return (name, loc.id) if name and loc is not None and loc.id in places else None

    _same_value(
        live,
        name_place,
        "name",
        lambda lines: _("Cùng tên, cùng xã/phường với dòng %(lines)s của tệp.", lines=lines),
    )
    _same_value(
        live,
        lambda c: normalize_email(c.values.get("owner_email") or "") or None,
        "owner_email",
        lambda lines: _(
            "Email này cũng ở dòng %(lines)s; mỗi người chỉ quản lý một hợp tác xã.", lines=lines
        ),
    )
    return checked


def _valid_code(value) -> str | None:
    code = normalize_tax_code(value or "")
    return code if code and _TAX_SHAPE.match(code) else None


def _same_value(rows, key_of, column, message):
    groups = defaultdict(list)
    for row in rows:
        key = key_of(row)
        if key:
            groups[key].append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        for row in group:
            others = ", ".join(str(o.line) for o in group if o is not row)
            row.problems.append(Problem(column, message(others)))
            row.record = None


def check_batch(batch: ImportBatch) -> list[CheckedRow]:
    return check_rows(batch.rows, load_registry(batch.rows))


def preview_order(checked: list[CheckedRow]) -> list[CheckedRow]:
    """Rows to fix first, then the valid ones, then those left out; each in sheet order."""

    def rank(c):
        return (0 if not c.skip and not c.ok else 2 if c.skip else 1, c.line)

    return sorted(checked, key=rank)


# --------------------------------------------------------------------------- confirming


class ConfirmRefused(Exception):
    """The batch cannot be written: `reason` is "not_preview" or "errors" (with `count`)."""

    def __init__(self, reason: str, count: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.count = count


def confirm(batch: ImportBatch, actor: User) -> list[Cooperative]:
    """Create the batch's rows as verified cooperatives, all in the caller's transaction.

    The batch is claimed first with a conditional UPDATE (… WHERE status = 'preview'), so a
    double submit or two staff members confirming at once write once. A unique constraint
    broken by a cooperative inserted meanwhile raises IntegrityError: the caller rolls back.
    """
    if not actor.is_staff:
        raise cooperative_services.NotAllowed
    now = utcnow()
    claimed = db.session.execute(
        update(ImportBatch)
        .where(
            ImportBatch.id == batch.id,
            ImportBatch.kind == BatchKind.COOPERATIVES,
            ImportBatch.status == BatchStatus.PREVIEW,
        )
        .values(status=BatchStatus.DONE, finished_at=now),
        execution_options={"synchronize_session": False},
    )
    if claimed.rowcount == 0:
        raise ConfirmRefused("not_preview")
    db.session.refresh(batch)
    checked = check_batch(batch)
    bad = [c for c in checked if not c.skip and not c.ok]
    if bad:
        raise ConfirmRefused("errors", len(bad))
    rows = [row for row in checked if not row.skip]
    slug_for = _slug_allocator()
    created = []
    for row in rows:
        values = {k: v for k, v in row.record.items() if k != "owner_email"}
        created.append(
            Cooperative(
                **values,
                slug=slug_for(values["name"]),
                status=CooperativeStatus.VERIFIED,
                verified_at=now,
            )
        )
    # One flush for all of them: one multi-row INSERT and one search re-index, not 700.
    db.session.add_all(created)
    db.session.flush()
    for row, cooperative in zip(rows, created, strict=True):
        owner_email = row.record["owner_email"]
        record(
            actor,
            "cooperative.created_by_staff",
            cooperative,
            after={
                **{k: getattr(v, "value", v) for k, v in row.record.items() if k != "owner_email"},
                "status": CooperativeStatus.VERIFIED.value,
                "owner_email": owner_email,
                "import_batch_id": batch.id,
                "line": row.line,
            },
        )
        if owner_email:
            cooperative_services.invite(actor, cooperative, owner_email, MembershipRole.OWNER)
    batch.created_ids = [c.id for c in created]
    batch.progress_done = len(created)
    db.session.flush()
    return created


def _slug_allocator():
    """name → a slug unique among cooperatives, as cooperatives.services.unique_slug gives it
    ("htx-hoa-sen", then "htx-hoa-sen-2"…), with the taken slugs read once for the batch."""
    taken = set(db.session.scalars(select(Cooperative.slug)))

    def slug_for(name: str) -> str:
        base = slugify(name, max_length=150)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        return slug

    return slug_for


def created_cooperatives(batch: ImportBatch) -> list:
    """(id, name, slug) of the cooperatives a done batch created, in sheet order."""
    ids = list(batch.created_ids or [])
    if not ids:
        return []
    found = {
        row.id: row
        for row in db.session.execute(
            select(Cooperative.id, Cooperative.name, Cooperative.slug).where(
                Cooperative.id.in_(ids)
            )
        )
    }
    return [found[i] for i in ids if i in found]
