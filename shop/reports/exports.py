"""Tables as downloads: CSV that Excel opens in Vietnamese, and XLSX with real numbers.

Shared by the dashboard (/quan-tri/so-lieu/<table>.csv|.xlsx) and the audit log.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from flask import Response, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Rows written between two chunks of a streamed CSV.
CSV_BATCH = 500
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's limit on the text of one cell.
XLSX_CELL_CHARS = 32767
#: Column widths (in characters) stay between these.
MIN_WIDTH, MAX_WIDTH = 8, 60
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value) -> str:
    """The value as text, with a leading quote if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _csv_value(value) -> str:
    return str(value) if _is_number(value) else safe_cell(value)


def _download_headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store"}


def download_response(data: bytes, filename: str, mimetype: str = XLSX_MIMETYPE) -> Response:
    """A file made in memory (a spreadsheet), sent as a download nobody caches."""
    return Response(data, mimetype=mimetype, headers=_download_headers(filename))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], bom: bool = True) -> Iterator[str]:
    """`rows` as CSV text, CSV_BATCH rows a chunk, formulas defused; with a BOM first (so
    Excel reads the accents) unless `bom` is false (feeds read by machines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([safe_cell(h) for h in header])
    yield ("\ufeff" if bom else "") + flush()
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if n % CSV_BATCH == 0:
            yield flush()
    yield flush()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Stream `rows` as a CSV download (csv_chunks(), with a BOM).

    `rows` may be a generator that reads the database lazily; it runs inside the request.
    """
    return Response(
        stream_with_context(csv_chunks(header, rows)),
        mimetype="text/csv",
        headers=_download_headers(filename),
    )


def _xlsx_text(value) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))
    return text[:XLSX_CELL_CHARS]


def _width_of(value) -> int:
    text = str(value) if value is not None else ""
    return max((len(line) for line in text.splitlines()), default=0)


def column_widths(header: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """A width per column that fits its header and its longest value, within bounds."""
    widths = [_width_of(h) for h in header]
    for row in rows:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], _width_of(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def xlsx_bytes(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] | None = None,
) -> bytes:
    """One sheet: a bold, frozen header row, then the rows; numbers stay numbers.

    Without `widths` the rows are read first to size the columns; pass widths for long
    exports so the rows can stream through openpyxl's write-only mode.
    """
    if widths is None:
        rows = list(rows)
        widths = column_widths(header, rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_TITLE_BAD.sub(" ", title)[:31] or "Sheet")
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(h))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            if value is None:
                cells.append(None)
            elif _is_number(value):
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, float | Decimal):
                    cell.number_format = "0.0"
                cells.append(cell)
            else:
                cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
                cell.data_type = "s"  # text, even if it looks like a formula or a number
                cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(
    filename: str,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] | None = None,
) -> Response:
    return download_response(xlsx_bytes(title, header, rows, widths), filename)
