"""What a cooperative does with an inquiry: reply to the buyer, note for itself, set its status.

Decisions (tested in tests/test_inquiry_inbox.py):
- A reply is a message in the thread the buyer reads (through the private link) and, when the
  buyer left an email, an email in the buyer's language carrying the reply and the link. The
  first reply moves a new inquiry to "replied" and sets replied_at once.
- An internal note is the cooperative's own: never shown or sent to the buyer.
- Status changes are guarded by a conditional UPDATE on the status the member saw: of two
  members acting at once one wins, the other gets InquiryConflict (409) and nothing is written.
- A spam inquiry notifies nobody, ever: it cannot be replied to (its private link is already a
  404, shop.inquiries.services.inquiry_for_token), and marking spam tells no one.

Writes flush and append an audit entry; the view commits.
"""

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, update

from shop.audit.services import record
from shop.db import utcnow
from shop.extensions import db
from shop.inquiries import services
from shop.inquiries.models import Inquiry, InquiryMessage, InquiryStatus, MessageAuthor
from shop.inquiries.queries import last_status_change
from shop.inquiries.tokens import TOKEN_MAX_AGE
from shop.notify.messages import format_when
from shop.notify.services import queue_email

#: A reply or note may be long (a price list typed in), but not a book.
BODY_MAX = 5000

#: An inquiry's status as its cooperative and staff read it.
STATUS_LABELS = {
    InquiryStatus.NEW: _l("Mới"),
    InquiryStatus.REPLIED: _l("Đã trả lời"),
    InquiryStatus.WON: _l("Đã chốt đơn"),
    InquiryStatus.LOST: _l("Không thành"),
    InquiryStatus.SPAM: _l("Thư rác"),
}

#: The statuses a member may set, each from the statuses it may follow.
MOVES = {
    InquiryStatus.WON: (InquiryStatus.NEW, InquiryStatus.REPLIED, InquiryStatus.LOST),
    InquiryStatus.LOST: (InquiryStatus.NEW, InquiryStatus.REPLIED, InquiryStatus.WON),
    InquiryStatus.SPAM: (InquiryStatus.NEW, InquiryStatus.REPLIED),
}


class InquiryConflict(Exception):
    """A change the inquiry's current state refuses: `message` for the member, 409."""

    status = 409

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def status_label(status) -> str:
    label = STATUS_LABELS.get(InquiryStatus(getattr(status, "value", status)))
    return str(label) if label is not None else str(status)


def can_move(inquiry: Inquiry, target: InquiryStatus) -> bool:
    return inquiry.status in MOVES.get(target, ())


def body_error(text: str | None, empty=None) -> str | None:
    """Why a reply or note cannot be saved (empty, too long), or None."""
    text = text or ""
    if not text.strip():
        return str(empty) if empty else _("Hãy viết nội dung trước khi gửi.")
    if len(text) > BODY_MAX:
        return _(
            "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(count)d).", max=BODY_MAX, count=len(text)
        )
    return None


class InvalidBody(ValueError):
    """A reply or note that is empty or too long (the forms say so first)."""


def _check_body(body: str) -> None:
    error = body_error(body)
    if error:
        raise InvalidBody(error)


def _spam_refused():
    return InquiryConflict(
        _(
            "Yêu cầu này đã bị đánh dấu là thư rác: không gửi trả lời được, và không ai được "
            "báo về nó."
        )
    )


# --------------------------------------------------------------------------- writes


def reply(inquiry: Inquiry, body: str, actor) -> tuple[InquiryMessage, bool]:
    """The cooperative's answer in the thread, emailed to the buyer; returns (message, emailed).

    Refused with InquiryConflict when the inquiry is spam, checked in the same UPDATE that
    moves a new inquiry to "replied", so a reply and a "spam" click at once cannot both win.
    """
    _check_body(body)
    now = utcnow()
    before = inquiry.status
    result = db.session.execute(
        update(Inquiry)
        .where(Inquiry.id == inquiry.id, Inquiry.status != InquiryStatus.SPAM)
        .values(
            status=case(
                (Inquiry.status == InquiryStatus.NEW, literal(InquiryStatus.REPLIED.value)),
                else_=Inquiry.status,
            ),
            replied_at=func.coalesce(Inquiry.replied_at, now),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(inquiry, ["status", "replied_at", "updated_at"])
    if result.rowcount != 1:
        raise _spam_refused()
    message = InquiryMessage(
        inquiry_id=inquiry.id,
        author=MessageAuthor.COOPERATIVE,
        author_user_id=actor.id,
        body=body,
        internal=False,
    )
    db.session.add(message)
    db.session.flush()
    emailed = bool(inquiry.buyer_email)
    if emailed:
        subject, text = reply_email(inquiry, body)
        queue_email(inquiry.buyer_email, subject, text, "inquiry_replied")
    record(
        actor,
        "inquiry.replied",
        inquiry,
        before={"status": before.value},
        after={"status": inquiry.status.value, "message_id": message.id, "emailed": emailed},
    )
    return message, emailed


def add_note(inquiry: Inquiry, body: str, actor) -> InquiryMessage:
    """An internal note on the inquiry: the cooperative's (and staff's) eyes only."""
    _check_body(body)
    note = InquiryMessage(
        inquiry_id=inquiry.id,
        author=MessageAuthor.COOPERATIVE,
        author_user_id=actor.id,
        body=body,
        internal=True,
    )
    db.session.add(note)
    db.session.flush()
    record(actor, "inquiry.note_added", inquiry, after={"message_id": note.id})
    return note


def change_status(inquiry: Inquiry, target: InquiryStatus, seen: InquiryStatus, actor) -> None:
    """Move the inquiry from `seen` (the status on the member's page) to `target`.

    Refused with InquiryConflict when the move is not one MOVES allows, or when the status is
    no longer `seen` (someone acted first). Nobody is notified, whatever the target.
    """
    if seen not in MOVES.get(target, ()):
        raise InquiryConflict(
            _(
                "Không chuyển được yêu cầu từ “%(before)s” sang “%(after)s”.",
                before=status_label(seen),
                after=status_label(target),
            )
        )
    result = db.session.execute(
        update(Inquiry)
        .where(Inquiry.id == inquiry.id, Inquiry.status == seen)
        .values(status=target, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(inquiry, ["status", "replied_at", "updated_at"])
    if result.rowcount != 1:
        raise InquiryConflict(_changed_first(inquiry))
    record(
        actor,
        "inquiry.status_changed",
        inquiry,
        before={"status": seen.value},
        after={"status": target.value},
    )


def _changed_first(inquiry: Inquiry) -> str:
    """Who moved the inquiry to its current status, and when; for the member who came second."""
    row = last_status_change(inquiry.id)
    current = status_label(inquiry.status)
    if row is None:
        return _(
            "Yêu cầu này vừa được đổi sang “%(status)s”. Thao tác của bạn chưa được lưu: hãy "
            "xem lại rồi làm lại nếu cần.",
            status=current,
        )
    entry, name = row
    return _(
        "%(who)s đã đổi yêu cầu này sang “%(status)s” lúc %(when)s. Thao tác của bạn chưa được "
        "lưu: hãy xem lại rồi làm lại nếu cần.",
        who=name or _("Một thành viên khác"),
        status=current,
        when=format_when(entry.created_at),
    )


# --------------------------------------------------------------------------- the buyer's email


def reply_email(inquiry: Inquiry, body: str) -> tuple[str, str]:
    """(subject, text) of the reply email, in the language the buyer wrote in."""
    lang = inquiry.buyer_lang if inquiry.buyer_lang in ("vi", "en") else "vi"
    cooperative = inquiry.cooperative.t("name", lang)
    link = services.buyer_link(inquiry)
    with force_locale(lang):
        subject = _("%(cooperative)s đã trả lời yêu cầu báo giá của bạn", cooperative=cooperative)
        text = "\n\n".join(
            [
                _("Chào %(name)s,", name=inquiry.buyer_name),
                _(
                    "%(cooperative)s đã trả lời yêu cầu báo giá bạn gửi lúc %(when)s:",
                    cooperative=cooperative,
                    when=format_when(inquiry.created_at),
                ),
                body,
                _("Đọc cả cuộc trao đổi và trả lời lại tại liên kết riêng của bạn:"),
                link,
                _(
                    "Liên kết này là của riêng bạn: ai có liên kết đều đọc và trả lời được, vì "
                    "vậy đừng chuyển thư này cho người khác. Liên kết dùng được %(days)d ngày.",
                    days=TOKEN_MAX_AGE // 86400,
                ),
            ]
        )
    return subject, text
