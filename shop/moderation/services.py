"""Writes for buyers' product reports and the staff decisions on the cases they open.

A report joins the product's open case, or opens one; the partial unique index (one open case
per product) settles two first reports arriving together. The cooperative is never told about
single reports (that would invite harassment of buyers); it hears only a staff decision that
affects its product. Every decision closes the case with a conditional UPDATE on its status,
so two staff deciding at once cannot both win (the loser gets AlreadyDecided, shown as 409).

Functions take the acting user, flush, and append an audit entry; views commit.
"""

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from shop.audit.services import record
from shop.catalog import services as catalog_services
from shop.catalog.models import Product, ProductStatus, RevisionStatus
from shop.catalog.services import REVIEW_REASONS
from shop.cooperatives.models import Cooperative
from shop.db import utcnow
from shop.extensions import db
from shop.moderation.models import CaseStatus, ModerationCase, ProductReport, ReportReason
from shop.notify.services import notify_cooperative

#: What a buyer may say is wrong, in the order the form lists it.
REPORT_REASONS = {
    ReportReason.WRONG_INFO: _l("Thông tin sai"),
    ReportReason.PROHIBITED: _l("Hàng cấm"),
    ReportReason.COUNTERFEIT: _l("Hàng giả, hàng nhái"),
    ReportReason.OTHER: _l("Khác"),
}

#: What staff decided (ModerationCase.outcome).
OUTCOME_LABELS = {
    "dismissed": _l("Không có vi phạm, đóng báo cáo"),
    "changes_requested": _l("Yêu cầu hợp tác xã sửa"),
    "unpublished": _l("Gỡ sản phẩm khỏi Chợ HTX"),
}

DETAILS_MAX = 2000
NOTE_MAX = 2000
#: The same person reporting the same product again within this time adds nothing.
REPEAT_WINDOW = timedelta(days=1)


class CaseError(Exception):
    """A decision that cannot be made as asked; `message` is shown to staff."""

    status = 400

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AlreadyDecided(CaseError):
    """Someone else decided the case first."""

    status = 409


def reason_label(reason) -> str:
    label = REPORT_REASONS.get(ReportReason(getattr(reason, "value", reason)))
    return str(label)


def outcome_label(outcome: str | None) -> str:
    label = OUTCOME_LABELS.get(outcome or "")
    return str(label) if label is not None else (outcome or "")


# --------------------------------------------------------------------------- reports


def reporter_key(address: str) -> str:
    """A keyed hash of the reporter's address: one person's reports add up, no IP is stored."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"product-report:" + address.encode(), hashlib.sha256).hexdigest()


def already_reported(product: Product, key: str, user=None) -> bool:
    """Whether this person reported the product within REPEAT_WINDOW.

    A signed-in buyer is known by their account (many phones share one address behind a
    carrier's NAT); anyone else by the keyed hash of their address.
    """
    who = (
        ProductReport.reporter_user_id == user.id
        if user is not None
        else ProductReport.reporter_key == key
    )
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ProductReport.product_id == product.id,
                    ProductReport.created_at >= utcnow() - REPEAT_WINDOW,
                    who,
                )
            )
        )
    )


def _open_case_of(product_id: int) -> ModerationCase | None:
    return db.session.scalar(
        select(ModerationCase).where(
            ModerationCase.product_id == product_id, ModerationCase.status == CaseStatus.OPEN
        )
    )


def _join_or_open_case(product: Product) -> tuple[ModerationCase, bool]:
    """The product's open case, opened now if there is none; (case, opened?)."""
    case = _open_case_of(product.id)
    if case is not None:
        return case, False
    try:
        with db.session.begin_nested():
            case = ModerationCase(product_id=product.id, status=CaseStatus.OPEN, report_count=0)
            db.session.add(case)
            db.session.flush()
    except IntegrityError:
        # Another first report opened it since we looked (the partial unique index said so).
        case = _open_case_of(product.id)
        if case is None:
            raise
        return case, False
    return case, True


def report_product(
    product: Product, reason, details: str | None, email: str | None, user, reporter_key: str
) -> ProductReport | None:
    """Record a buyer's report in the product's open case; None if they reported it already."""
    if already_reported(product, reporter_key, user):
        return None
    reason = ReportReason(reason)
    case, opened = _join_or_open_case(product)
    # Counted in SQL, so reports joining the same case at once all count.
    db.session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == case.id)
        .values(report_count=ModerationCase.report_count + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    report = ProductReport(
        case_id=case.id,
        product_id=product.id,
        reason=reason,
        details=details or "",
        reporter_email=email or None,
        reporter_user_id=getattr(user, "id", None),
        reporter_key=reporter_key,
    )
    db.session.add(report)
    db.session.flush()
    db.session.refresh(case)
    if opened:
        record(
            user,
            "moderation.case_opened",
            case,
            after={"product_id": product.id, "reason": reason.value},
        )
    return report


# --------------------------------------------------------------------------- staff decisions


def _close(case: ModerationCase, actor, status: CaseStatus, outcome: str, note) -> None:
    """Close the case only if it is still open; otherwise someone decided first."""
    now = utcnow()
    result = db.session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == case.id, ModerationCase.status == CaseStatus.OPEN)
        .values(
            status=status,
            outcome=outcome,
            note=note or None,
            decided_by_id=actor.id,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(case)
        raise AlreadyDecided(_l("Báo cáo này đã được xử lý."))
    db.session.refresh(case)


def _take_down(product: Product, actor, new_status: ProductStatus, **extra) -> bool:
    """Move a published product to `new_status` through the catalog's conditional transition.

    False (and nothing changed) when the product is no longer published: the cooperative
    archived it meanwhile, say. A pending revision of the live product is closed the way
    archiving closes it, since the cooperative now edits the product itself.
    """
    try:
        catalog_services._transition(product, (ProductStatus.PUBLISHED,), new_status, **extra)
    except catalog_services.AlreadyDecided:
        return False
    revision = catalog_services.open_revision(product)
    if revision is not None:
        revision.status = RevisionStatus.REJECTED
        revision.reason = "moderation"
        revision.decided_by_id = actor.id
        revision.decided_at = utcnow()
        db.session.flush()
    return True


def _check_note(note) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise CaseError(_l("Ghi chú dài quá: tối đa %(max)d ký tự.", max=NOTE_MAX))
    return note


def dismiss(case: ModerationCase, actor, note: str | None) -> None:
    """Nothing wrong: close the case; the product and its cooperative are left alone."""
    note = _check_note(note)
    _close(case, actor, CaseStatus.DISMISSED, "dismissed", note)
    record(
        actor,
        "moderation.case_dismissed",
        case,
        before={"status": "open"},
        after={"status": "dismissed", "product_id": case.product_id},
        reason=note,
    )


def request_changes(case: ModerationCase, actor, reasons, note: str | None) -> bool:
    """Send the product back to its cooperative to fix; it leaves the catalogue meanwhile.

    The product goes to "changes requested" with the reasons, as after a review: the cooperative
    reads them on its dashboard, edits, and sends it for review again. Returns whether the
    product was changed (and the cooperative told).
    """
    reasons = [code for code in (reasons or ()) if code in REVIEW_REASONS]
    note = _check_note(note)
    if not reasons and not note:
        raise CaseError(_l("Hãy chọn ít nhất một lý do hoặc ghi rõ cần sửa gì."))
    return _act_on_product(
        case,
        actor,
        outcome="changes_requested",
        action="moderation.changes_requested",
        notice="report_changes_requested",
        new_status=ProductStatus.CHANGES_REQUESTED,
        reasons=reasons,
        note=note,
    )


def unpublish(case: ModerationCase, actor, note: str | None) -> bool:
    """Take the product off the catalogue at once, as rejected (prohibited or counterfeit goods).

    Rejected rather than "changes requested": the cooperative cannot send it for review again by
    itself; it must take the matter up with the alliance. Returns whether the product changed.
    """
    note = _check_note(note)
    if not note:
        raise CaseError(_l("Hãy ghi lý do gỡ sản phẩm để hợp tác xã biết."))
    return _act_on_product(
        case,
        actor,
        outcome="unpublished",
        action="moderation.unpublished",
        notice="report_unpublished",
        new_status=ProductStatus.REJECTED,
        reasons=[],
        note=note,
    )


def _act_on_product(case, actor, *, outcome, action, notice, new_status, reasons, note) -> bool:
    _close(case, actor, CaseStatus.RESOLVED, outcome, note)
    product = db.session.get(Product, case.product_id)
    before = product.status.value
    affected = _take_down(
        product, actor, new_status, moderation_note=note, review_reasons=reasons or None
    )
    record(
        actor,
        action,
        case,
        before={"status": "open", "product_status": before},
        after={
            "status": "resolved",
            "product_id": product.id,
            "product_status": product.status.value,
            **({"reasons": reasons} if reasons else {}),
        },
        reason=note,
    )
    if affected:
        cooperative = db.session.get(Cooperative, product.cooperative_id)
        notify_cooperative(
            cooperative,
            notice,
            product=product.name_vi,
            product_id=product.id,
            reasons=reasons,
            note=note,
        )
    return affected
