"""Products as CSV and XLSX: a cooperative's own, and the staff's whole catalogue.

A cooperative's export (/quan-ly-htx/xuat-san-pham/san-pham.csv|.xlsx) has the import
template's columns first, with the same Vietnamese headers and the same spellings of values
(category and unit by their Vietnamese names, price in whole đồng, empty = "Liên hệ", months
as "1-3, 10" or "cả năm"), so the file can be edited and imported again; then the product's
id, status, links and photo URLs, which the import ignores. Archived products are left out.

The staff's export (/quan-tri/xuat-san-pham/san-pham.csv|.xlsx) lists the whole catalogue with
the cooperative, its tax code and commune; `status` (a ProductStatus value) and `sector` (a
sector's slug) narrow it, and a bad value is refused with 400 and a message.

Both are written in Vietnamese whatever the interface language (like every export of the
console), stream from the database in batches (shop.bulk.queries), and escape every text cell
a spreadsheet would run as a formula (shop.reports.exports.safe_cell).
"""

import re

from flask import g, render_template_string, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from shop.access import member_blueprint, staff_blueprint
from shop.bulk import queries
from shop.bulk.products import COLUMNS as IMPORT_COLUMNS
from shop.catalog.models import ALL_MONTHS, ProductStatus, mask_to_months
from shop.catalog.queries import is_slug
from shop.media.services import MASTER_NAMES
from shop.notify.messages import PRODUCT_STATUS_LABELS, format_when
from shop.reports import exports
from shop.seo.meta import site_root
from shop.text.formatting import format_date

member = member_blueprint("product_export", __name__, url_prefix="/quan-ly-htx/xuat-san-pham")
staff = staff_blueprint("catalogue_export", __name__, url_prefix="/quan-tri/xuat-san-pham")

#: What a cooperative's export adds after the import template's columns (shop.bulk.products
#: COLUMNS, whose headers the import reads; it ignores these).
MEMBER_EXTRA = ("Mã sản phẩm", "Trạng thái", "Trang công khai", "Trang quản lý", "Ảnh (đường dẫn)")
MEMBER_HEADER = tuple(column.header for column in IMPORT_COLUMNS) + MEMBER_EXTRA
MEMBER_WIDTHS = tuple(column.width for column in IMPORT_COLUMNS) + (12, 16, 50, 50, 60)

STAFF_HEADER = (
    "Mã sản phẩm",
    "Tên sản phẩm",
    "Tên tiếng Anh",
    "Hợp tác xã",
    "Mã số thuế",
    "Xã/phường",
    "Lĩnh vực",
    "Danh mục",
    "Trạng thái",
    "Sao OCOP",
    "Hạn chứng nhận OCOP",
    "Giá (đồng)",
    "Đơn vị",
    "Ngày tạo",
    "Cập nhật lần cuối",
    "Ngày đăng",
    "Trang công khai",
    "Trang quản trị",
)
STAFF_WIDTHS = (12, 40, 30, 40, 14, 24, 20, 24, 16, 10, 14, 14, 12, 17, 17, 17, 50, 50)

#: Separates photo URLs in one cell, as the template's photo column separates file names.
PHOTO_SEPARATOR = "; "
#: The template's spelling of a product available all year.
ALL_YEAR = "cả năm"

_ERROR_PAGE = """{% extends "base.html" %}
{% set error_page = true %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<section class="error-page" aria-labelledby="error-title">
  <p class="error-code" aria-hidden="true">400</p>
  <h1 id="error-title">{{ title }}</h1>
  {% for message in messages %}<p>{{ message }}</p>{% endfor %}
  <ul class="error-links">
    {% for href, label in links %}<li><a href="{{ href }}">{{ label }}</a></li>{% endfor %}
  </ul>
</section>
{% endblock %}"""


# --------------------------------------------------------------------------- values


def season_text(mask: int | None) -> str:
    """Months as the template writes them: "cả năm", or ranges like "1-3, 10"."""
    if mask is None:
        return ""
    if mask & ALL_MONTHS == ALL_MONTHS:
        return ALL_YEAR
    months = mask_to_months(mask)
    runs: list[list[int]] = []
    for month in months:
        if runs and runs[-1][1] == month - 1:
            runs[-1][1] = month
        else:
            runs.append([month, month])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def quantity(value):
    """A quantity as a number: a whole one as int (no "1.000" from Numeric(12, 3))."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def status_label(status) -> str:
    value = status.value if isinstance(status, ProductStatus) else str(status)
    label = PRODUCT_STATUS_LABELS.get(value)
    return str(label) if label is not None else value


class Links:
    """Absolute addresses of products and photos, built from one url_for each (fast per row)."""

    def __init__(self):
        root = site_root()
        self.public = root + path_template("catalog.product", "slug")
        self.dashboard = root + path_template("product_dashboard.product", "id")
        self.console = root + path_template("product_manage.detail", "id")
        self.media = root + path_template("media.file", "sha256", "name")

    def photo_urls(self, photos) -> str:
        return PHOTO_SEPARATOR.join(
            self.media.format(sha256=p.sha256, name=MASTER_NAMES.get(p.mime_type, "master.jpg"))
            for p in photos
        )

    def public_page(self, row) -> str:
        return self.public.format(slug=row.slug) if row.status == ProductStatus.PUBLISHED else ""


def path_template(endpoint: str, *names: str) -> str:
    """url_for(endpoint) with {name} placeholders: slugs, ids and hashes need no quoting."""
    stand_ins = {name: 987654320 + i for i, name in enumerate(names)}
    path = url_for(endpoint, **stand_ins)
    for name, value in stand_ins.items():
        path = path.replace(str(value), "{" + name + "}")
    return path


# --------------------------------------------------------------------------- a cooperative's


def import_values(row) -> dict:
    """A product's cells in the import template's columns, by column key, as the import reads
    them back (shop.bulk.products.check_row)."""
    return {
        "name_vi": row.name_vi,
        "name_en": row.name_en,
        "category": row.category,
        "unit": row.unit,
        "price": row.price_vnd,  # empty: "Liên hệ"
        "min_order": quantity(row.min_order_qty),
        "pack_size": row.pack_size_vi,
        "description": row.description_vi,
        "season": season_text(row.season_months),
        # Photo file names are those of a ZIP sent beside the sheet; an export has no ZIP, so
        # the column stays empty and the photos are listed by URL after the template's columns.
        "photos": "",
    }


def member_rows(cooperative_id: int):
    """The cooperative's products (archived ones left out) as export rows, in id order."""
    filters = queries.ExportFilters(cooperative_id=cooperative_id, with_archived=False)
    links = Links()
    with force_locale("vi"):
        for rows, photos in queries.in_batches(queries.export_rows(filters)):
            for row in rows:
                values = import_values(row)
                yield (
                    *(values.get(column.key) for column in IMPORT_COLUMNS),
                    row.id,
                    status_label(row.status),
                    links.public_page(row),
                    links.dashboard.format(id=row.id),
                    links.photo_urls(photos[row.id]),
                )


def _member_filename(extension: str) -> str:
    return f"san-pham-{g.cooperative.slug}.{extension}"


@member.get("/san-pham.csv")
def products_csv():
    rows = member_rows(g.cooperative.id)
    return exports.csv_response(_member_filename("csv"), MEMBER_HEADER, rows)


@member.get("/san-pham.xlsx")
def products_xlsx():
    rows = member_rows(g.cooperative.id)
    return exports.xlsx_response(
        _member_filename("xlsx"), "Sản phẩm", MEMBER_HEADER, rows, widths=MEMBER_WIDTHS
    )


# --------------------------------------------------------------------------- the catalogue


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(value: str) -> str:
    """A refused query value as a message may quote it: printable and short."""
    return _CONTROL.sub("", value)[:40]


class BadFilter(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def staff_filters(args) -> tuple[queries.ExportFilters, str]:
    """The export's filters from the query arguments, and a file name suffix naming them.

    Raises BadFilter with a message per bad value (an empty value means "all").
    """
    messages, status, sector, suffix = [], None, None, ""
    raw_status = (args.get("status") or "").strip()
    if raw_status:
        try:
            status = ProductStatus(raw_status)
        except ValueError:
            choices = ", ".join(s.value for s in ProductStatus)
            messages.append(
                _(
                    "Trạng thái “%(value)s” không có. Hãy chọn một trong: %(choices)s.",
                    value=shown(raw_status),
                    choices=choices,
                )
            )
        else:
            suffix += f"-{status.value}"
    raw_sector = (args.get("sector") or "").strip()
    if raw_sector:
        sector = queries.sector_by_slug(raw_sector) if is_slug(raw_sector) else None
        if sector is None:
            messages.append(
                _(
                    "Lĩnh vực “%(value)s” không có. Hãy chọn lĩnh vực trong danh sách.",
                    value=shown(raw_sector),
                )
            )
        else:
            suffix += f"-{sector.slug}"
    if messages:
        raise BadFilter(messages)
    filters = queries.ExportFilters(
        status=status, sector_id=sector.id if sector is not None else None
    )
    return filters, suffix


def staff_rows(filters: queries.ExportFilters):
    """The catalogue's products as export rows, in id order."""
    links = Links()
    with force_locale("vi"):
        for rows, _photos in queries.in_batches(queries.export_rows(filters)):
            for row in rows:
                yield (
                    row.id,
                    row.name_vi,
                    row.name_en,
                    row.cooperative,
                    row.tax_code,
                    row.commune,
                    row.sector,
                    row.category,
                    status_label(row.status),
                    row.ocop_stars or None,
                    format_date(row.ocop_expires_on) if row.ocop_stars else "",
                    row.price_vnd,
                    row.unit,
                    format_when(row.created_at),
                    format_when(row.updated_at),
                    format_when(row.published_at),
                    links.public_page(row),
                    links.console.format(id=row.id),
                )


def _refused(error: BadFilter):
    page = render_template_string(
        _ERROR_PAGE,
        title=_("Bộ lọc không hợp lệ"),
        messages=error.messages,
        links=[
            (url_for("catalogue_export.catalogue_csv"), _("Tải tất cả sản phẩm (không lọc)")),
            (url_for("console.home"), _("Về trang quản trị")),
        ],
    )
    return page, 400


@staff.get("/san-pham.csv")
def catalogue_csv():
    try:
        filters, suffix = staff_filters(request.args)
    except BadFilter as error:
        return _refused(error)
    return exports.csv_response(f"san-pham{suffix}.csv", STAFF_HEADER, staff_rows(filters))


@staff.get("/san-pham.xlsx")
def catalogue_xlsx():
    try:
        filters, suffix = staff_filters(request.args)
    except BadFilter as error:
        return _refused(error)
    return exports.xlsx_response(
        f"san-pham{suffix}.xlsx",
        "Sản phẩm",
        STAFF_HEADER,
        staff_rows(filters),
        widths=STAFF_WIDTHS,
    )
