"""The alliance console's cooperative pages (/quan-tri/htx): verify, ask for more, onboard,
suspend and lift a suspension."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import staff_blueprint
from shop.catalog.queries import paginate
from shop.cooperatives import queries, services
from shop.cooperatives.forms import DecisionForm, NeedsInfoForm, OnboardingForm, SuspendForm
from shop.cooperatives.models import CooperativeStatus, MembershipRole
from shop.extensions import db
from shop.forms import EmptyForm
from shop.notify import messages
from shop.notify.messages import STATUS_LABELS

bp = staff_blueprint("cooperatives_manage", __name__, url_prefix="/quan-tri")
for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)

PER_PAGE = 30


def _cooperative_or_404(id):
    cooperative = db.session.scalar(queries.cooperative_with_places(id))
    if cooperative is None:
        abort(404)
    return cooperative


@bp.get("/htx")
def cooperatives():
    status = request.args.get("status") or ""
    status = CooperativeStatus(status) if status in STATUS_LABELS else None
    q = (request.args.get("q") or "").strip()[:100]
    page = paginate(queries.staff_directory(status, q or None), PER_PAGE)
    return render_template(
        "cooperatives/manage/list.html",
        page=page,
        status=status.value if status else "",
        q=q,
        status_options=[(value, str(label)) for value, label in STATUS_LABELS.items()],
        owners=queries.owner_emails(c.id for c in page.items),
    )


@bp.get("/htx/cho-duyet")
def queue():
    page = paginate(queries.verification_queue(), PER_PAGE)
    return render_template(
        "cooperatives/manage/queue.html",
        page=page,
        owners=queries.owner_emails(c.id for c in page.items),
    )


@bp.get("/htx/<int:id>")
def detail(id):
    return _detail_page(id)


def _detail_page(id, needs_info_form=None, suspend_form=None, status=200):
    cooperative = _cooperative_or_404(id)
    team = db.session.execute(queries.team_of(cooperative.id)).all()
    return render_template(
        "cooperatives/manage/detail.html",
        cooperative=cooperative,
        team=team,
        owners=[user.email for m, user in team if m.role == MembershipRole.OWNER],
        invitations=db.session.scalars(queries.open_invitations(cooperative.id)).all(),
        history=db.session.execute(queries.audit_history(cooperative.id)).all(),
        info_form=needs_info_form or NeedsInfoForm(prefix="info", formdata=None),
        decidable=cooperative.status in services.DECIDABLE,
        suspend_form=suspend_form or SuspendForm(prefix="suspend", formdata=None),
    ), status


def _already_decided(cooperative, error: services.AlreadyDecided):
    # The guarded UPDATE matched no row, so nothing was written.
    return render_template(
        "cooperatives/manage/conflict.html",
        cooperative=cooperative,
        decision=error.decision,
        current=db.session.scalar(queries.cooperative_with_places(cooperative.id)),
    ), 409


def _back_to(id):
    """Back to the queue when the decision was taken there, else to the cooperative's page."""
    if request.form.get("back") == "queue":
        return redirect(url_for(".queue"))
    return redirect(url_for(".detail", id=id))


@bp.post("/htx/<int:id>/xac-minh")
def verify(id):
    cooperative = _cooperative_or_404(id)
    form = DecisionForm(prefix="verify")
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide(current_user, cooperative, CooperativeStatus.VERIFIED, seen=form.seen())
    except services.AlreadyDecided as error:
        return _already_decided(cooperative, error)
    db.session.commit()
    flash(_("Đã xác minh %(name)s.", name=cooperative.name), "success")
    return _back_to(id)


@bp.post("/htx/<int:id>/can-bo-sung")
def request_info(id):
    cooperative = _cooperative_or_404(id)
    form = NeedsInfoForm(prefix="info")
    if not form.validate_on_submit():
        return _detail_page(id, needs_info_form=form, status=422)
    try:
        services.decide(
            current_user,
            cooperative,
            CooperativeStatus.NEEDS_INFO,
            reason=form.reason.data,
            seen=form.seen(),
        )
    except services.AlreadyDecided as error:
        return _already_decided(cooperative, error)
    db.session.commit()
    flash(_("Đã yêu cầu %(name)s bổ sung thông tin.", name=cooperative.name), "success")
    return _back_to(id)


@bp.post("/htx/<int:id>/tam-ngung")
def suspend(id):
    cooperative = _cooperative_or_404(id)
    form = SuspendForm(prefix="suspend")
    if not form.validate_on_submit():
        return _detail_page(id, suspend_form=form, status=422)
    try:
        services.suspend(current_user, cooperative, form.reason.data)
    except services.AlreadyDecided as error:
        return _already_decided(cooperative, error)
    db.session.commit()
    flash(_("Đã tạm ngưng %(name)s.", name=cooperative.name), "success")
    return redirect(url_for(".detail", id=id))


@bp.post("/htx/<int:id>/mo-lai")
def lift(id):
    cooperative = _cooperative_or_404(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.lift(current_user, cooperative)
    except services.AlreadyDecided as error:
        return _already_decided(cooperative, error)
    db.session.commit()
    flash(_("Đã mở lại %(name)s.", name=cooperative.name), "success")
    return redirect(url_for(".detail", id=id))


@bp.route("/htx/moi", methods=["GET", "POST"])
def create():
    form = OnboardingForm()
    if form.validate_on_submit():
        cooperative, _token = services.create_on_behalf(
            current_user, form.values(), form.owner_email.data
        )
        db.session.commit()
        flash(
            _(
                "Đã tạo %(name)s (đã xác minh) và gửi lời mời tới %(email)s.",
                name=cooperative.name,
                email=form.owner_email.data,
            ),
            "success",
        )
        return redirect(url_for(".detail", id=cooperative.id))
    return render_template("cooperatives/manage/new.html", form=form), (
        422 if form.is_submitted() else 200
    )
