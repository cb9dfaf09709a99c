"""A cooperative's bulk import of products: the sheet's columns, its template, the row rules.

The flow (views in shop/bulk/member.py, the job in shop/bulk/jobs.py):

1. `create_batch` reads the uploaded sheet (shop.bulk.sheets) and the optional ZIP of photos
   (shop.bulk.archive), keeps the rows as text in an ImportBatch (status preview) and the ZIP
   in media storage under ``imports/<batch id>-<random>.zip``.
2. `check` works the rows out each time they are shown: an error per cell that cannot be
   imported (what is wrong, what to write instead), a warning for what is only unusual, and
   the product values of the rows that are fine. Nothing of this is stored.
3. The member fixes a row (`fix_row`) or leaves it out (`skip_row`): only that batch's JSON
   row changes.
4. `confirm` marks the batch running (a conditional UPDATE: a second click finds it taken)
   and starts the job, which stores the photos, then writes every product in one transaction.

Rules shared with the product form (shop.catalog.forms): the same lengths, the same price
spellings (shop.text.money.parse_vnd), the same minimum-order rule (parse_quantity).
A name used twice in the sheet is an error (one of the two is a mistake); a name the
cooperative already has is a warning only (the member may mean a second product).
"""

import difflib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.utils import get_column_letter
from sqlalchemy import select, update

from shop.bulk.archive import open_photo_archive
from shop.bulk.models import BatchKind, BatchStatus, ImportBatch
from shop.bulk.sheets import read_table
from shop.catalog.forms import MAX_MIN_ORDER, parse_quantity
from shop.catalog.models import (
    ALL_MONTHS,
    MAX_PRICE_VND,
    Category,
    Product,
    ProductStatus,
    Unit,
)
from shop.catalog.services import MAX_PHOTOS
from shop.cooperatives.models import Cooperative, CooperativeStatus, Sector
from shop.db import utcnow
from shop.extensions import db
from shop.media.commands import IMPORT_ARCHIVE_DAYS, IMPORTS_PREFIX
from shop.media.storage import get_storage
from shop.text.folding import fold, fold_words, nfc
from shop.text.money import PriceError, parse_vnd

#: The highest price a product row can hold (the column is a 32-bit integer on PostgreSQL).
#: What confirming may ask for: products kept as drafts, or sent to the alliance for review.
TARGETS = ("draft", "submitted")
#: Characters kept of one cell when a member edits a row on the preview (bounds the JSON).
MAX_CELL_CHARS = 20_000
#: The largest minimum order (shop.catalog.forms), as written in messages.
MAX_MIN_ORDER_TEXT = f"{int(MAX_MIN_ORDER):,}".replace(",", ".")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportRefused(Exception):
    """An action on a batch that cannot be done now; `message` is shown, `status` answered."""

    def __init__(self, message, status: int = 409):
        super().__init__(str(message))
        self.message = message
        self.status = status


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    #: The header as the template writes it (Vietnamese; * = required).
    header: str
    #: The column's name in messages, in the reader's language.
    label: object
    #: Other headers taken for this column (folded when compared: tones and case do not matter).
    names: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    multiline: bool = False
    #: Width of the column in the XLSX template, in characters.
    width: int = 16


COLUMNS = (
    Column(
        "name_vi",
        "Tên sản phẩm*",
        _l("Tên sản phẩm"),
        ("Tên", "Tên hàng", "Product name", "Name"),
        required=True,
        max_length=200,
        width=32,
    ),
    Column(
        "name_en",
        "Tên tiếng Anh",
        _l("Tên tiếng Anh"),
        ("English name", "Name (English)"),
        max_length=200,
        width=28,
    ),
    Column(
        "category",
        "Danh mục*",
        _l("Danh mục"),
        ("Loại", "Nhóm hàng", "Category"),
        required=True,
        width=30,
    ),
    Column("unit", "Đơn vị*", _l("Đơn vị"), ("Đơn vị bán", "Đơn vị tính", "Unit"), required=True),
    Column("price", "Giá (đồng)", _l("Giá (đồng)"), ("Giá", "Giá bán", "Price", "Price (VND)")),
    Column(
        "min_order",
        "Đặt tối thiểu",
        _l("Đặt tối thiểu"),
        ("Số lượng tối thiểu", "Minimum order"),
        width=14,
    ),
    Column(
        "pack_size",
        "Quy cách",
        _l("Quy cách"),
        ("Quy cách đóng gói", "Pack size"),
        max_length=80,
        width=20,
    ),
    Column(
        "description",
        "Mô tả",
        _l("Mô tả"),
        ("Mô tả sản phẩm", "Description"),
        max_length=5000,
        multiline=True,
        width=48,
    ),
    Column(
        "season",
        "Mùa vụ (tháng)",
        _l("Mùa vụ (tháng)"),
        ("Mùa vụ", "Tháng có hàng", "Season", "Season (months)"),
        width=16,
    ),
    Column(
        "photos",
        "Ảnh (tên tệp, cách nhau bởi dấu ;)",
        _l("Ảnh"),
        ("Ảnh", "Hình ảnh", "Tên ảnh", "Photos", "Photo"),
        width=36,
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
KEYS = tuple(column.key for column in COLUMNS)


def column_letter(index: int) -> str:
    """'A' for 0, 'AA' for 26: a column (counted from 0) as a spreadsheet names it."""
    return get_column_letter(index + 1)


# --------------------------------------------------------------------------- vocabularies


#: A name as compared: folded, punctuation and extra spaces left out.
match_key = fold_words


def verbatim_key(text: str) -> str:
    """A name as written, for the exact match: NFC, case folded, spaces collapsed."""
    return " ".join(nfc(text).casefold().split())


@dataclass
class Vocabulary:
    """Category or unit names a cell may hold, matched the forgiving way.

    A cell matches a choice when its folded text equals one of the choice's names (Vietnamese,
    English, slug or code): "banh keo" finds "Bánh kẹo". Failing that, when the cell's words
    begin the name of exactly one choice, that choice ("gạo" and "banh keo" find "Gạo, ngũ
    cốc & hạt" and "Bánh, kẹo đặc sản"; a word inside a name does not: folded, "chè" would
    find "chế biến"). Otherwise nothing, with the closest names to suggest.
    """

    #: value → the Vietnamese name shown in suggestions and in the template.
    labels: dict
    #: value → the object itself (a Category, a Unit).
    items: dict
    _exact: dict = field(default_factory=dict)
    _words: list = field(default_factory=list)
    #: The names as written (NFC, case folded): "bộ" and "bó" fold alike, typed they differ.
    _verbatim: dict = field(default_factory=dict)

    @classmethod
    def build(cls, entries) -> "Vocabulary":
        """From (value, Vietnamese name, object, other names…) in display order."""
        vocabulary = cls(labels={}, items={})
        for value, label, item, *names in entries:
            vocabulary.labels[value] = label
            vocabulary.items[value] = item
            for name in (label, *names):
                if not name:
                    continue
                written = verbatim_key(str(name))
                if written:
                    vocabulary._verbatim.setdefault(written, set()).add(value)
                key = match_key(str(name))
                if key:
                    vocabulary._exact.setdefault(key, set()).add(value)
                    vocabulary._words.append((tuple(key.split()), value))
        return vocabulary

    def find(self, text: str):
        """(value, []) when the text names one choice, else (None, names to suggest)."""
        written = self._verbatim.get(verbatim_key(text), set())
        if len(written) == 1:
            return next(iter(written)), []
        key = match_key(text)
        if not key:
            return None, []
        exact = self._exact.get(key, set())
        if len(exact) == 1:
            return next(iter(exact)), []
        words = tuple(key.split())
        within = {value for name, value in self._words if name[: len(words)] == words}
        if len(within) == 1 and not exact:
            return next(iter(within)), []
        candidates = exact or within
        if not candidates:
            close = difflib.get_close_matches(key, list(self._exact), n=3, cutoff=0.6)
            candidates = {value for name in close for value in self._exact[name]}
        ordered = [value for value in self.labels if value in candidates][:3]
        return None, [self.labels[value] for value in ordered]


@dataclass
class Context:
    """What the rules compare a row with, read once per check (never per row)."""

    categories: Vocabulary
    units: Vocabulary
    #: Photo names of the batch's ZIP, folded for matching; None when no ZIP was uploaded.
    photos: dict[str, str] | None
    #: The cooperative's current product names, folded → as written.
    existing: dict[str, str]


def load_vocabularies() -> tuple[Vocabulary, Vocabulary]:
    categories = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id))
    units = db.session.scalars(select(Unit).order_by(Unit.name_vi, Unit.code))
    return (
        Vocabulary.build((c.id, c.name_vi, c, c.name_en, c.slug) for c in categories),
        Vocabulary.build((u.code, u.name_vi, u, u.name_en, u.code) for u in units),
    )


def photo_key(name: str) -> str:
    return nfc(name).casefold()


def load_context(batch: ImportBatch) -> Context:
    categories, units = load_vocabularies()
    photos = None
    if batch.archive_key is not None or batch.archive_names:
        photos = {photo_key(name): name for name in batch.archive_names or ()}
    existing = {}
    if batch.cooperative_id is not None:
        for name in db.session.scalars(
            select(Product.name_vi).where(
                Product.cooperative_id == batch.cooperative_id,
                Product.status != ProductStatus.ARCHIVED,
            )
        ):
            existing.setdefault(match_key(name), name)
    return Context(categories, units, photos, existing)


# --------------------------------------------------------------------------- cell rules


class CellError(ValueError):
    """A cell that cannot be imported; the message says what to write instead."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


_THOUSANDS_WITH_DECIMALS = re.compile(r"\d+[.,]\d+(k|nghin|ngan)(d|dong|vnd|₫)?")


def parse_price(text: str) -> int | None:
    """Whole đồng from a seller's spelling; None (empty or "Liên hệ") is a price on request."""
    if not text or match_key(text) in ("lien he", "contact"):
        return None
    if _THOUSANDS_WITH_DECIMALS.fullmatch(fold(text).replace(" ", "")):
        # "120,5k": 120.500 đồng, or a typo of 120.000 or 125k? Too easy to misread.
        raise CellError(
            _l(
                "Giá “%(value)s” dễ đọc nhầm. Hãy viết đủ số đồng, ví dụ 120.500.",
                value=text,
            )
        )
    try:
        price = parse_vnd(text)
    except PriceError:
        raise CellError(
            _l(
                "Chưa hiểu giá “%(value)s”. Hãy viết như 120.000 hoặc 120k; để trống nếu người "
                "mua liên hệ để hỏi giá.",
                value=text,
            )
        ) from None
    if price <= 0:
        raise CellError(_l("Giá phải lớn hơn 0 đồng. Để trống nếu người mua liên hệ để hỏi giá."))
    if price > MAX_PRICE_VND:
        raise CellError(_l("Giá quá cao: tối đa 2 tỷ đồng cho một đơn vị bán."))
    return price


def parse_min_order(text: str):
    if not text:
        return parse_quantity("1")
    try:
        return parse_quantity(text)
    except ValueError:
        raise CellError(
            _l(
                "Chưa hiểu số lượng “%(value)s”. Hãy viết một số lớn hơn 0 và không quá "
                "%(max)s, ví dụ 1 hoặc 0,5.",
                value=text,
                max=MAX_MIN_ORDER_TEXT,
            )
        ) from None


_ALL_YEAR = {"ca nam", "quanh nam", "all year", "year round", "all", "12 thang"}
_DAY_MONTH_YEAR = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
_MONTH_WORD = re.compile(r"\b(?:thang|th|t|month)\.?\s*(?=\d)")
_RANGE_SEP = re.compile(r"\s*(?:-|–|—|~|\bden\b|\btoi\b|\bto\b)\s*")
_LIST_SEP = re.compile(r"\s*(?:[,;+/&]|\bva\b|\band\b|\s)\s*")
_MONTH_ITEM = re.compile(r"(\d{1,2})(?:-(\d{1,2}))?")


def parse_season(text: str) -> int:
    """The months a product is available as a bit mask: "1-3, 10", "tháng 10-12", "cả năm".

    A range may run over the new year ("10-3" is October to March). Empty means all year.
    """
    folded = " ".join(fold(text).split())
    if not folded or folded in _ALL_YEAR:
        return ALL_MONTHS
    if _DAY_MONTH_YEAR.fullmatch(folded):
        raise CellError(
            _l(
                "Excel đã đổi ô này thành ngày tháng (%(value)s). Hãy gõ lại, ví dụ “tháng 1-3”, "
                "hoặc định dạng cột này là Văn bản (Text).",
                value=text,
            )
        )
    words = _RANGE_SEP.sub("-", _MONTH_WORD.sub("", folded)).strip(" ,;")
    mask = 0
    for item in filter(None, _LIST_SEP.split(words)):
        found = _MONTH_ITEM.fullmatch(item)
        first = int(found.group(1)) if found else 0
        last = int(found.group(2) or first) if found else 0
        if not (1 <= first <= 12 and 1 <= last <= 12):
            raise CellError(
                _l(
                    "Chưa hiểu tháng “%(value)s”. Hãy ghi các tháng có hàng, ví dụ: 1-3, 10 "
                    "hoặc cả năm.",
                    value=text,
                )
            )
        month = first
        while True:
            mask |= 1 << (month - 1)
            if month == last:
                break
            month = month % 12 + 1
    return mask


def photo_names(text: str) -> list[str]:
    """The photo file names of a cell ("a.jpg; b.jpg"), without folders, each once, in order."""
    names: dict[str, str] = {}
    for part in re.split(r"[;\n]", text or ""):
        name = nfc(re.split(r"[/\\]", part.strip())[-1].strip())
        if name:
            names.setdefault(photo_key(name), name)
    return list(names.values())


# --------------------------------------------------------------------------- row rules


@dataclass
class Problem:
    key: str
    message: object

    def text(self) -> str:
        return f"{COLUMN_BY_KEY[self.key].label}: {self.message}"


@dataclass
class RowCheck:
    """One sheet row as the preview shows it and the job imports it."""

    line: int
    raw: dict
    skip: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The product's values (shop.catalog.services' keys) when the row has no problem.
    values: dict | None = None
    #: Its photos' names as written in the ZIP, in order (the first is the cover).
    photos: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_keys(self) -> set[str]:
        return {problem.key for problem in self.problems}


def _text_problems(values: dict) -> list[Problem]:
    problems = []
    for column in COLUMNS:
        text = values.get(column.key, "")
        if not text:
            continue
        pattern = _CONTROL if column.multiline else _CONTROL_ONE_LINE
        if pattern.search(text):
            problems.append(
                Problem(column.key, _l("Có ký tự điều khiển không hợp lệ; hãy gõ lại ô này."))
            )
        elif column.max_length and len(text) > column.max_length:
            problems.append(
                Problem(
                    column.key,
                    _l(
                        "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(length)d).",
                        max=column.max_length,
                        length=len(text),
                    ),
                )
            )
    return problems


def _choice(values, key, vocabulary: Vocabulary, problems, missing, unknown, unknown_close):
    """The value a category or unit cell names; a problem (with suggestions) otherwise."""
    text = values.get(key, "")
    if not text:
        problems.append(Problem(key, missing))
        return None
    value, suggestions = vocabulary.find(text)
    if value is None:
        if suggestions:
            names = ", ".join(f"“{name}”" for name in suggestions)
            problems.append(Problem(key, unknown_close(text, names)))
        else:
            problems.append(Problem(key, unknown(text)))
    return value


def check_row(row: dict, context: Context) -> RowCheck:
    """The problems, warnings and product values of one stored row."""
    raw = {key: row.get("values", {}).get(key, "") or "" for key in KEYS}
    result = RowCheck(line=row["line"], raw=raw, skip=bool(row.get("skip")))
    problems = result.problems
    formulas = row.get("formulas") or {}
    for key, cell in formulas.items():
        if key in COLUMN_BY_KEY:
            problems.append(
                Problem(
                    key,
                    _l(
                        "Ô %(cell)s là công thức (%(formula)s); hãy nhập giá trị.",
                        cell=cell,
                        formula=raw.get(key, ""),
                    ),
                )
            )
    problems.extend(p for p in _text_problems(raw) if p.key not in formulas)
    if not raw["name_vi"]:
        problems.append(Problem("name_vi", _l("Hãy nhập tên sản phẩm.")))
    category_id = _choice(
        raw,
        "category",
        context.categories,
        problems,
        _l("Còn trống. Hãy ghi một danh mục có trong trang “Danh mục” của tệp mẫu."),
        lambda text: _l(
            "Không có danh mục “%(value)s”. Hãy chép đúng một tên trong trang “Danh mục” "
            "của tệp mẫu.",
            value=text,
        ),
        lambda text, names: _l(
            "Không có danh mục “%(value)s”. Có phải: %(names)s? Hãy chép đúng tên.",
            value=text,
            names=names,
        ),
    )
    unit_code = _choice(
        raw,
        "unit",
        context.units,
        problems,
        _l("Còn trống. Hãy ghi đơn vị bán, ví dụ: kg, hộp, chai."),
        lambda text: _l(
            "Không có đơn vị “%(value)s”. Hãy chép đúng một đơn vị trong trang “Danh mục” "
            "của tệp mẫu.",
            value=text,
        ),
        lambda text, names: _l(
            "Không có đơn vị “%(value)s”. Có phải: %(names)s? Hãy chép đúng tên.",
            value=text,
            names=names,
        ),
    )
    parsed = {}
    for key, parse in (
        ("price", parse_price),
        ("min_order", parse_min_order),
        ("season", parse_season),
    ):
        if key in formulas:
            continue
        try:
            parsed[key] = parse(raw[key])
        except CellError as error:
            problems.append(Problem(key, error.message))
    result.photos = photo_names(raw["photos"])
    if result.photos and "photos" not in formulas:
        problems.extend(_photo_problems(result.photos, context))
    if not problems:
        result.values = {
            "name_vi": raw["name_vi"],
            "name_en": raw["name_en"] or None,
            "description_vi": raw["description"],
            "category_id": category_id,
            "unit_code": unit_code,
            "pack_size_vi": raw["pack_size"] or None,
            "price_vnd": parsed["price"],
            "min_order_qty": parsed["min_order"],
            "season_months": parsed["season"],
        }
    return result


def _photo_problems(names: list[str], context: Context) -> list[Problem]:
    listed = ", ".join(names)
    if len(names) > MAX_PHOTOS:
        return [
            Problem(
                "photos",
                _l(
                    "Nhiều ảnh quá: tối đa %(n)d ảnh cho một sản phẩm. Hãy bớt tên ảnh ở ô này.",
                    n=MAX_PHOTOS,
                ),
            )
        ]
    if context.photos is None:
        return [
            Problem(
                "photos",
                _l(
                    "Chưa có tệp nén ảnh (ZIP). Hãy tải lên tệp ZIP có %(names)s, hoặc xóa tên "
                    "ảnh ở ô này.",
                    names=listed,
                ),
            )
        ]
    problems = []
    missing = [name for name in names if photo_key(name) not in context.photos]
    if missing:
        problems.append(
            Problem(
                "photos",
                _l(
                    "Không thấy %(names)s trong tệp nén ảnh. Hãy kiểm tra tên tệp (cả phần đuôi "
                    "như .jpg) hoặc thêm ảnh đó vào tệp ZIP.",
                    names=", ".join(missing),
                ),
            )
        )
    gifs = [n for n in names if n.lower().endswith(".gif") and photo_key(n) in context.photos]
    if gifs:
        problems.append(
            Problem(
                "photos",
                _l(
                    "Ảnh GIF chưa dùng được (%(names)s). Hãy lưu ảnh thành JPG hoặc PNG.",
                    names=", ".join(gifs),
                ),
            )
        )
    return problems


def check_rows(rows: list[dict], context: Context) -> list[RowCheck]:
    """Every row's check, with the sheet-wide rules (a name used twice) added."""
    checks = [check_row(row, context) for row in rows]
    first_line: dict[str, int] = {}
    for check in checks:
        if check.skip or not check.raw["name_vi"]:
            continue
        key = match_key(check.raw["name_vi"])
        if key in first_line:
            check.problems.append(
                Problem(
                    "name_vi",
                    _l(
                        "Trùng tên với dòng %(line)d. Hãy đổi tên cho khác, hoặc bỏ một trong "
                        "hai dòng.",
                        line=first_line[key],
                    ),
                )
            )
            check.values = None
            continue
        first_line[key] = check.line
        if key in context.existing:
            check.warnings.append(
                _l(
                    "Hợp tác xã đã có sản phẩm “%(name)s”: dòng này sẽ tạo thêm một sản phẩm "
                    "nữa. Bỏ dòng này nếu không cần.",
                    name=context.existing[key],
                )
            )
    return checks


def check(batch: ImportBatch, context: Context | None = None) -> list[RowCheck]:
    """The batch's rows checked against the database as it is now (a few queries in all)."""
    return check_rows(batch.rows or [], context or load_context(batch))


def row_errors(batch: ImportBatch) -> dict[int, list[str]]:
    """Sheet line → what is wrong with it (column: message), for rows not left out."""
    return {
        row.line: [problem.text() for problem in row.problems]
        for row in check(batch)
        if row.problems and not row.skip
    }


@dataclass
class Summary:
    valid: int
    invalid: int
    skipped: int
    warned: int

    @property
    def to_import(self) -> int:
        return self.valid


def summarise(checks: list[RowCheck]) -> Summary:
    active = [c for c in checks if not c.skip]
    return Summary(
        valid=sum(1 for c in active if c.ok),
        invalid=sum(1 for c in active if not c.ok),
        skipped=len(checks) - len(active),
        warned=sum(1 for c in active if c.ok and c.warnings),
    )


def referenced_photos(checks: list[RowCheck]) -> list[str]:
    """The photo names the rows to import use, each once, in sheet order."""
    seen: dict[str, str] = {}
    for row in checks:
        if row.skip:
            continue
        for name in row.photos:
            seen.setdefault(photo_key(name), name)
    return list(seen.values())


# --------------------------------------------------------------------------- template


EXAMPLES = {
    "nong-nghiep": {
        "name_vi": "Gạo nếp cái hoa vàng",
        "name_en": "Yellow-flower sticky rice",
        "category": "Gạo, ngũ cốc & hạt",
        "unit": "kg",
        "price": "45.000",
        "min_order": "5",
        "pack_size": "túi 5 kg",
        "description": "Gạo nếp vụ mùa, hạt tròn, dẻo thơm; hợp nấu xôi, gói bánh chưng.",
        "season": "10-12",
        "photos": "gao-nep-1.jpg; gao-nep-2.jpg",
    },
    "tieu-thu-cong-nghiep": {
        "name_vi": "Bình gốm men lam",
        "name_en": "Blue-glazed ceramic vase",
        "category": "Gốm",
        "unit": "chiếc",
        "price": "350k",
        "min_order": "1",
        "pack_size": "cao 30 cm",
        "description": "Bình gốm vẽ tay, men lam, nung ở 1.200 độ; mỗi chiếc một nét vẽ riêng.",
        "season": "cả năm",
        "photos": "binh-gom.jpg",
    },
    "": {
        "name_vi": "Giỏ quà Tết đặc sản",
        "name_en": "Tet gift basket",
        "category": "Giỏ quà & combo",
        "unit": "giỏ",
        "price": "650.000",
        "min_order": "1",
        "pack_size": "giỏ 5 món",
        "description": "Giỏ quà gồm gạo nếp, mật ong, chè và bánh đặc sản của hợp tác xã.",
        "season": "12, 1",
        "photos": "gio-qua.jpg",
    },
}


def example_row(cooperative: Cooperative | None) -> dict:
    """An example row from the cooperative's own sector, with names that exist here."""
    slug = None
    if cooperative is not None:
        slug = db.session.scalar(select(Sector.slug).where(Sector.id == cooperative.sector_id))
    example = dict(EXAMPLES.get(slug or "", EXAMPLES[""]))
    categories, units = load_vocabularies()
    for key, vocabulary in (("category", categories), ("unit", units)):
        value, _names = vocabulary.find(example[key])
        if value is None and vocabulary.labels:
            value = next(iter(vocabulary.labels))
        if value is not None:
            example[key] = vocabulary.labels[value]
    return example


def _is_example(values: dict) -> bool:
    """The template's example row left in the sheet (it is left out of the import)."""
    for example in EXAMPLES.values():
        if match_key(values.get("name_vi", "")) == match_key(example["name_vi"]) and all(
            match_key(values.get(key, "")) == match_key(example[key])
            for key in ("name_en", "price", "pack_size", "photos")
        ):
            return True
    return False


def template_rows(cooperative: Cooperative | None) -> tuple[list[str], list[str]]:
    example = example_row(cooperative)
    return [column.header for column in COLUMNS], [example[column.key] for column in COLUMNS]


def template_xlsx(cooperative: Cooperative | None) -> bytes:
    """The template as XLSX: the header bold and frozen, an example row, and a second sheet
    "Danh mục" listing the category and unit names, offered as drop-downs in their columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    header, example = template_rows(cooperative)
    categories, units = load_vocabularies()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sản phẩm"
    sheet.append(header)
    sheet.append(example)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8F3EC")
    for index, column in enumerate(COLUMNS):
        letter = column_letter(index)
        cell = sheet[f"{letter}1"]
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = column.width
    sheet.freeze_panes = "A2"
    rows = current_app.config.get("IMPORT_MAX_ROWS", 10_000) + 1
    # Months typed as "1-3" must stay text: Excel would make a date of them.
    season = column_letter(KEYS.index("season"))
    for row in range(2, min(rows, 1000) + 1):
        sheet[f"{season}{row}"].number_format = "@"

    names = workbook.create_sheet("Danh mục")
    names.append(["Danh mục", "Category", "Đơn vị", "Unit"])
    category_items = list(categories.items.values())
    unit_items = list(units.items.values())
    for i in range(max(len(category_items), len(unit_items))):
        category = category_items[i] if i < len(category_items) else None
        unit = unit_items[i] if i < len(unit_items) else None
        names.append(
            [
                category.name_vi if category else None,
                (category.name_en or "") if category else None,
                unit.name_vi if unit else None,
                (unit.name_en or "") if unit else None,
            ]
        )
    for letter, width in zip("ABCD", (34, 34, 18, 24), strict=True):
        names.column_dimensions[letter].width = width
        names[f"{letter}1"].font = bold
    names.freeze_panes = "A2"
    for key, source, count in (
        ("category", "A", len(category_items)),
        ("unit", "C", len(unit_items)),
    ):
        if not count:
            continue
        letter = column_letter(KEYS.index(key))
        validation = DataValidation(
            type="list",
            formula1=f"'Danh mục'!${source}$2:${source}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="Chợ HTX",
            error="Tên này không có trong trang “Danh mục”.",
        )
        validation.add(f"{letter}2:{letter}{rows}")
        sheet.add_data_validation(validation)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- batches


def _safe_file_name(name: str) -> str:
    name = nfc(re.split(r"[/\\]", name or "")[-1])
    name = _CONTROL_ONE_LINE.sub("", name).strip()
    return name[:255] or "bang-tinh"


def read_rows(sheet_name: str, sheet_bytes: bytes) -> list[dict]:
    """The sheet's rows as a batch keeps them; SheetError when it cannot be used at all."""
    sheet, columns = read_table(
        sheet_name,
        sheet_bytes,
        {column.key: (column.header, *column.names) for column in COLUMNS},
        {column.key: column.header for column in COLUMNS if column.required},
        _(
            "Bảng tính chưa có sản phẩm nào: dưới dòng tiêu đề còn trống. Hãy điền mỗi sản "
            "phẩm một dòng rồi tải lên lại."
        ),
        max_rows=current_app.config.get("IMPORT_MAX_ROWS", 10_000),
    )
    rows = []
    for row in sheet.rows:
        values = {key: row.cells[index] for key, index in columns.items()}
        values = {key: values.get(key, "") for key in KEYS}
        formulas = {
            key: f"{column_letter(index)}{row.line}"
            for key, index in columns.items()
            if index in row.formulas
        }
        entry = {"line": row.line, "values": values, "skip": _is_example(values)}
        if formulas:
            entry["formulas"] = formulas
        rows.append(entry)
    return rows


def create_batch(
    cooperative: Cooperative,
    actor,
    sheet_name: str,
    sheet_bytes: bytes,
    archive_file: bytes | BinaryIO | None,
) -> ImportBatch:
    """Read an upload into a new batch in preview; flushes. Raises SheetError / ArchiveError
    before anything is written. The ZIP goes to media storage under imports/.

    `archive_file`: the ZIP's bytes, or better a seekable file (the upload as the server
    spooled it to disk): checked and copied to storage without being held in memory.
    """
    rows = read_rows(sheet_name, sheet_bytes)
    names: list[str] = []
    if archive_file is not None:
        archive = open_photo_archive(archive_file)
        try:
            names = list(archive.names)
        finally:
            archive.close()
        if not isinstance(archive_file, bytes | bytearray):
            archive_file.seek(0)
    batch = ImportBatch(
        kind=BatchKind.PRODUCTS,
        status=BatchStatus.PREVIEW,
        cooperative_id=cooperative.id,
        created_by_id=getattr(actor, "id", None),
        file_name=_safe_file_name(sheet_name),
        archive_names=names,
        rows=rows,
        progress_done=0,
        progress_total=0,
        created_ids=[],
    )
    db.session.add(batch)
    db.session.flush()
    if archive_file is not None:
        key = f"{IMPORTS_PREFIX}{batch.id}-{secrets.token_hex(8)}.zip"
        get_storage().put(key, archive_file, "application/zip")
        batch.archive_key = key
        db.session.flush()
    return batch


def own_batch(cooperative_id: int, batch_id: int) -> ImportBatch | None:
    """A products batch of this cooperative by id (another cooperative's id finds nothing)."""
    return db.session.scalar(
        select(ImportBatch).where(
            ImportBatch.id == batch_id,
            ImportBatch.kind == BatchKind.PRODUCTS,
            ImportBatch.cooperative_id == cooperative_id,
        )
    )


def lock_batch(cooperative_id: int, batch_id: int) -> ImportBatch | None:
    """The same, locked for an edit of its rows (PostgreSQL; SQLite locks the database)."""
    return db.session.scalar(
        select(ImportBatch)
        .where(
            ImportBatch.id == batch_id,
            ImportBatch.kind == BatchKind.PRODUCTS,
            ImportBatch.cooperative_id == cooperative_id,
        )
        .with_for_update()
    )


def recent_batches(cooperative_id: int, limit: int = 10):
    """The cooperative's latest product imports, without their rows."""
    from sqlalchemy.orm import defer

    return db.session.scalars(
        select(ImportBatch)
        .where(
            ImportBatch.kind == BatchKind.PRODUCTS,
            ImportBatch.cooperative_id == cooperative_id,
        )
        .options(defer(ImportBatch.rows), defer(ImportBatch.archive_names))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(limit)
    ).all()


def _not_in_preview() -> ImportRefused:
    return ImportRefused(
        _l("Lần nhập này đã được xác nhận hoặc đã hủy, không sửa được nữa. Xem tiến độ bên dưới.")
    )


def _find_row(batch: ImportBatch, line: int) -> int:
    for index, row in enumerate(batch.rows or []):
        if row.get("line") == line:
            return index
    raise LookupError(line)


def fix_row(batch: ImportBatch, line: int, values: dict) -> None:
    """Replace the cells of one row by what the member typed on the preview; flushes.

    LookupError for a line the batch does not have. A cell left as it was keeps its formula
    mark; one changed is plain text now.
    """
    if batch.status != BatchStatus.PREVIEW:
        raise _not_in_preview()
    rows = list(batch.rows or [])
    index = _find_row(batch, line)
    row = dict(rows[index])
    old = row.get("values", {})
    new = {}
    for key in KEYS:
        text = values.get(key)
        text = old.get(key, "") if text is None else nfc(str(text)).strip()[:MAX_CELL_CHARS]
        new[key] = text
    formulas = {
        key: cell for key, cell in (row.get("formulas") or {}).items() if new[key] == old.get(key)
    }
    row["values"] = new
    row.pop("formulas", None)
    if formulas:
        row["formulas"] = formulas
    row["skip"] = False
    rows[index] = row
    batch.rows = rows
    db.session.flush()


def skip_row(batch: ImportBatch, line: int, skip: bool = True) -> None:
    """Leave one row out of the import (or take it back in); flushes."""
    if batch.status != BatchStatus.PREVIEW:
        raise _not_in_preview()
    rows = list(batch.rows or [])
    index = _find_row(batch, line)
    rows[index] = {**rows[index], "skip": bool(skip)}
    batch.rows = rows
    db.session.flush()


def expired(batch: ImportBatch) -> bool:
    """A batch left in preview longer than `flask media gc` keeps its ZIP."""
    created = batch.created_at
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created < datetime.now(UTC) - timedelta(days=IMPORT_ARCHIVE_DAYS)


def _set_running(batch: ImportBatch, allowed, **values) -> bool:
    result = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, allowed)
        .values(
            status=BatchStatus.RUNNING,
            progress_done=0,
            heartbeat_at=utcnow(),
            finished_at=None,
            error=None,
            updated_at=utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(batch)
    return result.rowcount == 1


def confirm(batch: ImportBatch, actor, target: str) -> None:
    """Import the batch's rows: "draft" keeps the products as drafts, "submitted" sends them
    for review. Refused (ImportRefused, 409) while a row to import has an error, or when the
    batch is no longer in preview (a second click). Marks the batch running, then starts the
    job (shop.bulk.jobs.start: in a thread, or inline when IMPORT_IN_BACKGROUND is off)."""
    from shop.bulk import jobs

    if target not in TARGETS:
        raise ImportRefused(_l("Hãy chọn “Lưu nháp” hoặc “Gửi duyệt”."), 400)
    if batch.status != BatchStatus.PREVIEW:
        raise _not_in_preview()
    cooperative = db.session.get(Cooperative, batch.cooperative_id)
    if target == "submitted" and cooperative.status != CooperativeStatus.VERIFIED:
        raise ImportRefused(
            _l("Hợp tác xã cần được Liên minh xác minh trước khi gửi sản phẩm đi duyệt.")
        )
    checks = check(batch)
    summary = summarise(checks)
    if summary.invalid:
        raise ImportRefused(
            _l(
                "Còn %(n)d dòng cần sửa. Hãy sửa hoặc bỏ các dòng đó rồi xác nhận lại.",
                n=summary.invalid,
            )
        )
    if not summary.valid:
        raise ImportRefused(
            _l("Không còn dòng nào để nhập. Hãy đưa lại một dòng vào, hoặc tải tệp khác.")
        )
    photos = referenced_photos(checks)
    if photos and expired(batch):
        raise ImportRefused(
            _l(
                "Lần nhập này đã quá %(n)d ngày nên tệp ảnh đã bị xóa. Hãy tải tệp lên lại.",
                n=IMPORT_ARCHIVE_DAYS,
            )
        )
    started = _set_running(
        batch,
        ImportBatch.status == BatchStatus.PREVIEW,
        target=target,
        progress_total=len(photos) + summary.valid,
    )
    if not started:
        raise _not_in_preview()
    jobs.start(batch)


def stale(batch: ImportBatch) -> bool:
    """A running batch whose job has not shown a sign of life for a while (the process died)."""
    from shop.bulk.jobs import STALE_AFTER

    if batch.status != BatchStatus.RUNNING:
        return False
    beat = batch.heartbeat_at or batch.updated_at
    if beat is None:
        return True
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return beat < datetime.now(UTC) - STALE_AFTER


def rerun(batch: ImportBatch, actor) -> None:
    """Start an interrupted batch again (its job died: no product of it was committed)."""
    from shop.bulk import jobs

    if not stale(batch):
        raise ImportRefused(_l("Lần nhập này đang chạy hoặc đã xong; không cần chạy lại."))
    cutoff = datetime.now(UTC) - jobs.STALE_AFTER
    allowed = (ImportBatch.status == BatchStatus.RUNNING) & (
        ImportBatch.heartbeat_at.is_(None) | (ImportBatch.heartbeat_at < cutoff)
    )
    if not _set_running(batch, allowed):
        raise ImportRefused(_l("Lần nhập này đang chạy hoặc đã xong; không cần chạy lại."))
    jobs.start(batch)


def retry(batch: ImportBatch) -> None:
    """A failed batch back to its preview, to check the rows and confirm again; flushes."""
    result = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == BatchStatus.FAILED)
        .values(status=BatchStatus.PREVIEW, progress_done=0, finished_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(batch)
    if result.rowcount != 1:
        raise ImportRefused(_l("Lần nhập này không ở trạng thái lỗi; không cần thử lại."))


def cancel(batch: ImportBatch) -> str | None:
    """Give up a batch in preview; returns its ZIP's key to delete after the commit."""
    result = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == BatchStatus.PREVIEW)
        .values(status=BatchStatus.CANCELLED, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(batch)
    if result.rowcount != 1:
        raise _not_in_preview()
    return batch.archive_key
