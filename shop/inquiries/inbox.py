"""The cooperative's inquiry inbox (/quan-ly-htx/yeu-cau): read, reply, note, set the status.

/quan-ly-htx/yeu-cau                      the inquiries, newest first, in tabs by status
/quan-ly-htx/yeu-cau/<id>                 one inquiry: the buyer's contacts, items, thread
/quan-ly-htx/yeu-cau/<id>/tra-loi         reply to the buyer (POST)
/quan-ly-htx/yeu-cau/<id>/ghi-chu         an internal note (POST)
/quan-ly-htx/yeu-cau/<id>/trang-thai      won, lost or spam (POST)

Ids are looked up within the member's own cooperative only: another cooperative's inquiry is
a 404 that reveals nothing, for reading and for every change. The buyer's contact details are
shown here and in the staff's support view, nowhere else.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from shop.access import member_blueprint
from shop.catalog.queries import is_row_id, paginate
from shop.cooperatives.forms import plain_text
from shop.extensions import db
from shop.forms import Form
from shop.inquiries import queries, replies, services
from shop.inquiries.models import InquiryStatus, MessageAuthor

bp = member_blueprint("inquiry_inbox", __name__, url_prefix="/quan-ly-htx/yeu-cau")

PER_PAGE = 30

TAB_LABELS = {
    queries.ALL: _l("Tất cả"),
    **{status.value: label for status, label in replies.STATUS_LABELS.items()},
}


@bp.after_request
def private_page(response):
    """Buyers' contact details must not stay in shared caches."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- template helpers


@bp.app_template_global("inquiry_status_label")
def inquiry_status_label(status) -> str:
    return replies.status_label(status)


@bp.app_template_global("new_inquiry_count")
def new_inquiry_count() -> int:
    """The member's cooperative's unanswered inquiries, counted once per request."""
    cooperative = g.get("cooperative")
    if cooperative is None:
        return 0
    if "new_inquiry_count" not in g:
        g.new_inquiry_count = db.session.scalar(queries.new_count(cooperative.id)) or 0
    return g.new_inquiry_count


@bp.app_template_global("new_inquiries_label")
def new_inquiries_label(count: int) -> str:
    return ngettext("%(num)d yêu cầu mới", "%(num)d yêu cầu mới", count)


def inquiry_globals() -> dict:
    """Helpers of the inquiry pages (shared by the staff's support view)."""
    return {
        "buyer_phone": services.format_buyer_phone,
        "buyer_type_label": lambda kind: str(services.BUYER_TYPE_LABELS.get(kind, kind)),
        "contact_label": lambda channel: str(services.CONTACT_LABELS.get(channel, channel)),
        "authors": MessageAuthor,
        "statuses": InquiryStatus,
    }


# --------------------------------------------------------------------------- forms


def _body_check(empty):
    """Not empty, not longer than replies.BODY_MAX; `empty` says what to write."""

    def check(form, field):
        error = replies.body_error(field.data, empty)
        if error:
            raise ValidationError(error)

    return check


class ReplyForm(Form):
    body = TextAreaField(
        _l("Câu trả lời cho người mua"),
        validators=[plain_text(multiline=True), _body_check(_l("Hãy viết câu trả lời."))],
        description=_l(
            "Giá, số lượng có sẵn, cách giao hàng… Người mua đọc được câu trả lời này. "
            "Tối đa %(max)d ký tự.",
            max=replies.BODY_MAX,
        ),
    )


class NoteForm(Form):
    body = TextAreaField(
        _l("Nội dung ghi chú"),
        validators=[plain_text(multiline=True), _body_check(_l("Hãy viết ghi chú."))],
        description=_l(
            "Chỉ hợp tác xã và cán bộ Liên minh HTX xem được; người mua không thấy. "
            "Ví dụ: đã gọi điện, hẹn giao thử 5 kg."
        ),
    )


class StatusForm(Form):
    #: The button pressed: won, lost or spam.
    status = StringField()
    #: The status the member saw on the page: the change applies only if it is still that.
    seen = HiddenField()


def _forms(**given) -> dict:
    forms = {
        "reply": ReplyForm(prefix="reply", formdata=None),
        "note": NoteForm(prefix="note", formdata=None),
        "status": StatusForm(formdata=None),
    }
    forms.update(given)
    return forms


# --------------------------------------------------------------------------- pages


def _inquiry_or_404(id: int):
    """The inquiry `id` of the member's own cooperative; 404 for any other id."""
    if not is_row_id(id):
        abort(404)
    inquiry = db.session.scalar(queries.of_cooperative(g.cooperative.id, id))
    if inquiry is None:
        abort(404)
    return inquiry


def _page(inquiry, forms=None, status: int = 200, problem=None):
    return (
        render_template(
            "inquiries/inbox/inquiry.html",
            cooperative=g.cooperative,
            inquiry=inquiry,
            thread=db.session.execute(queries.thread(inquiry.id)).all(),
            units=services.units_of(inquiry),
            booth=queries.booth_of(inquiry),
            forms=_forms(**(forms or {})),
            problem=problem,
            moves={target: replies.can_move(inquiry, target) for target in replies.MOVES},
            **inquiry_globals(),
        ),
        status,
    )


@bp.get("")
def inbox():
    tab = request.args.get("trang_thai") or queries.ALL
    invalid = None
    if tab not in queries.TABS:
        invalid = _("Trạng thái không hợp lệ, bộ lọc đã được bỏ qua.")
        tab = queries.ALL
    counts = queries.status_counts(g.cooperative.id)
    page = paginate(queries.inbox(g.cooperative.id, tab), PER_PAGE)
    return render_template(
        "inquiries/inbox/list.html",
        cooperative=g.cooperative,
        page=page,
        tab=tab,
        tabs=[(key, TAB_LABELS[key], counts[key]) for key in queries.TABS],
        invalid=invalid,
        units=services.units_of(*page.items),
        **inquiry_globals(),
    )


@bp.get("/<int:id>")
def inquiry(id):
    return _page(_inquiry_or_404(id))


def _refused(form) -> None:
    """A form without a valid CSRF token is refused before anything else."""
    if form.csrf_token.errors:
        abort(400)


@bp.post("/<int:id>/tra-loi")
def reply(id):
    inquiry = _inquiry_or_404(id)
    form = ReplyForm(prefix="reply")
    if not form.validate_on_submit():
        _refused(form)
        return _page(inquiry, {"reply": form}, 422)
    try:
        _message, emailed = replies.reply(inquiry, form.body.data, current_user)
    except replies.InquiryConflict as conflict:
        db.session.rollback()
        return _page(_inquiry_or_404(id), {"reply": form}, conflict.status, conflict.message)
    db.session.commit()
    if emailed:
        flash(
            _("Đã gửi câu trả lời. Người mua nhận được qua email và đọc được trên trang riêng."),
            "success",
        )
    else:
        flash(
            _(
                "Đã lưu câu trả lời. Người mua không để lại email: hãy gọi điện hoặc nhắn Zalo "
                "để báo cho người mua."
            ),
            "success",
        )
    return redirect(url_for(".inquiry", id=id, _anchor="trao-doi"))


@bp.post("/<int:id>/ghi-chu")
def note(id):
    inquiry = _inquiry_or_404(id)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        _refused(form)
        return _page(inquiry, {"note": form}, 422)
    replies.add_note(inquiry, form.body.data, current_user)
    db.session.commit()
    flash(_("Đã lưu ghi chú nội bộ."), "success")
    return redirect(url_for(".inquiry", id=id, _anchor="trao-doi"))


STATUS_DONE = {
    InquiryStatus.WON: _l("Đã chuyển yêu cầu sang “Đã chốt đơn”."),
    InquiryStatus.LOST: _l("Đã chuyển yêu cầu sang “Không thành”."),
    InquiryStatus.SPAM: _l("Đã đánh dấu thư rác. Không ai được báo về yêu cầu này nữa."),
}


def _status_of(value) -> InquiryStatus | None:
    try:
        return InquiryStatus(value)
    except ValueError:
        return None


@bp.post("/<int:id>/trang-thai")
def status(id):
    inquiry = _inquiry_or_404(id)
    form = StatusForm()
    if not form.validate_on_submit():
        _refused(form)
    target = _status_of(form.status.data)
    seen = _status_of(form.seen.data)
    if target not in replies.MOVES or seen is None:
        return _page(inquiry, status=422, problem=_("Hãy bấm một trong các nút trạng thái."))
    try:
        replies.change_status(inquiry, target, seen, current_user)
    except replies.InquiryConflict as conflict:
        db.session.rollback()
        return _page(_inquiry_or_404(id), status=conflict.status, problem=conflict.message)
    db.session.commit()
    flash(STATUS_DONE[target], "success")
    return redirect(url_for(".inquiry", id=id))
