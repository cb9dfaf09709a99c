"""Staff import the alliance's registry of cooperatives (/quan-tri/nhap-htx).

Upload a sheet → preview (rows to fix first, fixed or left out one by one) → confirm: every
row is written as a verified cooperative inside the confirming request, in one transaction.
"""

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import StringField, TextAreaField

from shop.access import staff_blueprint
from shop.bulk import registry
from shop.bulk.models import BatchStatus
from shop.bulk.sheets import SheetError
from shop.catalog.queries import page_number
from shop.cooperatives.models import Locality, Sector
from shop.extensions import db
from shop.forms import EmptyForm, Form
from shop.reports.exports import csv_response, download_response

bp = staff_blueprint("registry_import", __name__, url_prefix="/quan-tri/nhap-htx")

#: Rows on one page of the preview.
PER_PAGE = 100
TOO_LARGE = _l("Tệp lớn quá: tối đa 16 MB. Hãy chia bảng thành nhiều tệp nhỏ hơn.")


class RowForm(Form):
    """The cells of one row, corrected on the preview page (checked by registry.check_row)."""

    name = StringField(_l("Tên HTX"))
    tax_code = StringField(_l("Mã số thuế"))
    tax_code_missing_reason = StringField(_l("Lý do chưa có mã số thuế"))
    legal_form = StringField(_l("Loại hình"))
    sector = StringField(_l("Lĩnh vực"))
    locality = StringField(_l("Xã/phường"))
    address_vi = StringField(_l("Địa chỉ"))
    founded_year = StringField(_l("Năm thành lập"))
    member_count = StringField(_l("Số thành viên"))
    phone = StringField(_l("Điện thoại"))
    owner_email = StringField(_l("Email người đại diện"))
    description_vi = TextAreaField(_l("Mô tả"))


class SkipForm(Form):
    """Leave a row out ("1") or take it back ("0")."""

    skip = StringField()


def _batch_or_404(batch_id: int):
    batch = db.session.scalar(registry.registry_batch(batch_id))
    if batch is None:
        abort(404)
    return batch


def _row_or_404(batch, line: int) -> dict:
    row = next((r for r in batch.rows if r["line"] == line), None)
    if row is None:
        abort(404)
    return row


# --------------------------------------------------------------------------- the template


@bp.get("/mau.xlsx")
def template_xlsx():
    sectors = db.session.scalars(select(Sector).order_by(Sector.sort_order, Sector.id))
    localities = db.session.scalars(select(Locality).order_by(Locality.short_name, Locality.id))
    data = registry.template_xlsx(list(sectors), list(localities))
    return download_response(data, "mau-nhap-htx.xlsx")


@bp.get("/mau.csv")
def template_csv():
    header, example = registry.template_rows()
    return csv_response("mau-nhap-htx.csv", header, [example])


# --------------------------------------------------------------------------- upload


def _upload_page(error=None, status=200):
    return render_template(
        "bulk/registry_upload.html",
        # Only for its token: never reads the body (a 413 page has none to read).
        form=EmptyForm(formdata=None),
        error=error,
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
        columns=registry.COLUMNS,
        recent=db.session.execute(registry.recent_batches()).all(),
    ), status


@bp.get("/")
def upload_page():
    return _upload_page()


@bp.post("/")
def upload():
    if not EmptyForm().validate_on_submit():
        abort(400)
    sheet = request.files.get("sheet")
    if sheet is None or not sheet.filename:
        return _upload_page(_("Hãy chọn tệp bảng tính (.xlsx hoặc .csv) để tải lên."), 400)
    try:
        batch = registry.create_batch(
            current_user,
            sheet.filename,
            sheet.read(),
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
        )
    except SheetError as refusal:
        db.session.rollback()
        return _upload_page(refusal.message, refusal.status)
    db.session.commit()
    return redirect(url_for(".preview", batch_id=batch.id), 303)


@bp.errorhandler(413)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH: the upload page again, for staff; others the usual 413."""
    if current_user.is_authenticated and current_user.is_staff:
        return _upload_page(TOO_LARGE, 413)
    return render_template("errors/413.html", message=TOO_LARGE), 413


# --------------------------------------------------------------------------- preview


class RowsPage:
    """One page of the checked rows, shaped for the `pagination` macro."""

    def __init__(self, items: list, page: int, per_page: int):
        self.total = len(items)
        self.page = page
        self.per_page = per_page
        self.pages = max(1, -(-self.total // per_page))
        self.items = items[(page - 1) * per_page : page * per_page]
        self.has_prev = page > 1
        self.has_next = page < self.pages
        self.prev_num = page - 1
        self.next_num = page + 1

    def iter_pages(self, left_edge=1, left_current=1, right_current=2, right_edge=1):
        last = 0
        for n in range(1, self.pages + 1):
            near = self.page - left_current <= n <= self.page + right_current
            if n <= left_edge or n > self.pages - right_edge or near:
                if last + 1 != n:
                    yield None
                yield n
                last = n


def _preview_page(batch, *, notice=None, status=200, forms=None):
    known = registry.load_registry(batch.rows)
    checked = registry.check_rows(batch.rows, known)
    ordered = registry.preview_order(checked)
    number = page_number()
    page = RowsPage(ordered, number, PER_PAGE)
    if number > page.pages:
        abort(404)
    bad = sum(1 for c in checked if not c.skip and not c.ok)
    skipped = sum(1 for c in checked if c.skip)
    forms = forms or {}
    for row in page.items:
        if row.line not in forms and not row.ok and not row.skip:
            forms[row.line] = RowForm(formdata=None, data=row.values, prefix=f"r{row.line}")
    return render_template(
        "bulk/registry_preview.html",
        batch=batch,
        page=page,
        bad=bad,
        skipped=skipped,
        ready=len(checked) - bad - skipped,
        forms=forms,
        columns=registry.COLUMNS,
        columns_by_key=registry.COLUMN_BY_KEY,
        sector_names=[s.name_vi for s in known.sectors],
        locality_names=[loc.name_vi for loc in known.localities],
        notice=notice,
    ), status


@bp.get("/<int:batch_id>")
def preview(batch_id):
    batch = _batch_or_404(batch_id)
    if batch.status == BatchStatus.DONE:
        return render_template(
            "bulk/registry_done.html",
            batch=batch,
            created=registry.created_cooperatives(batch),
        )
    if batch.status != BatchStatus.PREVIEW:
        return _closed(batch, 200)
    return _preview_page(batch)


def _closed(batch, status=409):
    """The batch was confirmed (or closed) already: nothing more to change."""
    return render_template("bulk/registry_closed.html", batch=batch), status


@bp.post("/<int:batch_id>/dong/<int:line>")
def fix_row(batch_id, line):
    batch = _batch_or_404(batch_id)
    _row_or_404(batch, line)
    form = RowForm(prefix=f"r{line}")
    if not form.validate_on_submit():
        abort(400)
    if batch.status != BatchStatus.PREVIEW:
        return _closed(batch)
    values = {key: form[key].data or "" for key in registry.KEYS}
    registry.set_row(batch, line, values=values)
    db.session.commit()
    flash(_("Đã sửa dòng %(line)d.", line=line), "success")
    return redirect(url_for(".preview", batch_id=batch.id, _anchor=f"dong-{line}"), 303)


@bp.post("/<int:batch_id>/dong/<int:line>/bo-qua")
def skip_row(batch_id, line):
    batch = _batch_or_404(batch_id)
    _row_or_404(batch, line)
    form = SkipForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.status != BatchStatus.PREVIEW:
        return _closed(batch)
    skip = form.skip.data != "0"
    registry.set_row(batch, line, skip=skip)
    db.session.commit()
    if skip:
        flash(_("Đã bỏ qua dòng %(line)d: dòng này sẽ không được nhập.", line=line), "success")
    else:
        flash(_("Đã đưa dòng %(line)d trở lại.", line=line), "success")
    return redirect(url_for(".preview", batch_id=batch.id, _anchor=f"dong-{line}"), 303)


@bp.post("/<int:batch_id>/xac-nhan")
def confirm(batch_id):
    batch = _batch_or_404(batch_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        registry.confirm(batch, current_user)
        db.session.commit()
    except registry.ConfirmRefused as refusal:
        _forget()
        batch = _batch_or_404(batch_id)
        if refusal.reason == "not_preview":
            return _closed(batch)
        message = _(
            "Chưa nhập được: còn %(count)d dòng cần sửa hoặc bỏ qua. Không có hợp tác xã nào "
            "được tạo.",
            count=refusal.count,
        )
        return _preview_page(batch, notice=message, status=409)
    except IntegrityError:
        # A cooperative with one of these tax codes was saved meanwhile: nothing is kept.
        _forget()
        batch = _batch_or_404(batch_id)
        message = _(
            "Chưa nhập được: một hợp tác xã cùng mã số thuế vừa được tạo trong lúc bạn xác "
            "nhận. Không có hợp tác xã nào được tạo; hãy xem lại các dòng bên dưới."
        )
        return _preview_page(batch, notice=message, status=409)
    return redirect(url_for(".preview", batch_id=batch.id), 303)


def _forget():
    """Undo the request's writes, and the emails it queued with them."""
    db.session.rollback()
    g.pop("outbox_ids", None)
