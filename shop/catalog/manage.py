"""The alliance console's product pages (/quan-tri/san-pham): review products and revisions.

Staff find here the products sent for review and the edits of live products (the single queue,
/quan-tri/hang-cho, lists them with everything else that waits) and decide on a product's page;
a page opened from the queue (?tu=…) returns there afterwards. A decision only applies to what
the staff member saw: each form carries a digest of the values on the page, and a product or
revision that changed since (or that someone else decided first) answers 409 and writes nothing.
"""

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import HiddenInput

from shop import clock
from shop.access import is_local_url, staff_blueprint
from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.catalog import queries, services
from shop.catalog.decisions import email_owners as _email_owners
from shop.catalog.decisions import product_version as _version
from shop.catalog.decisions import revision_version as _revision_version
from shop.catalog.forms import CheckboxesField
from shop.catalog.models import (
    Product,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    mask_to_months,
)
from shop.cooperatives.forms import max_length, plain_text, required
from shop.cooperatives.services import owner_users
from shop.extensions import db
from shop.forms import Form, choices
from shop.notify import messages

bp = staff_blueprint("product_manage", __name__, url_prefix="/quan-tri/san-pham")

for _name, _helper in messages.template_globals().items():
    bp.add_app_template_global(_helper, _name)
bp.add_app_template_global(mask_to_months, "months_of_mask")

#: How many of the oldest waiting products and revisions the queue page lists.
QUEUE_LIMIT = 50
NOTE_MAX = 2000
#: Audit actions that are a staff decision on a product or on one of its revisions.
DECISION_ACTIONS = (
    "product.approved",
    "product.changes_requested",
    "product.rejected",
    "product.revision_approved",
    "product.revision_changes_requested",
    "product.revision_rejected",
)


# --------------------------------------------------------------------------- forms


class SeenForm(Form):
    """A decision on what the page showed: `seen` is the digest of it (see _version)."""

    seen = HiddenField(validators=[InputRequired()])


class RevisionSeenForm(SeenForm):
    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _reasons_field():
    return CheckboxesField(
        _l("Cần sửa gì?"),
        choices=choices(services.REVIEW_REASONS.items()),
        # Unknown codes are dropped (services._check_reasons); the note check below counts.
        validate_choice=False,
    )


def _changes_note():
    return TextAreaField(
        _l("Ghi chú cho hợp tác xã"),
        validators=[max_length(NOTE_MAX), plain_text(multiline=True)],
        description=_l(
            "Hợp tác xã đọc đúng lời này. Ví dụ: Ảnh bìa mờ, hãy chụp lại gói sản phẩm."
        ),
    )


def _reject_note():
    return TextAreaField(
        _l("Lý do từ chối"),
        validators=[
            required(_l("Hãy ghi lý do từ chối để hợp tác xã biết.")),
            max_length(NOTE_MAX),
            plain_text(multiline=True),
        ],
        description=_l("Bắt buộc. Ví dụ: Sản phẩm không thuộc danh mục được bán trên Chợ HTX."),
    )


def _check_reasons(form, field):
    known = [code for code in form.reasons.data or () if code in services.REVIEW_REASONS]
    if not known and not (field.data or "").strip():
        raise ValidationError(_("Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì."))


class ChangesForm(SeenForm):
    reasons = _reasons_field()
    note = _changes_note()
    validate_note = _check_reasons


class RejectForm(SeenForm):
    note = _reject_note()


class RevisionChangesForm(RevisionSeenForm):
    reasons = _reasons_field()
    note = _changes_note()
    validate_note = _check_reasons


class RevisionRejectForm(RevisionSeenForm):
    note = _reject_note()


def _blank_forms() -> dict:
    """The decision forms of the product page, empty (formdata=None: nothing read from a POST)."""
    return {
        "changes": ChangesForm(prefix="changes", formdata=None),
        "reject": RejectForm(prefix="reject", formdata=None),
        "rev_changes": RevisionChangesForm(prefix="rev_changes", formdata=None),
        "rev_reject": RevisionRejectForm(prefix="rev_reject", formdata=None),
    }


# --------------------------------------------------------------------------- helpers


def _product_or_404(id) -> Product:
    if not queries.is_row_id(id):
        abort(404)
    product = db.session.scalar(queries.product_for_staff(id))
    if product is None:
        abort(404)
    return product


def _last_decision(product_id: int):
    stmt = (
        queries.product_history(product_id).where(AuditEntry.action.in_(DECISION_ACTIONS)).limit(1)
    )
    return db.session.execute(stmt).first()


def _conflict(product_id: int, changed: bool = False):
    """409: someone decided first (or the cooperative changed what was shown); nothing written."""
    db.session.rollback()
    product = _product_or_404(product_id)
    return render_template(
        "catalog/manage/conflict.html",
        product=product,
        changed=changed,
        decision=None if changed else _last_decision(product.id),
        revision=db.session.scalar(queries.pending_revision(product.id)),
    ), 409


def _came_from() -> dict:
    """`tu`: the single queue's address (with its filters) when the page was opened from there."""
    target = request.args.get("tu", "")
    if is_local_url(target) and urlsplit(target).path == url_for("moderation_queue.queue"):
        return {"tu": target}
    return {}


def _back_to_queue() -> str:
    """After a decision: back to the queue the product was opened from (filters kept)."""
    target = _came_from().get("tu")
    if target is None:
        return url_for(".queue")
    # Page 1: the page the product was on may be gone once it is decided.
    args = [(k, v) for k, v in parse_qsl(urlsplit(target).query) if k != "page"]
    return url_for("moderation_queue.queue") + (f"?{urlencode(args)}" if args else "")


def _detail_page(product: Product, forms: dict | None = None, status: int = 200):
    revision = db.session.scalar(queries.pending_revision(product.id))
    all_forms = _blank_forms()
    all_forms.update(forms or {})
    return render_template(
        "catalog/manage/detail.html",
        product=product,
        cooperative=product.cooperative,
        owners=[user.email for user in owner_users(product.cooperative)],
        revision=revision,
        revision_author=(
            db.session.scalar(select(User.email).where(User.id == revision.created_by_id))
            if revision is not None and revision.created_by_id
            else None
        ),
        changes=queries.revision_changes(product, revision) if revision else None,
        revision_version=_revision_version(revision) if revision else None,
        version=_version(product),
        names=queries.display_names(),
        photo_ids=db.session.scalars(queries.photo_ids(product.id)).all(),
        history=db.session.execute(queries.product_history(product.id)).all(),
        forms=all_forms,
    ), status


# --------------------------------------------------------------------------- pages


@bp.get("")
def queue():
    counts = queries.review_counts()
    return render_template(
        "catalog/manage/queue.html",
        products=db.session.execute(queries.review_queue().limit(QUEUE_LIMIT)).all(),
        revisions=db.session.scalars(queries.revision_queue().limit(QUEUE_LIMIT)).all(),
        counts=counts,
        limit=QUEUE_LIMIT,
    )


#: How far ahead the console lists OCOP certificates about to expire.
OCOP_WARNING_DAYS = 60


@bp.get("/ocop-het-han")
def ocop_expiry():
    today = clock.today()
    return render_template(
        "catalog/manage/ocop_expiry.html",
        today=today,
        days=OCOP_WARNING_DAYS,
        expiring=db.session.scalars(
            queries.ocop_expiring(today, today + timedelta(days=OCOP_WARNING_DAYS))
        ).all(),
        expired=db.session.scalars(queries.ocop_expired(today)).all(),
    )


@bp.get("/<int:id>")
def detail(id):
    return _detail_page(_product_or_404(id))


# --------------------------------------------------------------------------- product decisions


def _carry_out(product, form, kind, done_message, decide):
    """Run a checked decision, email the owners, commit; a lost race is the 409 page."""
    try:
        decide()
    except services.AlreadyDecided:
        return _conflict(product.id)
    except services.ProductError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".detail", id=product.id, **_came_from()))
    db.session.refresh(product)
    reasons = getattr(form, "reasons", None)
    note = getattr(form, "note", None)
    _email_owners(
        product,
        kind,
        reasons=[c for c in (reasons.data or ()) if c in services.REVIEW_REASONS]
        if reasons
        else (),
        note=note.data if note else None,
    )
    db.session.commit()
    flash(done_message(product), "success")
    return redirect(_back_to_queue())


def _decide_product(id, key, form, decide, kind, done_message):
    """Common path of a decision on a submitted product; `decide(product)` calls the service."""
    product = _product_or_404(id)
    if not form.validate_on_submit():
        if form.seen.errors or form.csrf_token.errors:
            abort(400)
        return _detail_page(product, {key: form}, 422)
    if product.status != ProductStatus.SUBMITTED:
        return _conflict(product.id)
    if form.seen.data != _version(product):
        return _conflict(product.id, changed=True)
    return _carry_out(product, form, kind, done_message, lambda: decide(product))


@bp.post("/<int:id>/duyet")
def approve(id):
    return _decide_product(
        id,
        "approve",
        SeenForm(prefix="approve"),
        lambda product: services.approve(product, current_user),
        "product_approved",
        lambda p: _("Đã duyệt “%(name)s”. Sản phẩm đang hiện với người mua.", name=p.name_vi),
    )


@bp.post("/<int:id>/yeu-cau-sua")
def request_changes(id):
    form = ChangesForm(prefix="changes")
    return _decide_product(
        id,
        "changes",
        form,
        lambda product: services.request_changes(
            product, current_user, form.reasons.data, form.note.data or None
        ),
        "product_changes_requested",
        lambda p: _("Đã gửi yêu cầu sửa “%(name)s” cho hợp tác xã.", name=p.name_vi),
    )


@bp.post("/<int:id>/tu-choi")
def reject(id):
    form = RejectForm(prefix="reject")
    return _decide_product(
        id,
        "reject",
        form,
        lambda product: services.reject(product, current_user, form.note.data),
        "product_rejected",
        lambda p: _("Đã từ chối “%(name)s”.", name=p.name_vi),
    )


# --------------------------------------------------------------------------- revision decisions


def _decide_revision(id, key, form, decide, kind, done_message):
    """Common path of a decision on the product's pending revision."""
    product = _product_or_404(id)
    if not form.validate_on_submit():
        if form.seen.errors or form.revision.errors or form.csrf_token.errors:
            abort(400)
        return _detail_page(product, {key: form}, 422)
    revision = None
    if queries.is_row_id(form.revision.data):
        revision = db.session.scalar(
            select(ProductRevision).where(
                ProductRevision.id == form.revision.data, ProductRevision.product_id == product.id
            )
        )
    if revision is None:
        abort(404)
    if revision.status != RevisionStatus.PENDING:
        return _conflict(product.id)
    if form.seen.data != _revision_version(revision):
        return _conflict(product.id, changed=True)
    return _carry_out(product, form, kind, done_message, lambda: decide(revision))


@bp.post("/<int:id>/ban-sua/duyet")
def approve_revision(id):
    return _decide_revision(
        id,
        "rev_approve",
        RevisionSeenForm(prefix="rev_approve"),
        lambda revision: services.approve_revision(revision, current_user),
        "revision_approved",
        lambda p: _(
            "Đã duyệt bản sửa của “%(name)s”. Người mua đang thấy bản mới.", name=p.name_vi
        ),
    )


@bp.post("/<int:id>/ban-sua/yeu-cau-sua")
def request_revision_changes(id):
    form = RevisionChangesForm(prefix="rev_changes")
    return _decide_revision(
        id,
        "rev_changes",
        form,
        lambda revision: services.request_revision_changes(
            revision, current_user, form.reasons.data, form.note.data or None
        ),
        "revision_changes_requested",
        lambda p: _("Đã gửi yêu cầu sửa bản sửa của “%(name)s”.", name=p.name_vi),
    )


@bp.post("/<int:id>/ban-sua/tu-choi")
def reject_revision(id):
    form = RevisionRejectForm(prefix="rev_reject")
    return _decide_revision(
        id,
        "rev_reject",
        form,
        lambda revision: services.reject_revision(revision, current_user, form.note.data),
        "revision_rejected",
        lambda p: _("Đã từ chối bản sửa của “%(name)s”. Bản đang bán giữ nguyên.", name=p.name_vi),
    )
