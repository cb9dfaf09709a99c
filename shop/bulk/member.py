"""A cooperative's bulk import of products (/quan-ly-htx/nhap-san-pham).

Upload a sheet (and a ZIP of photos) → a preview where each bad row says what to fix, with a
form to fix it or a button to leave it out → confirm → a progress page. The rules live in
shop.bulk.products, the job in shop.bulk.jobs. A batch is always looked up by its id AND the
member's cooperative: another cooperative's batch id is a 404 on every page and button.
"""

import math
from contextlib import suppress

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from shop.access import member_blueprint
from shop.accounts.models import Role
from shop.bulk import products
from shop.bulk.archive import ArchiveError
from shop.bulk.jobs import failure_of
from shop.bulk.models import BatchStatus
from shop.bulk.sheets import SheetError
from shop.catalog.models import Product
from shop.catalog.queries import page_number
from shop.cooperatives.models import CooperativeStatus
from shop.cooperatives.queries import membership_of
from shop.extensions import db
from shop.forms import EmptyForm
from shop.media import images as media_images
from shop.media.services import storage_failure
from shop.media.storage import get_storage
from shop.reports.exports import csv_response, download_response

bp = member_blueprint("product_import", __name__, url_prefix="/quan-ly-htx/nhap-san-pham")

#: The largest upload (sheet and ZIP of photos together) this page takes; the rest of the
#: site keeps MAX_CONTENT_LENGTH (one photo). IMPORT_MAX_UPLOAD_BYTES overrides it.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ROWS_PER_PAGE = 100

TOO_LARGE = _l(
    "Tệp tải lên quá lớn (tối đa %(mb)d MB cho bảng tính và tệp ảnh cộng lại). Hãy chia "
    "thành nhiều lần nhập, hoặc thu nhỏ ảnh trước khi nén.",
    mb=MAX_UPLOAD_BYTES // (1024 * 1024),
)


def upload_limit() -> int:
    return int(current_app.config.get("IMPORT_MAX_UPLOAD_BYTES") or MAX_UPLOAD_BYTES)


def _allow_large_upload() -> None:
    """Raise the body limit for the upload, before anything reads the body.

    Flask-WTF's CSRF check (an app-wide before-request hook) parses the form before the view
    runs, so setting `request.max_content_length` in the view would come too late: this hook
    runs first of all. Only a signed-in cooperative member posting to the upload gets the
    larger limit: anybody else sends no more than any other form takes.
    """
    if request.endpoint != "product_import.upload" or request.method != "POST":
        return
    if current_user.is_authenticated and current_user.role == Role.MEMBER:
        request.max_content_length = upload_limit()


@bp.record_once
def _install_upload_limit(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_large_upload)


# --------------------------------------------------------------------------- helpers


def _own_batch_or_404(batch_id: int):
    batch = products.own_batch(g.cooperative.id, batch_id)
    if batch is None:
        abort(404)
    return batch


def _require_button() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


def _verified() -> bool:
    return g.cooperative.status == CooperativeStatus.VERIFIED


def _upload_page(error=None, status: int = 200):
    return render_template(
        "bulk/products_upload.html",
        cooperative=g.cooperative,
        verified=_verified(),
        error=error,
        batches=products.recent_batches(g.cooperative.id),
        max_rows=current_app.config.get("IMPORT_MAX_ROWS", 10_000),
        max_mb=upload_limit() // (1024 * 1024),
        form=EmptyForm(formdata=None),
    ), status


class RowPage:
    """One page of the preview's rows (they live in the batch's JSON, not in a table)."""

    def __init__(self, items: list, page: int, per_page: int):
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = page
        self.items = items[(page - 1) * per_page : page * per_page]
        self.has_prev = page > 1
        self.has_next = page < self.pages
        self.prev_num = page - 1
        self.next_num = page + 1

    def iter_pages(self, left_edge=1, left_current=1, right_current=2, right_edge=1):
        last = 0
        for number in range(1, self.pages + 1):
            if (
                number <= left_edge
                or self.page - left_current <= number <= self.page + right_current
                or number > self.pages - right_edge
            ):
                if last + 1 != number:
                    yield None
                yield number
                last = number


def _preview_page(batch, message=None, status: int = 200):
    context = products.load_context(batch)
    checks = products.check(batch, context)
    summary = products.summarise(checks)
    ordered = (
        [c for c in checks if not c.skip and not c.ok]
        + [c for c in checks if not c.skip and c.ok]
        + [c for c in checks if c.skip]
    )
    page = page_number()
    rows = RowPage(ordered, page, ROWS_PER_PAGE)
    if page > rows.pages:
        abort(404)
    return render_template(
        "bulk/products_preview.html",
        cooperative=g.cooperative,
        verified=_verified(),
        batch=batch,
        rows=rows,
        summary=summary,
        photos=len(products.referenced_photos(checks)),
        columns=products.COLUMNS,
        categories=context.categories,
        units=context.units,
        message=message,
        form=EmptyForm(formdata=None),
    ), status


FAILURES = {
    "rows_invalid": lambda p: _(
        "Có %(n)s dòng không còn hợp lệ (danh mục hoặc đơn vị vừa thay đổi). Bấm “Thử lại” để "
        "xem và sửa các dòng đó.",
        n=p.get("count", ""),
    ),
    "archive_missing": lambda p: _(
        "Không còn tệp nén ảnh của lần nhập này (tệp được giữ %(n)d ngày). Hãy tải bảng tính "
        "và tệp ảnh lên lại.",
        n=products.IMPORT_ARCHIVE_DAYS,
    ),
    "archive": lambda p: _("Tệp nén ảnh không dùng được: %(reason)s", reason=p.get("message", "")),
    "photo_missing": lambda p: _(
        "Không thấy ảnh “%(name)s” trong tệp nén. Hãy tải lên lại tệp ZIP có ảnh đó.",
        name=p.get("name", ""),
    ),
    "photo": lambda p: _(
        "Ảnh “%(name)s” không dùng được: %(reason)s Hãy thay ảnh đó trong tệp ZIP rồi tải lên lại.",
        name=p.get("name", ""),
        reason=_photo_reason(p.get("reason")),
    ),
    "not_verified": lambda p: _(
        "Hợp tác xã cần được Liên minh xác minh trước khi gửi sản phẩm đi duyệt."
    ),
}


def _photo_reason(code) -> str:
    makers = {
        "empty": media_images.empty,
        "too_large": media_images.too_large,
        "too_many_pixels": media_images.too_many_pixels,
        "not_an_image": media_images.not_an_image,
        "damaged": media_images.damaged,
    }
    maker = makers.get(code)
    return str(maker().message) if maker else ""


def failure_message(batch) -> str:
    failure = failure_of(batch)
    render = FAILURES.get(failure.get("code"))
    if render is not None:
        return render(failure)
    return _(
        "Có lỗi khi lưu sản phẩm nên chưa sản phẩm nào được tạo. Bấm “Thử lại”; nếu vẫn lỗi, "
        "hãy báo Liên minh HTX."
    )


#: Products of a finished import named on its page (the rest are in the products dashboard).
CREATED_SHOWN = 20


def _progress_page(batch, message=None, status: int = 200):
    stale = products.stale(batch)
    rows = sum(1 for row in batch.rows or [] if not row.get("skip"))
    created = []
    if batch.status == BatchStatus.DONE and batch.created_ids:
        created = db.session.execute(
            select(Product.id, Product.name_vi)
            .where(
                Product.id.in_(batch.created_ids[:CREATED_SHOWN]),
                Product.cooperative_id == g.cooperative.id,
            )
            .order_by(Product.id)
        ).all()
    return render_template(
        "bulk/products_progress.html",
        cooperative=g.cooperative,
        batch=batch,
        stale=stale,
        refresh=batch.status == BatchStatus.RUNNING and not stale,
        photo_total=max(0, (batch.progress_total or 0) - rows),
        created=created,
        failure=failure_message(batch) if batch.status == BatchStatus.FAILED else None,
        message=message,
        form=EmptyForm(formdata=None),
    ), status


def _batch_page(batch, message=None, status: int = 200):
    if batch.status == BatchStatus.PREVIEW:
        return _preview_page(batch, message, status)
    return _progress_page(batch, message, status)


def _refused(batch_id: int, refusal: products.ImportRefused):
    """Nothing was done: the batch's page as it is now, with the reason."""
    db.session.rollback()
    batch = _own_batch_or_404(batch_id)
    return _batch_page(batch, refusal.message, refusal.status)


# --------------------------------------------------------------------------- pages


@bp.route("/", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return _upload_page()
    _require_button()
    sheet = request.files.get("sheet")
    if sheet is None or not sheet.filename:
        return _upload_page(_("Hãy chọn tệp bảng tính (.xlsx hoặc .csv) đã điền."), 400)
    photos = request.files.get("photos")
    # The ZIP as the server spooled it (to disk past 500 kB): checked and stored from there.
    archive = photos.stream if photos is not None and photos.filename else None
    try:
        batch = products.create_batch(
            g.cooperative, current_user, sheet.filename, sheet.read(), archive
        )
    except (SheetError, ArchiveError) as error:
        db.session.rollback()
        return _upload_page(error.message, error.status)
    except Exception as error:
        refusal = storage_failure(error)
        if refusal is None:
            raise
        db.session.rollback()
        return _upload_page(refusal.message, refusal.status)
    db.session.commit()
    return redirect(url_for(".batch", batch_id=batch.id), 303)


@bp.errorhandler(413)
def too_large(error):
    """A body over the limit: the upload page again, with the reason (nothing was read)."""
    membership = membership_of(current_user) if current_user.is_authenticated else None
    if membership is None:
        return render_template("errors/413.html", message=TOO_LARGE), 413
    g.membership, g.cooperative = membership, membership.cooperative
    return _upload_page(
        _(
            "Tệp tải lên quá lớn (tối đa %(mb)d MB cho bảng tính và tệp ảnh cộng lại). Hãy "
            "chia thành nhiều lần nhập, hoặc thu nhỏ ảnh trước khi nén.",
            mb=upload_limit() // (1024 * 1024),
        ),
        413,
    )


@bp.get("/mau.xlsx")
def template_xlsx():
    return download_response(products.template_xlsx(g.cooperative), "mau-nhap-san-pham.xlsx")


@bp.get("/mau.csv")
def template_csv():
    header, example = products.template_rows(g.cooperative)
    return csv_response("mau-nhap-san-pham.csv", header, [example])


@bp.get("/<int:batch_id>")
def batch(batch_id):
    return _batch_page(_own_batch_or_404(batch_id))


@bp.get("/<int:batch_id>/tien-do.json")
def progress(batch_id):
    batch = _own_batch_or_404(batch_id)
    status = batch.status.value
    if products.stale(batch):
        status = "interrupted"
    response = jsonify(
        status=status,
        done=batch.progress_done or 0,
        total=batch.progress_total or 0,
        created=len(batch.created_ids or []),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to_row(batch_id: int, line: int):
    page = request.form.get("page", "")
    args = {"page": int(page)} if page.isascii() and page.isdecimal() and int(page) > 1 else {}
    return redirect(url_for(".batch", batch_id=batch_id, **args) + f"#dong-{line}", 303)


@bp.post("/<int:batch_id>/dong/<int:line>")
def fix_row(batch_id, line):
    batch = products.lock_batch(g.cooperative.id, batch_id)
    if batch is None:
        abort(404)
    _require_button()
    values = {key: request.form.get(key) for key in products.KEYS}
    try:
        products.fix_row(batch, line, values)
    except LookupError:
        abort(404)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    flash(_("Đã lưu dòng %(line)d.", line=line), "success")
    return _back_to_row(batch_id, line)


@bp.post("/<int:batch_id>/dong/<int:line>/bo-qua")
def skip_row(batch_id, line):
    batch = products.lock_batch(g.cooperative.id, batch_id)
    if batch is None:
        abort(404)
    _require_button()
    skip = request.form.get("skip", "1") != "0"
    try:
        products.skip_row(batch, line, skip)
    except LookupError:
        abort(404)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    if skip:
        flash(_("Đã bỏ dòng %(line)d: dòng này sẽ không được nhập.", line=line), "success")
    else:
        flash(_("Đã đưa dòng %(line)d vào lại.", line=line), "success")
    return _back_to_row(batch_id, line)


@bp.post("/<int:batch_id>/xac-nhan")
def confirm(batch_id):
    batch = _own_batch_or_404(batch_id)
    _require_button()
    target = request.form.get("target", "")
    try:
        products.confirm(batch, current_user, target)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    return redirect(url_for(".batch", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/chay-lai")
def rerun(batch_id):
    batch = _own_batch_or_404(batch_id)
    _require_button()
    try:
        products.rerun(batch, current_user)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    return redirect(url_for(".batch", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/thu-lai")
def retry(batch_id):
    batch = _own_batch_or_404(batch_id)
    _require_button()
    try:
        products.retry(batch)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    flash(_("Hãy xem lại các dòng rồi xác nhận nhập lần nữa."), "success")
    return redirect(url_for(".batch", batch_id=batch_id), 303)


@bp.post("/<int:batch_id>/huy")
def cancel(batch_id):
    batch = _own_batch_or_404(batch_id)
    _require_button()
    try:
        key = products.cancel(batch)
    except products.ImportRefused as refusal:
        return _refused(batch_id, refusal)
    db.session.commit()
    if key:
        with suppress(Exception):  # `flask media gc` deletes the ZIPs of cancelled batches
            get_storage().delete(key)
    flash(_("Đã hủy lần nhập “%(name)s”. Không sản phẩm nào được tạo.", name=batch.file_name))
    return redirect(url_for(".upload"), 303)
