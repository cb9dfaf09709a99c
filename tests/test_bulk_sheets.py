"""Reading uploaded sheets safely (shop.bulk.sheets): XLSX and CSV in, text rows out."""

import io
import time
import tracemalloc
import unicodedata
import zipfile
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from shop.bulk.sheets import (
    MAX_BYTES,
    Row,
    Sheet,
    SheetError,
    fold_header,
    header_index,
    read_sheet,
)

pytestmark = pytest.mark.backend_independent

NAME = "Bánh phu thê"
XLS_HINT = "Hãy lưu lại tệp dưới dạng .xlsx hoặc .csv"
ENCODING_REFUSAL = (
    "Không đọc được bảng mã của tệp CSV. "
    "Hãy lưu lại với bảng mã UTF-8 (Excel: Lưu thành › CSV UTF-8)."
)
NOT_A_SHEET = "Tệp này không phải bảng tính. Hãy chọn tệp .xlsx hoặc .csv."


def xlsx(*rows, title="Sản phẩm", more_sheets=(), active=None) -> bytes:
    """An XLSX whose first worksheet holds rows (None leaves a row blank)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row) if row is not None else [])
    for name in more_sheets:
        workbook.create_sheet(name).append(["khác", "trang"])
    if active is not None:
        workbook.active = active
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refusal(filename, data, max_rows=100) -> SheetError:
    with pytest.raises(SheetError) as caught:
        read_sheet(filename, data, max_rows=max_rows)
    return caught.value


def texts(sheet: Sheet) -> list[list[str]]:
    return [row.cells for row in sheet.rows]


# --------------------------------------------------------------------------- XLSX


def test_an_xlsx_becomes_text_rows_as_excel_shows_them():
    data = xlsx(
        ["Tên sản phẩm*", "Giá (đồng)", "Tỉ lệ", "Ngày", "Có hàng", "Ghi chú"],
        [f"  {NAME}  ", 120000.0, 1.5, date(2022, 12, 23), True, None],
        ["Mật ong", 85000, 0.25, datetime(2023, 1, 2, 15, 30), False, "x"],
    )
    sheet = read_sheet("san-pham.xlsx", data, max_rows=10)
    assert sheet.headers == ["Tên sản phẩm*", "Giá (đồng)", "Tỉ lệ", "Ngày", "Có hàng", "Ghi chú"]
    assert sheet.rows == [
        Row(2, [NAME, "120000", "1.5", "23/12/2022", "có", ""], set()),
        Row(3, ["Mật ong", "85000", "0.25", "02/01/2023", "không", "x"], set()),
    ]


def test_line_numbers_are_excel_rows_and_blank_rows_are_left_out():
    data = xlsx(
        None,
        ["", "  "],
        ["Tên", "Giá"],
        ["A", "1"],
        None,
        ["", " "],
        ["B", "2"],
    )
    sheet = read_sheet("a.xlsx", data, max_rows=10)
    assert sheet.headers == ["Tên", "Giá"]
    assert [(row.line, row.cells) for row in sheet.rows] == [(4, ["A", "1"]), (7, ["B", "2"])]


def test_cells_are_one_per_header_short_rows_padded_extra_cells_dropped():
    data = xlsx(["Tên", "Giá", "Đơn vị", None, None], ["A"], ["B", "2", "kg", "thừa", "thừa"])
    sheet = read_sheet("a.xlsx", data, max_rows=10)
    assert sheet.headers == ["Tên", "Giá", "Đơn vị"]
    assert texts(sheet) == [["A", "", ""], ["B", "2", "kg"]]


def test_a_formula_is_kept_as_text_and_never_evaluated():
    data = xlsx(["Tên", "Giá", "Tổng"], ["A", 2, "=B2*1000"], ["B", "=1+1", 5])
    sheet = read_sheet("a.xlsx", data, max_rows=10)
    assert sheet.rows[0].cells == ["A", "2", "=B2*1000"]
    assert sheet.rows[0].formulas == {2}
    assert sheet.rows[1].cells == ["B", "=1+1", "5"]
    assert sheet.rows[1].formulas == {1}


def test_the_first_worksheet_is_read_even_when_another_is_active():
    data = xlsx(["Tên"], ["A"], more_sheets=["Danh mục"], active=1)
    assert read_sheet("a.xlsx", data, max_rows=10).headers == ["Tên"]


def test_nfd_text_from_a_mac_comes_out_nfc():
    decomposed = unicodedata.normalize("NFD", NAME)
    assert decomposed != NAME
    data = xlsx([unicodedata.normalize("NFD", "Tên")], [decomposed])
    sheet = read_sheet("a.xlsx", data, max_rows=5)
    assert sheet.headers == ["Tên"]
    assert sheet.rows[0].cells == [NAME]


def test_the_content_decides_the_format_not_the_name():
    sheet = read_sheet("bang.csv", xlsx(["Tên"], ["A"]), max_rows=5)
    assert texts(sheet) == [["A"]]
    sheet = read_sheet("bang.xlsx", "Tên;Giá\nA;1\n".encode(), max_rows=5)
    assert texts(sheet) == [["A", "1"]]


def test_an_empty_first_sheet_is_refused():
    error = refusal("a.xlsx", xlsx(None, ["", None]))
    assert error.status == 400
    assert "Bảng tính không có dữ liệu" in error.message


def test_a_sheet_with_headers_only_has_no_rows():
    sheet = read_sheet("a.xlsx", xlsx(["Tên", "Giá"]), max_rows=5)
    assert sheet == Sheet(["Tên", "Giá"], [])


def test_more_rows_than_allowed_are_refused_with_413():
    rows = [["Tên"], *[[f"SP {n}"] for n in range(4)]]
    assert len(read_sheet("a.xlsx", xlsx(*rows[:4]), max_rows=3).rows) == 3
    error = refusal("a.xlsx", xlsx(*rows), max_rows=3)
    assert error.status == 413
    assert error.message == (
        "Tệp có hơn 3 dòng dữ liệu; hãy chia thành nhiều tệp, mỗi tệp tối đa 3 dòng."
    )


def test_rows_far_below_the_data_keep_their_line_number():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tên", "Giá"])
    sheet.append(["A", 1])
    sheet["A1000"] = "B"
    buffer = io.BytesIO()
    workbook.save(buffer)
    sheet = read_sheet("a.xlsx", buffer.getvalue(), max_rows=100)
    assert [(row.line, row.cells) for row in sheet.rows] == [(2, ["A", "1"]), (1000, ["B", ""])]


BLANK_ROWS = (
    "Bảng tính có quá nhiều dòng, phần lớn là dòng trống (đến dòng 1.101). "
    "Hãy xoá các dòng thừa bên dưới dữ liệu, hoặc chép dữ liệu sang một tệp mới, "
    "rồi tải lên lại."
)


def test_thousands_of_blank_rows_are_refused_with_what_to_do():
    """Blank lines are allowed besides the data rows, up to max(max_rows, 1,000) of them."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tên", "Giá"])
    sheet.append(["A", 1])
    sheet.cell(row=5000, column=2).style = "Note"  # a formatted, empty cell far below
    sheet["A5001"] = "B"
    buffer = io.BytesIO()
    workbook.save(buffer)
    error = refusal("a.xlsx", buffer.getvalue(), max_rows=100)
    assert error.status == 413
    assert error.message == BLANK_ROWS
    error = refusal("a.csv", b"Ten;Gia\nA;1\n" + b";;\n" * 2000 + b"B;2\n", max_rows=100)
    assert error.message == BLANK_ROWS


HUGE_ROWS = 100_000


@pytest.fixture(scope="session")
def huge_xlsx(tmp_path_factory) -> bytes:
    """100,000 product rows, written once per session in openpyxl's streaming mode.

    openpyxl's streaming writer leaves out the <dimension> Excel writes, so openpyxl reads
    the whole sheet once just to find its size: the slowest case for the reader.
    """
    path = tmp_path_factory.mktemp("sheets") / "100k.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sản phẩm")
    sheet.append(["Tên sản phẩm*", "Giá (đồng)"])
    for n in range(HUGE_ROWS):
        sheet.append([f"Bánh {n}", 120_000 + n])
    workbook.save(path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def huge_excel_xlsx(huge_xlsx) -> bytes:
    """The same sheet with its size stated up front, as Excel writes it."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(huge_xlsx)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                dimension = f'</sheetPr><dimension ref="A1:B{HUGE_ROWS + 1}"/>'.encode()
                content = content.replace(b"</sheetPr>", dimension, 1)
            target.writestr(info.filename, content)
    return buffer.getvalue()


def test_a_100000_row_sheet_is_refused_fast(huge_xlsx):
    started = time.perf_counter()
    error = refusal("huge.xlsx", huge_xlsx, max_rows=10_000)
    elapsed = time.perf_counter() - started
    assert error.status == 413
    assert "Tệp có hơn 10.000 dòng dữ liệu" in error.message
    # About 3 s on an idle machine; the margin is for a busy one.
    assert elapsed < 8, f"took {elapsed:.1f} s"


def test_a_100000_row_sheet_is_not_held_in_memory(huge_excel_xlsx):
    """Refusing after a few rows keeps memory far below what 100,000 rows would need."""
    tracemalloc.start()
    try:
        started = time.perf_counter()
        error = refusal("huge.xlsx", huge_excel_xlsx, max_rows=100)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.status == 413
    # 100,000 rows of Row objects would take tens of MB, and much longer to read.
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert elapsed < 3, f"took {elapsed:.1f} s"


def patched_zip(data: bytes, **extra_members: bytes) -> bytes:
    """The same ZIP with more members written into it."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in extra_members.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_reading():
    bomb = patched_zip(xlsx(["Tên"], ["A"]), xl__media__padding_bin=b"\0" * (101 * 1024 * 1024))
    assert len(bomb) < MAX_BYTES
    started = time.perf_counter()
    error = refusal("bom.xlsx", bomb)
    assert time.perf_counter() - started < 1
    assert error.status == 413
    assert "quá lớn khi giải nén (hơn 100 MB)" in error.message


def test_an_xlsx_member_compressed_too_well_is_refused():
    bomb = patched_zip(xlsx(["Tên"], ["A"]), xl__media__padding_bin=b"\0" * (5 * 1024 * 1024))
    error = refusal("bom.xlsx", bomb)
    assert error.status == 413
    assert "quá lớn khi giải nén" in error.message


def test_an_xlsx_with_a_doctype_is_refused():
    data = xlsx(["Tên"], ["A"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/workbook.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + content
            target.writestr(info, content)
    error = refusal("a.xlsx", buffer.getvalue())
    assert "Không đọc được tệp Excel này" in error.message


def test_a_damaged_xlsx_is_refused():
    data = xlsx(["Tên"], ["A"])
    error = refusal("a.xlsx", data[: len(data) // 2])
    assert error.status == 400
    assert "Không đọc được tệp Excel này" in error.message


def test_a_zip_that_is_no_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("anh.jpg", b"\xff\xd8\xff\xe0")
    assert refusal("anh.zip", buffer.getvalue()).message == NOT_A_SHEET


def test_an_ods_is_refused_with_what_to_do():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    assert XLS_HINT in refusal("a.ods", buffer.getvalue()).message


# --------------------------------------------------------------------------- other files


def test_old_excel_is_refused_with_what_to_do():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    for filename, data in (("a.xls", ole), ("a.xlsx", ole), ("bao-cao.XLS", b"<table></table>")):
        error = refusal(filename, data)
        assert error.status == 400
        assert ".xls" in error.message
        assert XLS_HINT in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        b"\xff\xd8\xff\xe0\0\x10JFIF",
        b"GIF89a\x01\0\x01\0",
        b"RIFF\x24\0\0\0WEBPVP8 ",
        "Tên,Giá\nA,\0\x01\x02\x03\n".encode(),
        bytes(range(256)) * 8,
    ],
    ids=["pdf", "png", "jpeg", "gif", "webp", "nul", "binary"],
)
def test_files_that_are_no_sheet_are_refused(data):
    error = refusal("san-pham.csv", data)
    assert error.status == 400
    assert error.message == NOT_A_SHEET


@pytest.mark.parametrize("data", [b"", b"  \r\n\n  "])
def test_an_empty_file_is_refused(data):
    error = refusal("a.csv", data)
    assert error.status == 400
    assert error.message.startswith("Tệp trống")


def test_a_file_over_20_mb_is_refused():
    data = b"Ten\n" + b"a\n" * (MAX_BYTES // 2)
    error = refusal("a.csv", data)
    assert error.status == 413
    assert "hơn 20 MB" in error.message


# --------------------------------------------------------------------------- CSV

CSV_TEXT = f"Tên sản phẩm*,Giá (đồng)\r\n{NAME},120.000\r\nMật ong,85k\r\n"
CSV_ROWS = [Row(2, [NAME, "120.000"], set()), Row(3, ["Mật ong", "85k"], set())]


@pytest.mark.parametrize(
    "data",
    [
        CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("utf-8-sig"),
        CSV_TEXT.replace(",", "\t").encode("utf-16"),
        b"\xfe\xff" + CSV_TEXT.replace(",", "\t").encode("utf-16-be"),
        CSV_TEXT.replace(",", ";").encode("utf-8-sig"),
        unicodedata.normalize("NFD", CSV_TEXT).encode("utf-8"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-tab", "utf16-be-tab", "semicolon", "nfd"],
)
def test_csv_in_the_encodings_excel_writes(data):
    sheet = read_sheet("san-pham.csv", data, max_rows=10)
    assert sheet.headers == ["Tên sản phẩm*", "Giá (đồng)"]
    assert sheet.rows == CSV_ROWS


def cp1258(text: str, *, decompose_all=False) -> bytes:
    """Text as Vietnamese Windows writes it: a letter Windows-1258 has in one byte stays
    whole (á, ê, ơ, đ); any other toned letter is its vowel followed by a combining tone.
    With decompose_all every tone is written as a combining mark."""
    encoded = []
    for char in unicodedata.normalize("NFC", text):
        if not (decompose_all and not char.isascii()):
            try:
                encoded.append(char.encode("cp1258"))
                continue
            except UnicodeEncodeError:
                pass
        marks = unicodedata.normalize("NFD", char)
        tone = "".join(mark for mark in marks if mark in TONES)
        vowel = unicodedata.normalize("NFC", "".join(mark for mark in marks if mark not in TONES))
        encoded.append(vowel.encode("cp1258") + tone.encode("cp1258"))
    return b"".join(encoded)


TONES = "\u0300\u0301\u0303\u0309\u0323"


@pytest.mark.parametrize("decompose_all", [False, True])
def test_windows_1258_is_recognised_and_its_tones_composed(decompose_all):
    text = f"Tên sản phẩm;Giá\n{NAME};120000\nĐậu phộng rang;50000\n"
    data = cp1258(text, decompose_all=decompose_all)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    # Windows-1258 writes tones as combining marks after the letter: "ả" is a + U+0309.
    assert b"a\xd2" in data
    sheet = read_sheet("san-pham.csv", data, max_rows=10)
    assert sheet.headers == ["Tên sản phẩm", "Giá"]
    assert sheet.rows[0].cells[0] == NAME
    assert sheet.rows[1].cells == ["Đậu phộng rang", "50000"]


def test_banh_phu_the_in_windows_1258_comes_out_equal_to_the_nfc_text():
    nfc_name = unicodedata.normalize("NFC", "Bánh phu thê")
    for data in (nfc_name.encode("cp1258"), cp1258(nfc_name, decompose_all=True)):
        sheet = read_sheet("a.csv", b"Ten\n" + data + b"\n", max_rows=5)
        assert sheet.rows[0].cells == [nfc_name]


@pytest.mark.parametrize(
    "data",
    [
        "Name,Town\nMüller,Köln\n".encode("latin-1"),
        "Name,Price\nコーヒー,1\n".encode("shift_jis"),
        "Name,Price\nCafé,1\n".encode("cp1252"),
        "Tên,Giá\nA,1\n".encode("utf-16-le"),
    ],
    ids=["latin1", "shift-jis", "cp1252", "utf16-without-bom"],
)
def test_other_encodings_are_refused_clearly(data):
    error = refusal("a.csv", data)
    assert error.status == 400
    assert error.message == ENCODING_REFUSAL


def test_broken_utf8_after_a_bom_is_refused_clearly():
    assert refusal("a.csv", b"\xef\xbb\xbfTen\n\xff\xfe\xfa\n").message == ENCODING_REFUSAL


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("Tên,Giá,Đơn vị", ","),
        ("Tên;Giá;Đơn vị", ";"),
        ("Tên\tGiá\tĐơn vị", "\t"),
        ('"Ảnh (tên tệp, cách nhau bởi dấu ;)";Giá;Đơn vị', ";"),
        ('"Ảnh (tên tệp; cách nhau, bởi dấu ;)",Giá,Đơn vị', ","),
    ],
)
def test_the_delimiter_is_sniffed_from_the_header_line(header, delimiter):
    data = f"\n{header}\nA{delimiter}1{delimiter}kg\n".encode()
    sheet = read_sheet("a.csv", data, max_rows=5)
    assert len(sheet.headers) == 3
    assert sheet.rows == [Row(3, ["A", "1", "kg"], set())]


def test_excel_sep_line_sets_the_delimiter_and_is_no_row():
    sheet = read_sheet("a.csv", b"sep=;\nTen;Gia, VND\nA;1,5\n", max_rows=5)
    assert sheet.headers == ["Ten", "Gia, VND"]
    assert sheet.rows == [Row(2, ["A", "1,5"], set())]


def test_quoted_fields_with_newlines_keep_the_excel_row_numbers():
    data = (
        "Tên,Mô tả,Giá\r\n"
        'A,"Dòng một\r\nDòng hai\r\nDòng ba",1\r\n'
        "\r\n"
        'B,"có ""ngoặc"", và dấu phẩy",2\r\n'
    ).encode("utf-8-sig")
    sheet = read_sheet("a.csv", data, max_rows=5)
    assert sheet.rows == [
        Row(2, ["A", "Dòng một\r\nDòng hai\r\nDòng ba", "1"], set()),
        Row(4, ["B", 'có "ngoặc", và dấu phẩy', "2"], set()),
    ]


def test_a_csv_cell_starting_with_equals_is_reported_as_a_formula():
    data = 'Tên,Giá,Ghi chú\nA, =1+2 ,"=HYPERLINK(""http://x"")"\nB,3,a=b\n'.encode()
    sheet = read_sheet("a.csv", data, max_rows=5)
    assert sheet.rows[0].cells == ["A", "=1+2", '=HYPERLINK("http://x")']
    assert sheet.rows[0].formulas == {1, 2}
    assert sheet.rows[1].formulas == set()


def test_csv_row_limit_and_blank_lines():
    lines = ["Tên"] + [f"SP {n}\n" for n in range(3)]
    data = "\n".join(lines).encode()
    assert len(read_sheet("a.csv", data, max_rows=3).rows) == 3
    error = refusal("a.csv", (data.decode() + "SP 4\n").encode(), max_rows=3)
    assert error.status == 413
    assert "Tệp có hơn 3 dòng dữ liệu" in error.message


def test_a_csv_of_blank_lines_only_is_refused():
    assert "Bảng tính không có dữ liệu" in refusal("a.csv", b",,,\n\n  ,, \n").message


def test_a_csv_with_an_overlong_field_is_refused():
    data = b"Ten,Mo ta\nA," + b"x" * 200_000 + b"\n"
    error = refusal("a.csv", data)
    assert error.status == 400
    assert error.message.startswith("Không đọc được tệp CSV này (dòng 2)")


# --------------------------------------------------------------------------- headers

COLUMNS = {
    "name": ("Tên sản phẩm", "Tên"),
    "price": ("Giá (đồng)", "Giá"),
    "unit": ("Đơn vị",),
    "photos": ("Ảnh (tên tệp, cách nhau bởi dấu ;)",),
}


def test_headers_match_by_folded_name():
    headers = [
        "TEN SAN PHAM *",
        "Ghi chú riêng",
        "  giá   (đồng)  (Bắt buộc)",
        unicodedata.normalize("NFD", "Đơn  vị*"),
        "ảnh (tên tệp, cách nhau bởi dấu ;)",
        "",
    ]
    assert header_index(headers, COLUMNS) == {"name": 0, "price": 2, "unit": 3, "photos": 4}


def test_missing_columns_are_simply_absent():
    assert header_index(["Tên", "Khác"], COLUMNS) == {"name": 0}


def test_fold_header():
    assert fold_header("  Đơn vị tính (bắt buộc) * ") == "don vi tinh"
    assert fold_header("Giá\u00a0bán*") == "gia ban"


def test_duplicated_headers_are_refused_naming_each():
    with pytest.raises(SheetError) as caught:
        header_index(
            ["Tên", "Giá", "Ten san pham*", "Giá (đồng)", "Giá", "Ghi chú", "Ghi chú"], COLUMNS
        )
    assert caught.value.status == 400
    assert caught.value.message == (
        "Dòng tiêu đề có cột bị lặp: “Tên”, “Giá”. Hãy giữ lại một cột cho mỗi tên rồi tải lên lại."
    )


# --------------------------------------------------------------------------- English

ENGLISH = [
    (
        lambda: read_sheet("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", max_rows=5),
        "Old Excel files (.xls) and password-protected files cannot be read. "
        "Save the file again as .xlsx or .csv (without a password).",
    ),
    (
        lambda: read_sheet("a.pdf", b"%PDF-1.4", max_rows=5),
        "This file is not a spreadsheet. Choose an .xlsx or .csv file.",
    ),
    (
        lambda: read_sheet("a.csv", b"", max_rows=5),
        "The file is empty. Choose the filled-in spreadsheet (.xlsx or .csv).",
    ),
    (
        lambda: read_sheet("a.csv", b"x" * (MAX_BYTES + 1), max_rows=5),
        "The file is too large (over 20 MB). Split it into several smaller files.",
    ),
    (
        lambda: read_sheet("a.csv", "Name\nMüller\n".encode("latin-1"), max_rows=5),
        "The character encoding of the CSV file cannot be read. "
        "Save it again with UTF-8 encoding (Excel: Save As › CSV UTF-8).",
    ),
    (
        lambda: read_sheet("a.csv", b"Ten\n" + b"a\n" * 20_001, max_rows=20_000),
        "The file has more than 20,000 data rows; "
        "split it into several files of at most 20,000 rows each.",
    ),
    (
        lambda: read_sheet("a.csv", b"Ten\n" + b"\n" * 2000, max_rows=5),
        "The spreadsheet has far too many rows, most of them empty (down to row 1,006). "
        "Delete the extra rows below the data, or copy the data into a new file, "
        "and upload again.",
    ),
    (
        lambda: read_sheet("a.csv", b"\n,,\n", max_rows=5),
        "The spreadsheet has no data: its first sheet is empty. "
        "Fill in the header row and the data rows on the first sheet and upload again.",
    ),
    (
        lambda: read_sheet("a.xlsx", b"PK\x03\x04broken", max_rows=5),
        "This Excel file cannot be read (it is damaged or not an .xlsx file). "
        "Open it in Excel and save it again as .xlsx or .csv.",
    ),
    (
        lambda: read_sheet(
            "a.xlsx",
            patched_zip(xlsx(["A"]), xl__x_bin=b"\0" * (2 * 1024 * 1024)),
            max_rows=5,
        ),
        "This Excel file is too large when unpacked (over 100 MB). "
        "Split it into several smaller files.",
    ),
    (
        lambda: read_sheet("a.csv", b"A,B\n1," + b"x" * 200_000, max_rows=5),
        "This CSV file cannot be read (row 2). Open it in Excel and save it again as CSV UTF-8.",
    ),
    (
        lambda: header_index(["Tên", "Tên*"], COLUMNS),
        "The header row repeats columns: “Tên”. Keep one column for each name and upload again.",
    ),
]


@pytest.mark.parametrize(("action", "english"), ENGLISH)
def test_every_refusal_reads_in_english(app, action, english):
    with app.test_request_context(), force_locale("en"), pytest.raises(SheetError) as caught:
        action()
    assert caught.value.message == english


def test_the_ods_refusal_reads_in_english(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    with app.test_request_context(), force_locale("en"):
        message = refusal("a.ods", buffer.getvalue()).message
    assert message == (
        "OpenDocument spreadsheets (.ods) cannot be read yet. Save the file again as .xlsx or .csv."
    )


def test_outside_a_request_messages_are_vietnamese():
    """The benchmark and background jobs call the reader without a request."""
    assert refusal("a.pdf", b"%PDF-1.4").message == NOT_A_SHEET
