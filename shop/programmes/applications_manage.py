"""Staff decisions on booth applications (/quan-tri/dang-ky-gian-hang).

A list filterable by programme and status (pending first, the oldest first), and one page per
application with the cooperative, its products and note, and three decisions: accept into a
booth (free booths of the preferred zone are suggested), waitlist, decline with a reason. A
decision on an application someone decided first answers 409 naming who, and writes nothing.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from shop.access import staff_blueprint
from shop.catalog.queries import by_slug, is_row_id, paginate
from shop.cooperatives.forms import max_length, plain_text, required
from shop.extensions import db
from shop.forms import Form
from shop.notify import messages
from shop.programmes import applications as service
from shop.programmes import rules
from shop.programmes.models import ApplicationStatus, Programme
from shop.programmes.rules import ProgrammeError

bp = staff_blueprint("applications_manage", __name__, url_prefix="/quan-tri/dang-ky-gian-hang")
for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(service.status_label, "application_status_label")

PER_PAGE = 50


@bp.app_template_global("pending_applications_total")
def pending_applications_total() -> int:
    """Applications waiting for a decision, counted once per request (the console's nav)."""
    if "pending_applications_total" not in g:
        g.pending_applications_total = db.session.scalar(service.pending_count()) or 0
    return g.pending_applications_total


class AcceptForm(Form):
    booth_number = IntegerField(
        _l("Số gian hàng"),
        validators=[
            InputRequired(_l("Hãy nhập số gian hàng, ví dụ 10.")),
            NumberRange(1, rules.MAX_BOOTH_NUMBER),
        ],
        description=_l(
            "Gian hàng chưa có trên sơ đồ sẽ được tạo với số này; gian hàng đã có phải còn trống."
        ),
    )


class WaitlistForm(Form):
    reason = TextAreaField(
        _l("Lý do (hợp tác xã đọc được)"),
        validators=[max_length(service.REASON_MAX), plain_text(multiline=True)],
        description=_l("Ví dụ: Khu Nông sản đã kín, sẽ báo khi có hợp tác xã rút."),
    )


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Lý do (hợp tác xã đọc được)"),
        validators=[
            required(_l("Hãy ghi lý do để hợp tác xã biết.")),
            max_length(service.REASON_MAX),
            plain_text(multiline=True),
        ],
        description=_l("Bắt buộc. Ví dụ: Sản phẩm chưa phù hợp chủ đề chương trình."),
    )


def _blank_forms(application=None) -> dict:
    suggested = service.suggested_booths(application) if application is not None else []
    accept = AcceptForm(prefix="accept", formdata=None)
    if suggested:
        accept.booth_number.data = suggested[0]
    return {
        "accept": accept,
        "waitlist": WaitlistForm(prefix="waitlist", formdata=None),
        "decline": DeclineForm(prefix="decline", formdata=None),
    }


def _application_or_404(id):
    """(application, decider's email), with what its page shows; 404 if there is none."""
    if not is_row_id(id):
        abort(404)
    row = db.session.execute(service.application_for_staff(id)).first()
    if row is None:
        abort(404)
    return row


def _page(id, forms=None, status=200, problem=None):
    application, decider = _application_or_404(id)
    products = {
        p.id: p for p in db.session.scalars(service.products_by_ids(application.product_ids or []))
    }
    all_forms = _blank_forms(application)
    all_forms.update(forms or {})
    return render_template(
        "programmes/applications/detail.html",
        application=application,
        decider=decider,
        programme=application.programme,
        cooperative=application.cooperative,
        products=[products[i] for i in application.product_ids or [] if i in products],
        suggested=service.suggested_booths(application),
        forms=all_forms,
        problem=problem,
        can={
            "accept": application.status in service.DECIDABLE[ApplicationStatus.ACCEPTED],
            "waitlist": application.status in service.DECIDABLE[ApplicationStatus.WAITLISTED],
            "decline": application.status in service.DECIDABLE[ApplicationStatus.DECLINED],
        },
    ), status


def _conflict(id):
    db.session.rollback()
    application, decider = _application_or_404(id)
    return render_template(
        "programmes/applications/conflict.html",
        application=application,
        decider=decider,
        programme=application.programme,
        cooperative=application.cooperative,
    ), 409


def _decide(id, key, form, decide, done):
    application, _decider = _application_or_404(id)
    name = application.cooperative.name
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(id, {key: form}, 422)
    try:
        decide(application)
    except service.AlreadyDecided:
        return _conflict(id)
    except ProgrammeError as error:
        db.session.rollback()
        return _page(id, {key: form}, error.status, error.message)
    db.session.commit()
    flash(done(name), "success")
    return redirect(url_for(".applications"))


# --------------------------------------------------------------------------- pages


@bp.get("")
def applications():
    programme = None
    status = None
    invalid = []
    raw_programme = (request.args.get("chuong_trinh") or "").strip()[:160]
    raw_status = (request.args.get("trang_thai") or "").strip()[:20]
    if raw_programme:
        programme = by_slug(Programme, raw_programme)
        if programme is None:
            invalid.append(_("Không tìm thấy chương trình này, bộ lọc đã được bỏ qua."))
    if raw_status:
        if raw_status in {s.value for s in ApplicationStatus}:
            status = ApplicationStatus(raw_status)
        else:
            invalid.append(_("Trạng thái không hợp lệ, bộ lọc đã được bỏ qua."))
    page = paginate(service.for_staff(programme.id if programme else None, status), PER_PAGE)
    return render_template(
        "programmes/applications/list.html",
        page=page,
        invalid=invalid,
        programme=programme,
        status=status.value if status else "",
        programme_options=[
            (p.slug, p.t("title"))
            for p in db.session.scalars(service.programmes_with_applications())
        ],
        status_options=[(s.value, service.status_label(s)) for s in ApplicationStatus],
    )


@bp.get("/<int:id>")
def application(id):
    return _page(id)


@bp.post("/<int:id>/nhan")
def accept(id):
    form = AcceptForm(prefix="accept")
    return _decide(
        id,
        "accept",
        form,
        lambda application: service.accept(application, form.booth_number.data, current_user),
        lambda name: _(
            "Đã nhận %(name)s vào gian hàng số %(number)d và báo cho hợp tác xã.",
            name=name,
            number=form.booth_number.data,
        ),
    )


@bp.post("/<int:id>/cho")
def waitlist(id):
    form = WaitlistForm(prefix="waitlist")
    return _decide(
        id,
        "waitlist",
        form,
        lambda application: service.waitlist(application, form.reason.data, current_user),
        lambda name: _(
            "Đã đưa đơn của %(name)s vào danh sách chờ và báo cho hợp tác xã.",
            name=name,
        ),
    )


@bp.post("/<int:id>/tu-choi")
def decline(id):
    form = DeclineForm(prefix="decline")
    return _decide(
        id,
        "decline",
        form,
        lambda application: service.decline(application, form.reason.data, current_user),
        lambda name: _(
            "Đã không nhận đơn của %(name)s và báo lý do cho hợp tác xã.",
            name=name,
        ),
    )
