"""The alliance console's programme pages (/quan-tri/chuong-trinh).

Staff create and edit programmes, move them through their statuses, draw booths on the floor
plan (an empty cell of the plan is a link to "add a booth here"), place cooperatives at
booths with their featured products, and keep each booth's livestream link and time slots.
Writes go through shop.programmes.services; a refused write shows the page again with the
reason, with the status the rules give (400 or 409; 422 for a form that could not be read).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from shop.access import staff_blueprint
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.cooperatives.queries import staff_directory
from shop.extensions import db
from shop.forms import EmptyForm
from shop.programmes import queries, services
from shop.programmes.manage_forms import (
    AssignForm,
    BoothForm,
    LivestreamForm,
    ProgrammeForm,
    SlotForm,
)
from shop.programmes.models import Booth, BoothSlot, Programme, ProgrammeStatus
from shop.programmes.rules import ProgrammeError
from shop.programmes.views import floor_plan

bp = staff_blueprint("programmes_manage", __name__, url_prefix="/quan-tri/chuong-trinh")

MAX_ID = 2**31 - 1
#: Cooperatives offered in the "place a cooperative" list at once; a search narrows it.
MAX_CHOICES = 500

STATUS_LABELS = {
    ProgrammeStatus.DRAFT: _l("Bản nháp"),
    ProgrammeStatus.OPEN: _l("Đang nhận đăng ký"),
    ProgrammeStatus.PUBLISHED: _l("Đã công bố"),
    ProgrammeStatus.CLOSED: _l("Đã kết thúc"),
    ProgrammeStatus.ARCHIVED: _l("Đã lưu trữ"),
}
#: The button that moves a programme to each status.
STATUS_ACTIONS = {
    ProgrammeStatus.DRAFT: _l("Chuyển về bản nháp"),
    ProgrammeStatus.OPEN: _l("Mở nhận đăng ký gian hàng"),
    ProgrammeStatus.PUBLISHED: _l("Công bố"),
    ProgrammeStatus.CLOSED: _l("Kết thúc chương trình"),
    ProgrammeStatus.ARCHIVED: _l("Lưu trữ"),
}
STATUS_HINTS = {
    ProgrammeStatus.DRAFT: _l("Chỉ cán bộ thấy; người mua chưa thấy chương trình."),
    ProgrammeStatus.OPEN: _l("Công khai, và hợp tác xã đăng ký gian hàng được đến hết hạn."),
    ProgrammeStatus.PUBLISHED: _l("Công khai với sơ đồ và gian hàng; không nhận đăng ký."),
    ProgrammeStatus.CLOSED: _l("Chương trình đã diễn ra; trang vẫn công khai."),
    ProgrammeStatus.ARCHIVED: _l("Lưu lại làm tư liệu; gian hàng không sửa được nữa."),
}


@bp.app_template_global("programme_status_label")
def programme_status_label(status) -> str:
    label = STATUS_LABELS.get(ProgrammeStatus(status))
    return str(label) if label is not None else str(status)


@bp.app_template_global("programme_alerts")
def programme_alerts():
    """Programmes (not closed or archived) with booths showing products buyers no longer see:
    rows (id, title_vi, title_en, booths). One query, for the console's front page."""
    return db.session.execute(queries.booths_with_hidden_products()).all()


# --------------------------------------------------------------------------- fetching


def _programme_or_404(id: int) -> Programme:
    if id > MAX_ID:
        abort(404)
    programme = db.session.scalar(queries.staff_programme(id))
    if programme is None:
        abort(404)
    return programme


def _booth_or_404(id: int, number: int) -> Booth:
    if id > MAX_ID or number > MAX_ID:
        abort(404)
    booth = db.session.scalar(queries.staff_booth(id, number))
    if booth is None:
        abort(404)
    return booth


# --------------------------------------------------------------------------- programmes


@bp.get("")
def programmes():
    rows = db.session.execute(queries.staff_programmes()).all()
    return render_template(
        "programmes/manage/list.html",
        rows=rows,
        alerts={a.id: a.booths for a in programme_alerts()},
    )


@bp.route("/moi", methods=["GET", "POST"])
def create():
    form = ProgrammeForm()
    error = None
    if form.validate_on_submit():
        try:
            programme = services.create_programme(current_user, form.values())
        except ProgrammeError as refused:
            error = refused
        else:
            db.session.commit()
            flash(
                _("Đã tạo chương trình “%(title)s” (bản nháp).", title=programme.title_vi),
                "success",
            )
            return redirect(url_for(".programme", id=programme.id))
    status = error.status if error else (422 if form.is_submitted() else 200)
    return render_template(
        "programmes/manage/form.html", form=form, programme=None, error=error
    ), status


@bp.route("/<int:id>/sua", methods=["GET", "POST"])
def edit(id):
    programme = _programme_or_404(id)
    form = ProgrammeForm(data=ProgrammeForm.data_of(programme))
    error = None
    if form.validate_on_submit():
        try:
            changed = services.update_programme(current_user, programme, form.values())
        except ProgrammeError as refused:
            error = refused
        else:
            db.session.commit()
            if changed:
                flash(_("Đã lưu chương trình."), "success")
            return redirect(url_for(".programme", id=programme.id))
    status = error.status if error else (422 if form.is_submitted() else 200)
    return render_template(
        "programmes/manage/form.html", form=form, programme=programme, error=error
    ), status


@bp.get("/<int:id>")
def programme(id):
    return _programme_page(_programme_or_404(id))


def _programme_page(programme: Programme, status: int = 200, error: ProgrammeError | None = None):
    hidden: dict[int, list[Product]] = {}
    for number, product in db.session.execute(queries.hidden_featured(programme.id)):
        hidden.setdefault(number, []).append(product)
    # The console draws only booths staff placed on a cell; the others are listed beside the
    # plan, so every free cell stays free to click (the public plan fills them in for buyers).
    placed = [b for b in programme.booths if b.plan_column and b.plan_row]
    return render_template(
        "programmes/manage/programme.html",
        programme=programme,
        plan=floor_plan(programme, placed),
        unplaced=[b for b in programme.booths if b not in placed],
        hidden=hidden,
        transitions=services.TRANSITIONS[programme.status],
        status_actions=STATUS_ACTIONS,
        status_hints=STATUS_HINTS,
        error=error,
    ), status


@bp.post("/<int:id>/trang-thai")
def change_status(id):
    programme = _programme_or_404(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("status", "")
    if wanted not in {s.value for s in ProgrammeStatus}:
        abort(400)
    try:
        services.set_status(current_user, programme, ProgrammeStatus(wanted))
    except ProgrammeError as refused:
        return _programme_page(_programme_or_404(id), refused.status, refused)
    db.session.commit()
    flash(
        _("Chương trình đã chuyển sang “%(status)s”.", status=programme_status_label(wanted)),
        "success",
    )
    return redirect(url_for(".programme", id=id))


# --------------------------------------------------------------------------- booths


def _next_free_number(programme: Programme) -> int:
    numbers = {b.number for b in programme.booths}
    number = 1
    while number in numbers:
        number += 1
    return number


def _zone_near(programme: Programme, column, row) -> str:
    """The zone of the nearest booth in the same row (a new booth usually joins it)."""
    if column is None or row is None:
        return ""
    same_row = [b for b in programme.booths if b.plan_row == row and b.plan_column and b.zone]
    if not same_row:
        return ""
    return min(same_row, key=lambda b: abs(b.plan_column - column)).zone


def _small_int(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 3 else None


@bp.route("/<int:id>/gian-hang/moi", methods=["GET", "POST"])
def new_booth(id):
    programme = _programme_or_404(id)
    column, row = _small_int("cot"), _small_int("hang")
    form = BoothForm(
        data={
            "number": _next_free_number(programme),
            "zone": _zone_near(programme, column, row),
            "plan_column": column,
            "plan_row": row,
        }
    )
    error = None
    if form.validate_on_submit():
        try:
            booth = services.create_booth(
                programme,
                form.number.data,
                form.zone.data or None,
                form.plan_column.data,
                form.plan_row.data,
                current_user,
            )
        except ProgrammeError as refused:
            error = refused
        else:
            db.session.commit()
            flash(_("Đã thêm gian hàng số %(number)d.", number=booth.number), "success")
            return redirect(url_for(".programme", id=programme.id))
    status = error.status if error else (422 if form.is_submitted() else 200)
    return render_template(
        "programmes/manage/new_booth.html", programme=programme, form=form, error=error
    ), status


def _booth_page(booth: Booth, status: int = 200, error: ProgrammeError | None = None, **forms):
    programme = booth.programme
    q = (request.values.get("q") or "").strip()[:100]
    choices, more = [], False
    products, chosen = [], {}
    if booth.cooperative is None:
        ids = None
        if q:
            ids = [c.id for c in db.session.scalars(staff_directory(None, q))]
        rows = db.session.execute(
            queries.exhibitor_choices(programme.id, ids).limit(MAX_CHOICES + 1)
        ).all()
        choices, more = rows[:MAX_CHOICES], len(rows) > MAX_CHOICES
    else:
        products = db.session.scalars(queries.products_to_feature(booth.cooperative_id)).all()
        chosen = {bp.product_id: position for position, bp in enumerate(booth.featured, start=1)}
        if "featured" in forms:  # what staff typed, shown again with the reason it was refused
            chosen = forms.pop("featured")
    public_ids = {p.id for p in products}
    hidden = [
        bp.product
        for bp in booth.featured
        if bp.product_id not in public_ids or not booth.cooperative.is_public
    ]
    return render_template(
        "programmes/manage/booth.html",
        programme=programme,
        booth=booth,
        error=error,
        q=q,
        choices=choices,
        more_choices=more,
        products=products,
        chosen=chosen,
        hidden=hidden,
        place_form=forms.get("place_form")
        or BoothForm(
            formdata=None,
            data={
                "number": booth.number,
                "zone": booth.zone or "",
                "plan_column": booth.plan_column,
                "plan_row": booth.plan_row,
            },
        ),
        assign_form=forms.get("assign_form") or AssignForm(formdata=None),
        livestream_form=forms.get("livestream_form")
        or LivestreamForm(formdata=None, data={"livestream_url": booth.livestream_url or ""}),
        slot_form=forms.get("slot_form") or SlotForm(formdata=None),
    ), status


@bp.get("/<int:id>/gian-hang/<int:number>")
def booth(id, number):
    return _booth_page(_booth_or_404(id, number))


def _back_to_booth(booth: Booth):
    return redirect(url_for(".booth", id=booth.programme_id, number=booth.number))


@bp.post("/<int:id>/gian-hang/<int:number>/vi-tri")
def update_booth(id, number):
    booth = _booth_or_404(id, number)
    form = BoothForm()
    if not form.validate_on_submit():
        return _booth_page(booth, 422, place_form=form)
    try:
        services.update_booth(
            booth,
            form.number.data,
            form.zone.data or None,
            form.plan_column.data,
            form.plan_row.data,
            current_user,
        )
    except ProgrammeError as refused:
        booth = _booth_or_404(id, number)
        return _booth_page(booth, refused.status, refused, place_form=form)
    db.session.commit()
    flash(_("Đã lưu gian hàng số %(number)d.", number=booth.number), "success")
    return _back_to_booth(booth)


@bp.post("/<int:id>/gian-hang/<int:number>/xoa")
def delete_booth(id, number):
    booth = _booth_or_404(id, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_booth(booth, current_user)
    except ProgrammeError as refused:
        return _booth_page(booth, refused.status, refused)
    db.session.commit()
    flash(_("Đã xóa gian hàng số %(number)d.", number=number), "success")
    return redirect(url_for(".programme", id=id))


@bp.post("/<int:id>/gian-hang/<int:number>/xep-htx")
def assign(id, number):
    booth = _booth_or_404(id, number)
    form = AssignForm()
    if not form.validate_on_submit():
        return _booth_page(booth, 422, assign_form=form)
    cooperative = db.session.get(Cooperative, form.cooperative_id.data)
    if cooperative is None:
        refused = ProgrammeError(_l("Không tìm thấy hợp tác xã này; hãy chọn lại trong danh sách."))
        return _booth_page(booth, refused.status, refused, assign_form=form)
    try:
        services.assign_booth(booth, cooperative, [], current_user)
    except ProgrammeError as refused:
        booth = _booth_or_404(id, number)
        return _booth_page(booth, refused.status, refused, assign_form=form)
    db.session.commit()
    flash(
        _(
            "Đã xếp %(name)s vào gian hàng số %(number)d. Hãy chọn sản phẩm trưng bày.",
            name=cooperative.name,
            number=booth.number,
        ),
        "success",
    )
    return _back_to_booth(booth)


@bp.post("/<int:id>/gian-hang/<int:number>/bo-xep")
def unassign(id, number):
    booth = _booth_or_404(id, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = booth.cooperative.name if booth.cooperative else ""
    try:
        services.unassign_booth(booth, current_user)
    except ProgrammeError as refused:
        return _booth_page(booth, refused.status, refused)
    db.session.commit()
    flash(
        _("Đã bỏ xếp %(name)s khỏi gian hàng số %(number)d.", name=name, number=number), "success"
    )
    return _back_to_booth(booth)


def _featured_choice() -> dict[int, int | None] | None:
    """{product id: position typed} from the checkboxes and position boxes; None if malformed."""
    chosen: dict[int, int | None] = {}
    for raw in request.form.getlist("product"):
        if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10) or int(raw) > MAX_ID:
            return None
        position = (request.form.get(f"position-{raw}") or "").strip()
        if position and not (position.isascii() and position.isdecimal() and len(position) <= 3):
            return None
        chosen[int(raw)] = int(position) if position else None
    return chosen


def _in_order(chosen: dict[int, int | None]) -> list[int]:
    """Ids by the positions typed; boxes left empty come after, in the page's order."""
    ranked = list(chosen.items())
    return [
        pid
        for _i, (pid, _p) in sorted(
            enumerate(ranked), key=lambda item: (item[1][1] is None, item[1][1] or 0, item[0])
        )
    ]


@bp.post("/<int:id>/gian-hang/<int:number>/san-pham")
def featured(id, number):
    booth = _booth_or_404(id, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    chosen = _featured_choice()
    if chosen is None:
        refused = ProgrammeError(_l("Hãy đánh dấu sản phẩm và ghi thứ tự bằng số, ví dụ 1, 2, 3."))
        return _booth_page(booth, 422, refused)
    ids = _in_order(chosen)
    found = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}
    shown_again = {pid: (position or "") for pid, position in chosen.items()}
    if len(found) != len(ids):
        refused = ProgrammeError(_l("Có sản phẩm không tồn tại; hãy chọn lại trong danh sách."))
        return _booth_page(booth, refused.status, refused, featured=shown_again)
    try:
        services.set_featured(booth, [found[pid] for pid in ids], current_user)
    except ProgrammeError as refused:
        booth = _booth_or_404(id, number)
        return _booth_page(booth, refused.status, refused, featured=shown_again)
    db.session.commit()
    flash(_("Đã lưu sản phẩm trưng bày của gian hàng số %(number)d.", number=number), "success")
    return _back_to_booth(booth)


@bp.post("/<int:id>/gian-hang/<int:number>/truc-tiep")
def livestream(id, number):
    booth = _booth_or_404(id, number)
    form = LivestreamForm()
    if not form.validate_on_submit():
        return _booth_page(booth, 422, livestream_form=form)
    try:
        services.set_livestream(booth, form.livestream_url.data, current_user)
    except ProgrammeError as refused:
        return _booth_page(booth, refused.status, refused, livestream_form=form)
    db.session.commit()
    flash(_("Đã lưu đường dẫn phát trực tiếp."), "success")
    return _back_to_booth(booth)


@bp.post("/<int:id>/gian-hang/<int:number>/khung-gio")
def add_slot(id, number):
    booth = _booth_or_404(id, number)
    form = SlotForm()
    if not form.validate_on_submit():
        return _booth_page(booth, 422, slot_form=form)
    try:
        services.add_slot(
            booth,
            form.starts_at.data,
            form.ends_at.data,
            current_user,
            title_vi=form.title_vi.data or "",
            title_en=form.title_en.data or None,
        )
    except ProgrammeError as refused:
        return _booth_page(booth, refused.status, refused, slot_form=form)
    db.session.commit()
    flash(_("Đã thêm khung giờ."), "success")
    return _back_to_booth(booth)


@bp.post("/<int:id>/gian-hang/<int:number>/khung-gio/xoa")
def remove_slot(id, number):
    booth = _booth_or_404(id, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    raw = request.form.get("slot", "")
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10):
        abort(400)
    slot = db.session.get(BoothSlot, int(raw)) if int(raw) <= MAX_ID else None
    if slot is None or slot.booth_id != booth.id:
        abort(404)
    try:
        services.remove_slot(slot, current_user)
    except ProgrammeError as refused:
        return _booth_page(booth, refused.status, refused)
    db.session.commit()
    flash(_("Đã xóa khung giờ."), "success")
    return _back_to_booth(booth)
