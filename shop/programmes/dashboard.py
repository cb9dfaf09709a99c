"""Booth applications in the cooperative dashboard (/quan-ly-htx/chuong-trinh).

A member sees the programmes open for applications and the cooperative's applications, applies
for a booth with 3–10 of its products on sale, and withdraws an application staff have not
decided. The cooperative is always the member's own (`g.cooperative`); an application is looked
up by its id AND that cooperative, so another cooperative's id finds nothing (404).
"""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import ValidationError

from shop import clock
from shop.access import member_blueprint
from shop.catalog.forms import CheckboxesField
from shop.catalog.models import Product
from shop.catalog.queries import first_or_404, is_row_id
from shop.cooperatives.forms import max_length, plain_text
from shop.extensions import db
from shop.forms import EmptyForm, Form
from shop.notify import messages
from shop.programmes import applications as service
from shop.programmes import rules
from shop.programmes.models import (
    ACTIVE_APPLICATION_STATUSES,
    Programme,
    ProgrammeStatus,
)
from shop.programmes.rules import ProgrammeError

bp = member_blueprint("programme_dashboard", __name__, url_prefix="/quan-ly-htx/chuong-trinh")

for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(service.status_label, "application_status_label")


class ApplicationForm(Form):
    preferred_zone = SelectField(
        _l("Khu muốn đặt gian hàng"),
        # The zones come from the programme; the service refuses a zone it does not have.
        validate_choice=False,
        description=_l("Liên minh HTX cố gắng xếp theo ý bạn, nhưng không chắc chắn."),
    )
    products = CheckboxesField(
        _l("Sản phẩm mang đến gian hàng"),
        validate_choice=False,
        description=_l(
            "Chọn từ %(min)d đến %(max)d sản phẩm đang bán trên Chợ HTX.",
            min=rules.MIN_FEATURED,
            max=rules.MAX_FEATURED,
        ),
    )
    note = TextAreaField(
        _l("Lời nhắn cho Liên minh HTX"),
        validators=[max_length(service.NOTE_MAX), plain_text(multiline=True)],
        description=_l(
            "Ví dụ: cần chỗ gần ổ điện để giữ lạnh. Tối đa %(max)d ký tự.", max=service.NOTE_MAX
        ),
    )

    def validate_products(self, field):
        values = field.data or []
        if any(not (value.isascii() and value.isdecimal()) for value in values):
            raise ValidationError(_("Lựa chọn này không có trong danh sách. Hãy chọn lại."))
        if not values:
            raise ValidationError(
                _(
                    "Hãy chọn từ %(min)d đến %(max)d sản phẩm tiêu biểu.",
                    min=rules.MIN_FEATURED,
                    max=rules.MAX_FEATURED,
                )
            )

    def product_ids(self) -> list[int]:
        """The checked ids in the page's order, each once (a tampered repeat is not a second)."""
        ids = []
        for value in self.products.data or []:
            number = int(value)
            if number not in ids:
                ids.append(number)
        return ids


# --------------------------------------------------------------------------- helpers


def _own_application_or_404(id):
    if not is_row_id(id):
        abort(404)
    application = db.session.scalar(service.own_application(g.cooperative.id, id))
    if application is None:
        abort(404)
    return application


def _programme_or_404(slug) -> Programme:
    """A programme members may see (not a draft); the apply page explains when it is closed."""
    return first_or_404(
        select(Programme).where(Programme.slug == slug, Programme.status != ProgrammeStatus.DRAFT),
        slug,
    )


def _active_application(programme: Programme):
    return next(
        (
            application
            for application in db.session.scalars(service.applications_of(g.cooperative.id))
            if application.programme_id == programme.id
            and application.status in ACTIVE_APPLICATION_STATUSES
        ),
        None,
    )


def _closed_reason(programme: Programme):
    """Why this cooperative cannot apply to the programme now, or None."""
    try:
        rules.check_open_for_applications(programme, clock.today())
        rules.check_can_exhibit(g.cooperative)
    except ProgrammeError as error:
        return error.message
    return None


def _products_of(ids) -> list[Product]:
    """The products of these ids in the given order (any cooperative: the rules say whose)."""
    found = {product.id: product for product in db.session.scalars(service.products_by_ids(ids))}
    return [found[i] for i in ids if i in found]


def _apply_page(programme, form, status=200, problem=None):
    form.preferred_zone.choices = [("", _("Không chọn, khu nào cũng được"))] + [
        (zone, zone) for zone in programme.zones or ()
    ]
    return render_template(
        "programmes/dashboard/apply.html",
        cooperative=g.cooperative,
        programme=programme,
        form=form,
        products=db.session.scalars(service.products_for_form(g.cooperative.id)).unique().all(),
        checked={int(v) for v in form.products.data or () if v.isascii() and v.isdecimal()},
        closed=_closed_reason(programme),
        problem=problem,
        deadline=programme.application_deadline,
        min_products=rules.MIN_FEATURED,
        max_products=rules.MAX_FEATURED,
    ), status


# --------------------------------------------------------------------------- pages


@bp.get("")
def programmes():
    today = clock.today()
    applications = db.session.scalars(service.applications_of(g.cooperative.id)).unique().all()
    active = {a.programme_id: a for a in applications if a.status in ACTIVE_APPLICATION_STATUSES}
    return render_template(
        "programmes/dashboard/list.html",
        cooperative=g.cooperative,
        open_programmes=db.session.scalars(service.open_programmes(today)).all(),
        applications=applications,
        active=active,
        can_exhibit=_can_exhibit(),
    )


def _can_exhibit():
    try:
        rules.check_can_exhibit(g.cooperative)
    except ProgrammeError as error:
        return error.message
    return None


@bp.route("/<slug>/dang-ky", methods=["GET", "POST"])
def apply(slug):
    programme = _programme_or_404(slug)
    form = ApplicationForm()
    if not form.is_submitted():
        existing = _active_application(programme)
        if existing is not None:
            flash(
                _("Hợp tác xã đã gửi đơn cho chương trình này. Đơn của bạn ở dưới đây."),
                "warning",
            )
            return redirect(url_for(".application", id=existing.id))
        return _apply_page(programme, form)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _apply_page(programme, form, 422)
    ids = form.product_ids()
    products = _products_of(ids)
    if len(products) != len(ids):
        return _apply_page(
            programme,
            form,
            400,
            _("Có sản phẩm đã chọn không còn trên Chợ HTX. Hãy chọn lại."),
        )
    try:
        application = service.apply(
            programme,
            g.cooperative,
            products,
            form.preferred_zone.data,
            form.note.data,
            current_user,
        )
    except ProgrammeError as error:
        db.session.rollback()
        return _apply_page(programme, form, error.status, error.message)
    db.session.commit()
    flash(
        _(
            "Đã gửi đơn đăng ký gian hàng ở “%(programme)s”. Liên minh HTX sẽ xét và báo cho bạn.",
            programme=programme.t("title"),
        ),
        "success",
    )
    return redirect(url_for(".application", id=application.id))


@bp.get("/don/<int:id>")
def application(id):
    return _application_page(_own_application_or_404(id))


def _application_page(application, status=200, problem=None):
    products = _products_of(application.product_ids or [])
    return render_template(
        "programmes/dashboard/application.html",
        cooperative=g.cooperative,
        application=application,
        programme=application.programme,
        products=products,
        withdraw_form=EmptyForm(),
        problem=problem,
    ), status


@bp.post("/don/<int:id>/rut")
def withdraw(id):
    application = _own_application_or_404(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.withdraw(application, current_user)
    except service.AlreadyDecided:
        db.session.rollback()
        application = _own_application_or_404(id)
        return _application_page(
            application,
            409,
            _(
                "Không rút được: đơn đang ở trạng thái “%(status)s”.",
                status=service.status_label(application.status),
            ),
        )
    db.session.commit()
    flash(
        _("Đã rút đơn đăng ký ở “%(programme)s”.", programme=application.programme.t("title")),
        "success",
    )
    return redirect(url_for(".programmes"))
