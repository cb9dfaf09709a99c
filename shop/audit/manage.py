"""The alliance console's audit log (/quan-tri/nhat-ky): filter, page through, export."""

import json

from flask import render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import SelectPagination

from shop.access import staff_blueprint
from shop.audit import queries
from shop.catalog.queries import page_number
from shop.extensions import db
from shop.notify.messages import AUDIT_ACTION_LABELS, audit_action_label, format_when
from shop.reports import exports

bp = staff_blueprint("audit_manage", __name__, url_prefix="/quan-tri")

PER_PAGE = 50
#: Rows fetched at a time while an export is written.
EXPORT_BATCH = 500
#: A long value in the before → after column is cut to this many characters.
VALUE_CHARS = 60
CHANGES_SHOWN = 6

TARGET_TYPE_LABELS = {
    "cooperative": _l("Hợp tác xã"),
    "product": _l("Sản phẩm"),
    "invitation": _l("Lời mời"),
    "membership": _l("Thành viên nhóm"),
    "user": _l("Tài khoản"),
    "stored_image": _l("Ảnh"),
    "moderation_case": _l("Hồ sơ báo cáo sản phẩm"),
    "programme": _l("Chương trình"),
    "booth": _l("Gian hàng"),
    "booth_application": _l("Đơn đăng ký gian hàng"),
    "inquiry": _l("Yêu cầu báo giá"),
}

CSV_HEADER = (
    "Thời gian",
    "Người thực hiện",
    "Hành động",
    "Đối tượng",
    "Mã đối tượng",
    "Lý do",
    "Trước",
    "Sau",
)
#: Column widths of the XLSX (characters): the rows stream, so they are not measured.
XLSX_WIDTHS = (17, 30, 30, 16, 12, 40, 50, 50)

INVALID_MESSAGES = {
    "action": _l("Hành động không hợp lệ, bộ lọc này đã được bỏ qua."),
    "target_type": _l("Loại đối tượng không hợp lệ, bộ lọc này đã được bỏ qua."),
    "date_from": _l("“Từ ngày” không đúng dạng ngày (dd/mm/yyyy), bộ lọc này đã được bỏ qua."),
    "date_to": _l("“Đến ngày” không đúng dạng ngày (dd/mm/yyyy), bộ lọc này đã được bỏ qua."),
}


class RowPagination(SelectPagination):
    """Like db.paginate, but items are whole rows (entry, email), not the first column."""

    def _query_items(self):
        stmt = self._query_args["select"]
        stmt = stmt.limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(stmt).all())


def target_type_label(target_type: str) -> str:
    label = TARGET_TYPE_LABELS.get(target_type)
    return str(label) if label is not None else target_type


def target_url(target_type: str, target_id: int | None) -> str | None:
    if target_id is None:
        return None
    if target_type == "cooperative":
        return url_for("cooperatives_manage.detail", id=target_id)
    if target_type == "product":
        return url_for("product_manage.detail", id=target_id)
    if target_type == "moderation_case":
        return url_for("moderation_manage.case", id=target_id)
    if target_type == "programme":
        return url_for("programmes_manage.programme", id=target_id)
    if target_type == "booth_application":
        return url_for("applications_manage.application", id=target_id)
    if target_type == "inquiry":
        return url_for("inquiry_support.inquiry", id=target_id)
    return None


def _short(value) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def changes(before, after) -> tuple[list[tuple[str, str, str]], int]:
    """(key, before, after) of the values that differ, shortened; and how many were left out."""
    before = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"": after})
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    shown = [(k, _short(before.get(k)), _short(after.get(k))) for k in keys[:CHANGES_SHOWN]]
    return shown, max(0, len(keys) - CHANGES_SHOWN)


def _json_cell(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _filter_args() -> dict:
    keys = ("action", "target_type", "actor", "date_from", "date_to")
    return {k: request.args[k] for k in keys if request.args.get(k)}


@bp.get("/nhat-ky")
def log():
    filters = queries.AuditFilters.from_args(request.args)
    page = RowPagination(
        select=queries.audit_log(filters),
        session=db.session(),
        page=page_number(),
        per_page=PER_PAGE,
        error_out=True,
        count=True,
    )
    action_options = [(value, str(label)) for value, label in AUDIT_ACTION_LABELS.items()]
    if filters.action and filters.action not in AUDIT_ACTION_LABELS:
        action_options.append((filters.action, filters.action))
    type_options = [(value, str(label)) for value, label in TARGET_TYPE_LABELS.items()]
    if filters.target_type and filters.target_type not in TARGET_TYPE_LABELS:
        type_options.append((filters.target_type, filters.target_type))
    rows = [
        {
            "entry": entry,
            "email": email,
            "url": target_url(entry.target_type, entry.target_id),
            "changes": changes(entry.before, entry.after),
        }
        for entry, email in page.items
    ]
    return render_template(
        "audit/log.html",
        page=page,
        rows=rows,
        filters=filters,
        args=request.args,
        errors=[str(INVALID_MESSAGES[name]) for name in filters.invalid],
        action_options=action_options,
        type_options=type_options,
        csv_url=url_for(".log_csv", **_filter_args()),
        xlsx_url=url_for(".log_xlsx", **_filter_args()),
        audit_action_label=audit_action_label,
        target_type_label=target_type_label,
        format_when=format_when,
    )


def _export_rows():
    """The filtered entries as export rows, in Vietnamese, read from the database in batches."""
    filters = queries.AuditFilters.from_args(request.args)
    stmt = queries.audit_log(filters).execution_options(yield_per=EXPORT_BATCH)
    with force_locale("vi"):
        system = _("Hệ thống")
        for entry, email in db.session.execute(stmt):
            yield (
                format_when(entry.created_at),
                email or system,
                audit_action_label(entry.action),
                target_type_label(entry.target_type),
                entry.target_id,
                entry.reason,
                _json_cell(entry.before),
                _json_cell(entry.after),
            )


@bp.get("/nhat-ky.csv")
def log_csv():
    return exports.csv_response("nhat-ky.csv", CSV_HEADER, _export_rows())


@bp.get("/nhat-ky.xlsx")
def log_xlsx():
    return exports.xlsx_response(
        "nhat-ky.xlsx", "Nhật ký thao tác", CSV_HEADER, _export_rows(), widths=XLSX_WIDTHS
    )
