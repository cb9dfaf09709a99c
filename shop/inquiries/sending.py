"""Sending the inquiry list once (/yeu-cau-bao-gia/gui), and the buyer's private link.

/yeu-cau-bao-gia/gui      the contact form; a valid send redirects to the confirmation
/yeu-cau-bao-gia/da-gui   the confirmation: each cooperative with its private link
/yeu-cau/<token>          one inquiry, its thread without internal notes, a reply form
/yeu-cau/<token>/tra-loi  the buyer's reply (POST)

A link that this site did not give, was edited, or names another inquiry than its key is a
404; an expired one is a 410 that says how to ask again. These pages are private: no
referrer leaves them, nothing caches them, and search engines are told not to index them.
"""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from shop.access import public_blueprint
from shop.cooperatives.forms import (
    ChoiceField,
    EmailAddressField,
    max_length,
    plain_text,
    required,
    valid_email,
)
from shop.cooperatives.models import Locality
from shop.extensions import db
from shop.forms import Form
from shop.inquiries import lists, services, spam
from shop.inquiries.models import BuyerType, ContactChannel, MessageAuthor
from shop.inquiries.tokens import TOKEN_MAX_AGE, InvalidToken
from shop.notify.messages import format_when
from shop.text.i18n import current_lang

bp = public_blueprint("inquiry_send", __name__)

#: The session key holding the group key of the list just sent (for the confirmation page).
SENT_KEY = "inquiry_sent"


@bp.after_request
def private_page(response):
    """A private link must not leak through Referer headers or shared caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- forms


class SendForm(Form):
    """The buyer's contact details and message; the list itself is read from the session/db."""

    name = StringField(
        _l("Họ và tên"),
        validators=[
            required(_l("Hãy nhập họ tên của bạn.")),
            max_length(services.NAME_MAX),
            plain_text(),
        ],
        render_kw={"autocomplete": "name", "maxlength": services.NAME_MAX},
    )
    phone = StringField(
        _l("Số điện thoại"),
        validators=[plain_text()],
        description=_l(
            "Cần khi bạn chọn gọi điện thoại hoặc Zalo. Ví dụ: 0912 345 678 hoặc +84 912 345 678."
        ),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    email = EmailAddressField(
        _l("Email"),
        validators=[valid_email],
        description=_l(
            "Cần khi bạn chọn email. Chúng tôi gửi tới địa chỉ này các liên kết để đọc câu trả lời."
        ),
        render_kw={"autocomplete": "email"},
    )
    organisation = StringField(
        _l("Cơ quan, cửa hàng hoặc doanh nghiệp"),
        validators=[max_length(services.ORGANISATION_MAX), plain_text()],
        render_kw={"autocomplete": "organization"},
    )
    buyer_type = ChoiceField(
        _l("Bạn mua hàng với tư cách"),
        choices=[(kind.value, label) for kind, label in services.BUYER_TYPE_LABELS.items()],
        coerce=BuyerType,
        missing=_l("Hãy chọn bạn mua hàng với tư cách nào."),
    )
    delivery_place = StringField(
        _l("Nơi nhận hàng"),
        validators=[max_length(services.DELIVERY_MAX), plain_text()],
        description=_l("Xã, phường và tỉnh, thành phố; ví dụ: Phường Kinh Bắc, Bắc Ninh."),
    )
    preferred_contact = ChoiceField(
        _l("Hợp tác xã liên hệ với bạn qua"),
        choices=[(kind.value, label) for kind, label in services.CONTACT_LABELS.items()],
        coerce=ContactChannel,
        missing=_l("Hãy chọn cách hợp tác xã liên hệ với bạn."),
    )
    #: The form's one-time key (spam.first_use): a double tap sends once.
    once = HiddenField()
    message = TextAreaField(
        _l("Lời nhắn cho hợp tác xã"),
        validators=[plain_text(multiline=True)],
        description=_l(
            "Thời gian cần hàng, quy cách đóng gói, câu hỏi… Tối đa %(max)d ký tự, "
            "%(links)d liên kết.",
            max=services.MESSAGE_MAX,
            links=spam.MAX_LINKS,
        ),
    )

    def _channel(self):
        data = self.preferred_contact.data
        return data if isinstance(data, ContactChannel) else None

    def validate_phone(self, field):
        channel = self._channel()
        if field.data:
            digits = services.normalize_buyer_phone(field.data)
            if digits is None:
                raise ValidationError(
                    _(
                        "Số điện thoại không đúng. Ví dụ: 0912 345 678, +84 912 345 678 "
                        "hoặc 0222 3812 345."
                    )
                )
            if channel == ContactChannel.ZALO and len(digits) != 10:
                raise ValidationError(_("Zalo cần số di động (10 chữ số), ví dụ 0912 345 678."))
            field.data = digits
        elif channel in (ContactChannel.PHONE, ContactChannel.ZALO):
            raise ValidationError(
                _("Bạn chọn liên hệ qua điện thoại hoặc Zalo: hãy nhập số điện thoại.")
            )
        elif not self.email.data:
            raise ValidationError(
                _("Hãy để lại số điện thoại hoặc email để hợp tác xã liên hệ được với bạn.")
            )

    def validate_email(self, field):
        if not field.data and self._channel() == ContactChannel.EMAIL:
            raise ValidationError(_("Bạn chọn liên hệ qua email: hãy nhập địa chỉ email."))

    def validate_message(self, field):
        error = services.message_error(field.data)
        if error:
            raise ValidationError(error)

    def contact(self) -> services.Contact:
        return services.Contact(
            name=self.name.data,
            phone=self.phone.data or None,
            email=self.email.data or None,
            organisation=self.organisation.data or None,
            buyer_type=self.buyer_type.data,
            delivery_place=self.delivery_place.data or None,
            preferred_contact=self.preferred_contact.data,
            message=self.message.data or "",
        )


class ReplyForm(Form):
    body = TextAreaField(
        _l("Câu trả lời của bạn"),
        validators=[required(_l("Hãy viết câu trả lời.")), plain_text(multiline=True)],
        description=_l("Tối đa %(max)d ký tự.", max=services.MESSAGE_MAX),
    )

    def validate_body(self, field):
        error = services.message_error(field.data)
        if error:
            raise ValidationError(error)


# --------------------------------------------------------------------------- sending


def _owner():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _places() -> list[str]:
    """Suggestions for the delivery place: the province's communes and wards (any text goes)."""
    localities = db.session.scalars(select(Locality).order_by(Locality.name_vi))
    return [f"{each.t('name')}, {each.t('province')}" for each in localities]


def _form_page(form, groups, status: int = 200, error=None):
    return (
        render_template(
            "inquiries/send/form.html",
            form=form,
            groups=groups,
            error=error,
            places=_places() if groups else [],
            honeypot=spam.HONEYPOT_FIELD,
        ),
        status,
    )


def _too_many(throttled: spam.Throttled, back_url: str, reply: bool = False):
    page = render_template(
        "inquiries/send/too_many.html", message=throttled.message, back_url=back_url, reply=reply
    )
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(throttled.retry_after)
    return response


@bp.route("/yeu-cau-bao-gia/gui", methods=["GET", "POST"])
def send():
    owner = _owner()
    groups = lists.sendable_groups(owner)
    form = SendForm()
    if request.method == "GET":
        form.once.data = spam.new_form_key()
        if owner is not None:
            form.name.data = form.name.data or owner.name or None
            form.email.data = form.email.data or owner.email
        return _form_page(form, groups)
    if spam.already_sent(form.once.data):
        return redirect(url_for("inquiry_send.sent"))  # a second tap: show the first's result
    try:
        services.check_groups(groups)
    except services.SendError as refused:
        form.validate_on_submit()  # the fields' own errors show too
        return _form_page(form, groups, refused.status, error=refused.message)
    if not form.validate_on_submit():
        return _form_page(form, groups, 422)
    if not spam.first_use(form.once.data):
        return redirect(url_for("inquiry_send.sent"))  # both taps at once: the first sends
    try:
        spam.allow_send(form.email.data)
    except spam.Throttled as throttled:
        spam.release(form.once.data)
        return _too_many(throttled, url_for("inquiry_list.page"))
    inquiries = services.send(
        groups,
        form.contact(),
        user=owner,
        lang=current_lang(),
        is_spam=spam.honeypot_filled(request.form),
    )
    key = inquiries[0].group_key
    db.session.commit()
    session[SENT_KEY] = key
    return redirect(url_for("inquiry_send.sent"))


@bp.get("/yeu-cau-bao-gia/da-gui")
def sent():
    key = session.get(SENT_KEY)
    inquiries = services.group_of(key) if isinstance(key, str) and len(key) == 32 else []
    if not inquiries:
        return redirect(url_for("inquiry_list.page"))
    links = [(each, services.buyer_link(each)) for each in inquiries]
    return render_template(
        "inquiries/send/sent.html",
        links=links,
        email=inquiries[0].buyer_email,
        units=services.units_of(*inquiries),
        days=TOKEN_MAX_AGE // 86400,
    )


# --------------------------------------------------------------------------- the private link


class _Expired(Exception):
    pass


def _inquiry(token: str):
    """The inquiry of a private link; 404 for a bad link, _Expired for an old one."""
    try:
        return services.inquiry_for_token(token)
    except InvalidToken as refused:
        if refused.expired:
            raise _Expired() from None
        abort(404)


def _expired_page():
    return render_template("inquiries/thread/expired.html", days=TOKEN_MAX_AGE // 86400), 410


def _thread_page(inquiry, token: str, form, status: int = 200):
    return (
        render_template(
            "inquiries/thread/thread.html",
            inquiry=inquiry,
            token=token,
            form=form,
            thread=services.buyer_thread(inquiry),
            units=services.units_of(inquiry),
            status_label=services.buyer_status_label(inquiry.status),
            authors=MessageAuthor,
            when=format_when,
        ),
        status,
    )


@bp.get("/yeu-cau/<token>")
def thread(token):
    try:
        inquiry = _inquiry(token)
    except _Expired:
        return _expired_page()
    return _thread_page(inquiry, token, ReplyForm())


@bp.post("/yeu-cau/<token>/tra-loi")
def reply(token):
    try:
        inquiry = _inquiry(token)
    except _Expired:
        return _expired_page()
    form = ReplyForm()
    if not form.validate_on_submit():
        return _thread_page(inquiry, token, form, 422)
    try:
        spam.allow_reply()
    except spam.Throttled as throttled:
        return _too_many(throttled, url_for("inquiry_send.thread", token=token), reply=True)
    cooperative = inquiry.cooperative.t("name")
    services.add_buyer_reply(inquiry, form.body.data, _owner())
    db.session.commit()
    flash(_("Đã gửi câu trả lời của bạn tới %(cooperative)s.", cooperative=cooperative), "success")
    return redirect(url_for("inquiry_send.thread", token=token))
