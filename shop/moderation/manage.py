"""Staff handling of buyers' product reports (/quan-tri/bao-cao-san-pham).

A case page shows the product, its cooperative, every report and the product's past cases, and
offers three decisions: nothing wrong (dismiss), ask the cooperative for changes, or take the
product off the catalogue. A decision on a case someone else decided first answers 409 and
writes nothing. Decisions that change the product tell the cooperative on its dashboard (the
service) and its owners by email (here, as product decisions do).
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import staff_blueprint
from shop.catalog.decisions import email_owners
from shop.catalog.queries import is_row_id
from shop.catalog.services import REVIEW_REASONS
from shop.extensions import db
from shop.moderation import queries, services
from shop.moderation.forms import ChangesForm, DismissForm, UnpublishForm
from shop.moderation.models import CaseStatus

bp = staff_blueprint("moderation_manage", __name__, url_prefix="/quan-tri/bao-cao-san-pham")


@bp.app_template_global()
def report_reason_label(reason) -> str:
    return services.reason_label(reason)


@bp.app_template_global()
def case_outcome_label(outcome) -> str:
    return services.outcome_label(outcome)


def _case_or_404(id):
    """(case, decider's email) of a case, with what its page shows; 404 if there is none."""
    if not is_row_id(id):
        abort(404)
    row = db.session.execute(queries.case_for_staff(id)).unique().first()
    if row is None:
        abort(404)
    return row


def _blank_forms() -> dict:
    return {
        "dismiss": DismissForm(prefix="dismiss", formdata=None),
        "changes": ChangesForm(prefix="changes", formdata=None),
        "unpublish": UnpublishForm(prefix="unpublish", formdata=None),
    }


def _case_page(id, forms: dict | None = None, status: int = 200):
    case, decider = _case_or_404(id)
    all_forms = _blank_forms()
    all_forms.update(forms or {})
    return render_template(
        "moderation/case.html",
        case=case,
        decider=decider,
        product=case.product,
        cooperative=case.product.cooperative,
        reporter_emails=dict(db.session.execute(queries.report_emails(case.reports)).all()),
        past=db.session.execute(queries.past_cases(case.product_id, case.id)).all(),
        forms=all_forms,
    ), status


def _conflict(id):
    """409: someone decided the case first; nothing of this request was written."""
    db.session.rollback()
    case, decider = _case_or_404(id)
    return render_template(
        "moderation/case_conflict.html", case=case, decider=decider, product=case.product
    ), 409


def _decide(id, key, form, decide, kind, done_message):
    """Common path of a decision: check the form, run it, email if the product changed, commit."""
    case, _decider = _case_or_404(id)
    product = case.product
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _case_page(id, {key: form}, 422)
    if case.status != CaseStatus.OPEN:
        return _conflict(id)
    try:
        affected = decide(case)
    except services.AlreadyDecided:
        return _conflict(id)
    except services.CaseError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".case", id=id))
    if affected and kind:
        reasons = getattr(form, "reasons", None)
        email_owners(
            product,
            kind,
            reasons=[c for c in (reasons.data or ()) if c in REVIEW_REASONS] if reasons else (),
            note=form.note.data or None,
        )
    db.session.commit()
    flash(done_message(product, affected), "success")
    return redirect(url_for(".cases"))


# --------------------------------------------------------------------------- pages


@bp.get("")
def cases():
    return render_template(
        "moderation/cases.html",
        open_cases=db.session.scalars(queries.open_cases()).unique().all(),
        decided=db.session.execute(queries.recent_decided_cases()).unique().all(),
        recent=queries.RECENT_DECIDED,
    )


@bp.get("/<int:id>")
def case(id):
    return _case_page(id)


# --------------------------------------------------------------------------- decisions


def _unchanged(name):
    return _(
        "Báo cáo đã đóng. Sản phẩm “%(name)s” không còn đang bán nên không thay đổi gì thêm.",
        name=name,
    )


@bp.post("/<int:id>/bo-qua")
def dismiss(id):
    form = DismissForm(prefix="dismiss")
    return _decide(
        id,
        "dismiss",
        form,
        lambda case: services.dismiss(case, current_user, form.note.data),
        None,
        lambda p, _affected: _(
            "Đã đóng báo cáo về “%(name)s”: không có vi phạm. Hợp tác xã không được báo.",
            name=p.name_vi,
        ),
    )


@bp.post("/<int:id>/yeu-cau-sua")
def request_changes(id):
    form = ChangesForm(prefix="changes")
    return _decide(
        id,
        "changes",
        form,
        lambda case: services.request_changes(
            case, current_user, form.reasons.data, form.note.data
        ),
        "report_changes_requested",
        lambda p, affected: (
            _(
                "Đã gửi yêu cầu sửa “%(name)s” cho hợp tác xã; sản phẩm tạm ẩn khỏi Chợ HTX.",
                name=p.name_vi,
            )
            if affected
            else _unchanged(p.name_vi)
        ),
    )


@bp.post("/<int:id>/go-san-pham")
def unpublish(id):
    form = UnpublishForm(prefix="unpublish")
    return _decide(
        id,
        "unpublish",
        form,
        lambda case: services.unpublish(case, current_user, form.note.data),
        "report_unpublished",
        lambda p, affected: (
            _("Đã gỡ “%(name)s” khỏi Chợ HTX và báo cho hợp tác xã.", name=p.name_vi)
            if affected
            else _unchanged(p.name_vi)
        ),
    )
