"""Read an uploaded sheet (XLSX or CSV) safely into text rows, for the bulk imports.

The file's content decides the format, not its name: a ZIP is read as XLSX (after checking
that it cannot blow up when unpacked), old Excel, PDF, images and other binary files are
refused with a message saying what to do, and anything else is read as CSV in UTF-8 (with or
without BOM), UTF-16 (Excel's "Unicode text") or Windows-1258 when it clearly is Vietnamese.

Nothing is ever evaluated: a formula stays its text and is reported in `Row.formulas`. Rows
are streamed, so a sheet with far too many rows is refused as soon as the limit is passed.
Every text comes out NFC-normalised and stripped; values are the text a user sees in Excel
(120000, 1.5, 23/12/2022, có/không).
"""

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _

from shop.text.folding import fold, nfc
from shop.text.formatting import format_quantity
from shop.text.i18n import current_lang

#: Largest sheet file accepted (the upload view may check earlier).
MAX_BYTES = 20 * 1024 * 1024
#: An XLSX is a ZIP: the most its members may hold once unpacked, all together.
XLSX_MAX_UNPACKED = 100 * 1024 * 1024
#: ...and the highest compression ratio of a member larger than XLSX_RATIO_FROM bytes.
XLSX_MAX_RATIO = 200
XLSX_RATIO_FROM = 1024 * 1024
#: More members than any workbook has: a crafted file.
XLSX_MAX_MEMBERS = 10_000
#: Columns read in an XLSX row; a header row is cut here.
MAX_COLUMNS = 200
#: Blank rows allowed besides the data rows before a sheet counts as too long.
MIN_BLANK_ALLOWANCE = 1_000

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_SHEET_MAGIC = (
    b"%PDF",
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\x1f\x8b",  # gzip
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x7fELF",
    b"{\\rtf",
)
_DELIMITERS = (",", ";", "\t")
#: Control characters that never appear in a text table (tab, newlines, VT, FF do).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
#: Windows-1258 writes tones as combining marks after the letter.
_CP1258_TONES = "\u0300\u0301\u0303\u0309\u0323"
_VIETNAMESE_LETTERS = set("ăâêôơưđĂÂÊÔƠƯĐ")
_REQUIRED_MARK = re.compile(r"\s*(\*|\(\s*bat buoc\s*\))\s*$")
_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)


class SheetError(ValueError):
    """The file cannot be read as a sheet; .message is a user-facing text (already gettext'd),
    .status the HTTP status (400, or 413 for too many rows or too large a file)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Row:
    #: 1-based line number in the sheet, as the user sees it in Excel (for a CSV: the record's
    #: row in Excel, which a quoted field spanning several lines does not shift).
    line: int
    #: Text of each cell, stripped, NFC; "" for empty. Exactly one per header column.
    cells: list[str]
    #: Indexes of cells that held a formula (never evaluated; the formula text is in cells).
    formulas: set[int] = field(default_factory=set)


@dataclass
class Sheet:
    #: The first non-empty row, stripped, NFC (trailing empty headers left out).
    headers: list[str]
    #: The following rows, blank rows left out.
    rows: list[Row]


def number_text(value: int) -> str:
    """A count for a message: 10.000 in Vietnamese, 10,000 in English."""
    return format_quantity(value, current_lang())


def looks_vietnamese(text: str) -> bool:
    """True when text decoded from Windows-1258 reads as Vietnamese.

    Vietnamese written in cp1258 has tone marks as combining characters right after a vowel,
    and letters such as ă â ê ô ơ ư đ. Text in another 8-bit encoding decoded as cp1258 has
    none of them, or has marks floating after spaces and digits.
    """
    signs = stray = 0
    previous = ""
    for char in text:
        if char in _CP1258_TONES:
            if previous.isalpha():
                signs += 1
            else:
                stray += 1
        elif char in _VIETNAMESE_LETTERS:
            signs += 1
        previous = char
    return signs > 0 and stray * 20 <= signs


def read_sheet(filename: str, data: bytes, *, max_rows: int) -> Sheet:
    """Read the first worksheet of an XLSX, or a CSV, into headers and text rows.

    Raises SheetError (message for the user, HTTP status) when the file is not a readable
    sheet, too large, or has more than `max_rows` data rows.
    """
    if len(data) > MAX_BYTES:
        raise SheetError(
            _(
                "Tệp quá lớn (hơn %(max)s MB). Hãy chia thành nhiều tệp nhỏ hơn.",
                max=number_text(MAX_BYTES // (1024 * 1024)),
            ),
            413,
        )
    if not data.strip():
        raise SheetError(
            _("Tệp trống, không có dữ liệu. Hãy chọn tệp bảng tính (.xlsx hoặc .csv) đã điền.")
        )
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, max_rows)
    if data.startswith(_OLE_MAGIC) or filename.lower().rstrip().endswith(".xls"):
        raise SheetError(
            _(
                "Tệp Excel dạng cũ (.xls) hoặc có đặt mật khẩu thì không đọc được. "
                "Hãy lưu lại tệp dưới dạng .xlsx hoặc .csv (không đặt mật khẩu)."
            )
        )
    if data.startswith(_NOT_SHEET_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise _not_a_sheet()
    return _read_csv(data, max_rows)


def header_index(headers: list[str], columns: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map column keys to indexes: a header matches a key when its fold() (tones and đ folded,
    lowercase, spaces collapsed, a trailing '*' or '(bắt buộc)' ignored) equals the fold() of
    one of the key's names. Unknown headers are ignored. Raise SheetError naming every
    duplicated header. (Callers decide which keys are required.)"""
    keys_by_name: dict[str, str] = {}
    for key, names in columns.items():
        for name in names:
            keys_by_name.setdefault(fold_header(name), key)
    found: dict[str, int] = {}
    duplicated: list[str] = []
    for index, header in enumerate(headers):
        folded = fold_header(header)
        key = keys_by_name.get(folded) if folded else None
        if key is None:
            continue
        if key in found:
            first = headers[found[key]]
            if first not in duplicated:
                duplicated.append(first)
            continue
        found[key] = index
    if duplicated:
        raise SheetError(
            _(
                "Dòng tiêu đề có cột bị lặp: %(names)s. "
                "Hãy giữ lại một cột cho mỗi tên rồi tải lên lại.",
                names=", ".join(f"“{name}”" for name in duplicated),
            )
        )
    return found


def read_table(
    file_name: str,
    data: bytes,
    columns: dict[str, tuple[str, ...]],
    required: dict[str, str],
    empty: str,
    max_rows: int,
) -> tuple[Sheet, dict[str, int]]:
    """An import's sheet and its columns' indexes (header_index()), read_sheet() first.

    Refused with 422: a column of `required` (key → the header to name) missing, naming them
    all; no row under the header (`empty` says so). Nothing is written before either.
    """
    sheet = read_sheet(file_name, data, max_rows=max_rows)
    index = header_index(sheet.headers, columns)
    missing = [header for key, header in required.items() if key not in index]
    if missing:
        raise SheetError(
            _(
                "Bảng tính thiếu cột %(names)s. Hãy dùng tệp mẫu (tải ở bước 1) và giữ nguyên "
                "dòng tiêu đề.",
                names=", ".join(f"“{header}”" for header in missing),
            ),
            422,
        )
    if not sheet.rows:
        raise SheetError(empty, 422)
    return sheet, index


def fold_header(text: str) -> str:
    """A header as compared: folded, spaces collapsed, a trailing * or (bắt buộc) left out."""
    value = " ".join(fold(text).split())
    while True:
        shorter = _REQUIRED_MARK.sub("", value)
        if shorter == value:
            return value
        value = shorter


# --------------------------------------------------------------------------- shared


def _not_a_sheet() -> SheetError:
    return SheetError(_("Tệp này không phải bảng tính. Hãy chọn tệp .xlsx hoặc .csv."))


def _too_many_rows(max_rows: int) -> SheetError:
    return SheetError(
        _(
            "Tệp có hơn %(max)s dòng dữ liệu; hãy chia thành nhiều tệp, "
            "mỗi tệp tối đa %(max)s dòng.",
            max=number_text(max_rows),
        ),
        413,
    )


def _no_data() -> SheetError:
    return SheetError(
        _(
            "Bảng tính không có dữ liệu: trang đầu tiên trống. "
            "Hãy điền dòng tiêu đề và các dòng dữ liệu vào trang đầu tiên rồi tải lên lại."
        )
    )


class _Collector:
    """Turns the stream of (line, cells, formulas) into a Sheet, stopping at the row limit."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self.max_lines = max_rows + max(max_rows, MIN_BLANK_ALLOWANCE)
        self.headers: list[str] | None = None
        self.rows: list[Row] = []

    @property
    def width(self) -> int:
        """How many cells of a row are used: the header's, or MAX_COLUMNS while looking for it."""
        return MAX_COLUMNS if self.headers is None else len(self.headers)

    def add(self, line: int, cells: list[str], formulas: set[int]) -> None:
        if line > self.max_lines:
            # Far more lines than data rows: blank (often just formatted) rows by the thousand.
            raise SheetError(
                _(
                    "Bảng tính có quá nhiều dòng, phần lớn là dòng trống (đến dòng %(line)s). "
                    "Hãy xoá các dòng thừa bên dưới dữ liệu, hoặc chép dữ liệu sang một tệp "
                    "mới, rồi tải lên lại.",
                    line=number_text(line),
                ),
                413,
            )
        if self.headers is None:
            if any(cells):
                cells = cells[:MAX_COLUMNS]
                while cells and not cells[-1]:
                    cells.pop()
                self.headers = cells
            return
        width = len(self.headers)
        cells = cells[:width]
        if not any(cells):
            return
        if len(self.rows) >= self.max_rows:
            raise _too_many_rows(self.max_rows)
        cells.extend([""] * (width - len(cells)))
        self.rows.append(Row(line, cells, {i for i in formulas if i < width}))

    def sheet(self) -> Sheet:
        if self.headers is None:
            raise _no_data()
        return Sheet(self.headers, self.rows)


# --------------------------------------------------------------------------- XLSX


def _unreadable_xlsx() -> SheetError:
    return SheetError(
        _(
            "Không đọc được tệp Excel này (tệp bị hỏng hoặc không phải .xlsx). "
            "Hãy mở bằng Excel rồi lưu lại dưới dạng .xlsx hoặc .csv."
        )
    )


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse a ZIP that is not a workbook or would unpack to too much, before openpyxl."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        raise _unreadable_xlsx() from error
    names = {info.filename for info in members}
    if "[Content_Types].xml" not in names:
        if "mimetype" in names and "content.xml" in names:
            raise SheetError(
                _(
                    "Tệp bảng tính OpenDocument (.ods) chưa đọc được. "
                    "Hãy lưu lại tệp dưới dạng .xlsx hoặc .csv."
                )
            )
        raise _not_a_sheet()
    too_big = SheetError(
        _(
            "Tệp Excel này quá lớn khi giải nén (hơn %(max)s MB). "
            "Hãy chia thành nhiều tệp nhỏ hơn.",
            max=number_text(XLSX_MAX_UNPACKED // (1024 * 1024)),
        ),
        413,
    )
    if len(members) > XLSX_MAX_MEMBERS:
        raise too_big
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise _unreadable_xlsx()
        total += info.file_size
        if total > XLSX_MAX_UNPACKED:
            raise too_big
        if info.file_size > XLSX_RATIO_FROM and (
            info.compress_size == 0 or info.file_size / info.compress_size > XLSX_MAX_RATIO
        ):
            raise too_big
    # XML with a DOCTYPE can declare entities (billion laughs): workbooks never have one.
    for info in members:
        if info.filename.endswith((".xml", ".rels")):
            try:
                with archive.open(info) as member:
                    start = member.read(4096)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
                raise _unreadable_xlsx() from e
            if b"<!DOCTYPE" in start or b"<!ENTITY" in start:
                raise _unreadable_xlsx()


def _read_xlsx(data: bytes, max_rows: int) -> Sheet:
    from openpyxl import load_workbook

    _check_xlsx_archive(data)
    collector = _Collector(max_rows)
    workbook = None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it skips (data validation, styles): not our concern.
            warnings.simplefilter("ignore")
            try:
                workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
                if not workbook.worksheets:
                    raise _no_data()
                sheet = workbook.worksheets[0]
                # The stored size can be wrong (or crafted): read the rows as they are.
                sheet.reset_dimensions()
                rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS)
                for line, row in enumerate(rows, start=1):
                    cells: list[str] = []
                    formulas: set[int] = set()
                    # Only the header's columns matter once it is known.
                    used = row[: collector.width]
                    if all(cell.value is None for cell in used):
                        collector.add(line, cells, formulas)
                        continue
                    for index, cell in enumerate(used):
                        text, formula = _xlsx_text(cell)
                        cells.append(text)
                        if formula:
                            formulas.add(index)
                    collector.add(line, cells, formulas)
            except SheetError:
                raise
            except Exception as error:  # a damaged or crafted workbook: any parser error
                raise _unreadable_xlsx() from error
    finally:
        if workbook is not None:
            workbook.close()
    return collector.sheet()


def _xlsx_text(cell) -> tuple[str, bool]:
    """The text of a cell as Excel shows it, and whether it is a formula."""
    value = cell.value
    if value is None:
        return "", False
    if cell.data_type == "f":
        text = value if isinstance(value, str) else getattr(value, "text", None) or str(value)
        text = nfc(str(text)).strip()
        return text, text.startswith("=")
    return value_text(value), False


def value_text(value) -> str:
    """A cell value as text: 120000 (not 120000.0), 1.5, 23/12/2022, có/không, "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, timedelta):
        return str(value)
    return nfc(str(value)).strip()


# --------------------------------------------------------------------------- CSV


def _encoding_error() -> SheetError:
    return SheetError(
        _(
            "Không đọc được bảng mã của tệp CSV. "
            "Hãy lưu lại với bảng mã UTF-8 (Excel: Lưu thành › CSV UTF-8)."
        )
    )


def decode_text(data: bytes) -> str:
    """The text of a CSV: UTF-8 (BOM or not), UTF-16 with BOM, or Vietnamese Windows-1258."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data:
            if _looks_utf16(data):
                raise _encoding_error()
            raise _not_a_sheet()
        encodings = ("utf-8", "cp1258")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _is_binary(text):
            raise _not_a_sheet()
        if encoding == "cp1258" and not looks_vietnamese(text):
            break
        return nfc(text.lstrip("\ufeff"))
    raise _encoding_error()


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > len(even) * 0.3 or odd.count(0) > len(odd) * 0.3


def _is_binary(text: str) -> bool:
    controls = len(_CONTROL.findall(text))
    return "\x00" in text or controls > max(2, len(text) // 200)


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the one of , ; tab found most often outside quotes."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(data: bytes, max_rows: int) -> Sheet:
    text = decode_text(data)
    lines = io.StringIO(text)  # read lazily: only the first lines are looked at here
    first_line = lines.readline()
    delimiter = None
    skip_first = False
    if match := _SEP_LINE.match(first_line):
        # Excel's "sep=;" hint: it sets the delimiter and is not shown as a row.
        delimiter, skip_first = match.group(1), True
    if delimiter is None:
        header_line = first_line
        while header_line and not header_line.strip():
            header_line = lines.readline()
        delimiter = sniff_delimiter(header_line)
    source = io.StringIO(text, newline="")
    if skip_first:
        source.readline()
    collector = _Collector(max_rows)
    reader = csv.reader(source, delimiter=delimiter)
    line = 0
    try:
        for record in reader:
            line += 1
            cells = [cell.strip() for cell in record]
            formulas = {index for index, cell in enumerate(cells) if cell.startswith("=")}
            collector.add(line, cells, formulas)
    except csv.Error as error:
        raise SheetError(
            _(
                "Không đọc được tệp CSV này (dòng %(line)s). "
                "Hãy mở bằng Excel rồi lưu lại dưới dạng CSV UTF-8.",
                line=line + 1,
            )
        ) from error
    return collector.sheet()
