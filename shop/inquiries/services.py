"""Sending a buyer's inquiry list once, and the buyer's answers through the private link.

`send` turns the list (shop.inquiries.lists, grouped by cooperative) into one Inquiry per
cooperative, sharing a random group key, with each product's name and unit snapshotted; it
empties the list, emails the buyer their private links (in the language of the page they
wrote on) and tells each cooperative's owners, by email and on the dashboard, with no buyer
contact detail but the name: the rest is read signed in. Inquiries caught as spam notify
nobody. `add_buyer_reply` appends the buyer's answer to one inquiry's thread.

Writes flush; the view commits once, so a refused send leaves nothing behind.
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop.audit.services import record
from shop.catalog.models import Unit
from shop.cooperatives.queries import owner_emails
from shop.cooperatives.rules import normalize_phone
from shop.extensions import db
from shop.inquiries import lists, spam
from shop.inquiries.models import (
    BuyerType,
    ContactChannel,
    Inquiry,
    InquiryItem,
    InquiryMessage,
    InquiryStatus,
    MessageAuthor,
)
from shop.inquiries.tokens import TOKEN_MAX_AGE, InvalidToken, make_token, read_token
from shop.notify import messages
from shop.notify.services import bilingual, notify_cooperative, queue_email, site_url
from shop.text.formatting import format_quantity

#: Where a cooperative's owners read an inquiry signed in: the inbox of their dashboard.
INBOX_ENDPOINT = "inquiry_inbox.inquiry"

BUYER_TYPE_LABELS = {
    BuyerType.HOUSEHOLD: _l("Hộ gia đình"),
    BuyerType.SHOP: _l("Cửa hàng"),
    BuyerType.SUPERMARKET: _l("Siêu thị"),
    BuyerType.RESTAURANT: _l("Nhà hàng, quán ăn"),
    BuyerType.WHOLESALER: _l("Đại lý, bán buôn"),
    BuyerType.EXPORTER: _l("Doanh nghiệp xuất khẩu"),
    BuyerType.OTHER: _l("Khác"),
}

CONTACT_LABELS = {
    ContactChannel.PHONE: _l("Gọi điện thoại"),
    ContactChannel.ZALO: _l("Nhắn Zalo"),
    ContactChannel.EMAIL: _l("Email"),
}

#: An inquiry's status as the buyer reads it (spam is never shown: its link is a 404).
BUYER_STATUS_LABELS = {
    InquiryStatus.NEW: _l("Đã gửi, đang chờ hợp tác xã trả lời"),
    InquiryStatus.REPLIED: _l("Hợp tác xã đã trả lời"),
    InquiryStatus.WON: _l("Đã thỏa thuận mua bán"),
    InquiryStatus.LOST: _l("Đã kết thúc, không thành giao dịch"),
}

NAME_MAX = spam.NAME_MAX
ORGANISATION_MAX = 200
DELIVERY_MAX = 200
MESSAGE_MAX = spam.MESSAGE_MAX

_MOBILE = re.compile(r"^0[35789]\d{8}$")
_LANDLINE = re.compile(r"^02\d{9}$")


class SendError(Exception):
    """A send the rules refuse: `message` for the buyer, `status` for the answer."""

    def __init__(self, message, status: int = 422):
        super().__init__(str(message))
        self.message = message
        self.status = status


# --------------------------------------------------------------------------- rules


def normalize_buyer_phone(value: str | None) -> str | None:
    """A Vietnamese phone number as ten (mobile) or eleven (landline, 02…) digits, else None.

    Spaces, dots, dashes and brackets are allowed; +84 and 84 read as the leading 0:
    "+84 912.345.678" → "0912345678".
    """
    if not value:
        return None
    digits = normalize_phone(value)
    if digits is None or not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        return None
    return digits


def format_buyer_phone(digits: str | None) -> str:
    """'0912 345 678', '0222 3812 345': a stored number as people read it."""
    if not digits:
        return ""
    if len(digits) == 10:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:4]} {digits[4:8]} {digits[8:]}"


def message_error(text: str | None, limit: int = MESSAGE_MAX) -> str | None:
    """Why a message may not be sent (too long, too many links), or None."""
    text = text or ""
    if len(text) > limit:
        return _(
            "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(count)d).", max=limit, count=len(text)
        )
    if spam.count_links(text) > spam.MAX_LINKS:
        return _("Lời nhắn có nhiều liên kết quá: tối đa %(max)d liên kết.", max=spam.MAX_LINKS)
    return None


def check_groups(groups) -> None:
    """Refuse an empty list, more than MAX_ITEMS products, or a quantity out of bounds."""
    lines = [line for group in groups for line in group.lines]
    if not lines:
        raise SendError(_("Danh sách yêu cầu báo giá đang trống. Hãy thêm sản phẩm trước khi gửi."))
    if len(lines) > spam.MAX_ITEMS:
        raise SendError(
            _(
                "Một yêu cầu báo giá có tối đa %(max)d sản phẩm; danh sách của bạn có "
                "%(count)d. Hãy bớt sản phẩm rồi gửi lại.",
                max=spam.MAX_ITEMS,
                count=len(lines),
            )
        )
    for line in lines:
        try:
            lists.check_quantity(Decimal(line.quantity))
        except (lists.InquiryListError, ArithmeticError, TypeError, ValueError) as error:
            reason = getattr(error, "message", _("Số lượng không hợp lệ."))
            raise SendError(
                _(
                    "Số lượng của “%(product)s” không hợp lệ: %(reason)s Hãy sửa trong danh "
                    "sách yêu cầu báo giá.",
                    product=line.product.t("name"),
                    reason=reason,
                )
            ) from None


# --------------------------------------------------------------------------- sending


@dataclass
class Contact:
    """What the buyer typed in the send form, already validated and normalised."""

    name: str
    phone: str | None
    email: str | None
    organisation: str | None
    buyer_type: BuyerType
    delivery_place: str | None
    preferred_contact: ContactChannel
    message: str


def new_group_key() -> str:
    """32 random hex characters shared by the inquiries sent together."""
    return secrets.token_hex(16)


def _booth_of(group) -> int | None:
    """The booth the buyer met this cooperative at (the first line added from one)."""
    for line in group.lines:
        booth = line.booth
        if booth is not None and booth.cooperative_id == group.cooperative.id:
            return booth.id
    return None


def send(groups, contact: Contact, *, user, lang: str, is_spam: bool = False) -> list[Inquiry]:
    """One inquiry per cooperative of `groups` (lists.sendable_groups); empty the list.

    `user` is the signed-in buyer or None; `lang` the language of the page ("vi"/"en").
    With `is_spam` (the honeypot was filled) everything is stored as spam and nobody is told.
    """
    check_groups(groups)
    lang = lang if lang in ("vi", "en") else "vi"
    key = new_group_key()
    status = InquiryStatus.SPAM if is_spam else InquiryStatus.NEW
    inquiries = []
    for group in groups:
        inquiry = Inquiry(
            cooperative_id=group.cooperative.id,
            group_key=key,
            status=status,
            buyer_user_id=getattr(user, "id", None),
            buyer_name=contact.name,
            buyer_phone=contact.phone,
            buyer_email=contact.email,
            buyer_organisation=contact.organisation,
            buyer_type=contact.buyer_type,
            delivery_place=contact.delivery_place,
            preferred_contact=contact.preferred_contact,
            message=contact.message or "",
            booth_id=_booth_of(group),
            buyer_lang=lang,
        )
        inquiry.items = [
            InquiryItem(
                product_id=line.product.id,
                product_name=line.product.t("name", lang)[:255],
                unit_code=line.product.unit_code,
                quantity=line.quantity,
            )
            for line in group.lines
        ]
        db.session.add(inquiry)
        inquiries.append(inquiry)
    db.session.flush()
    for inquiry in inquiries:
        record(
            user,
            "inquiry.sent",
            inquiry,
            after={
                "cooperative_id": inquiry.cooperative_id,
                "items": len(inquiry.items),
                "status": inquiry.status.value,
            },
        )
    lists.clear(user)
    if not is_spam:
        _tell_cooperatives(inquiries, groups)
        if contact.email:
            _email_buyer(inquiries, groups, contact, lang)
    return inquiries


def _tell_cooperatives(inquiries, groups) -> None:
    """A dashboard notice and an email to the owners of each cooperative (no buyer contacts)."""
    addresses = owner_emails([inquiry.cooperative_id for inquiry in inquiries])
    for inquiry, group in zip(inquiries, groups, strict=True):
        cooperative = group.cooperative
        notify_cooperative(
            cooperative,
            "inquiry_received",
            inquiry_id=inquiry.id,
            buyer=inquiry.buyer_name,
            count=len(inquiry.items),
        )
        items = [(line.product, line.quantity) for line in group.lines]
        subject, body = _received_email(inquiry, cooperative.name, items)
        for address in addresses.get(cooperative.id) or _fallback(cooperative):
            queue_email(address, subject, body, "inquiry_received")


def _fallback(cooperative) -> list[str]:
    return [cooperative.email] if cooperative.email else []


def _inbox_link(inquiry) -> str:
    return site_url(INBOX_ENDPOINT, id=inquiry.id)


def _item_lines(items, lang: str) -> list[str]:
    """'– Cải ngồng: 20 kg' for each (product, quantity) in the reader's language."""
    return [
        f"– {product.t('name', lang)}: {format_quantity(quantity, lang)} "
        f"{product.unit.t('name', lang)}"
        for product, quantity in items
    ]


def _received_email(inquiry: Inquiry, cooperative: str, items) -> tuple[str, str]:
    """(subject, body) telling owners an inquiry came: the buyer's name, never their contacts."""

    def subject():
        return _("Yêu cầu báo giá mới từ %(buyer)s", buyer=inquiry.buyer_name)

    def body():
        lang = str(get_locale())
        return "\n\n".join(
            [
                _(
                    "%(buyer)s đã gửi yêu cầu báo giá cho %(cooperative)s trên Chợ HTX "
                    "(mã yêu cầu #%(id)d):",
                    buyer=inquiry.buyer_name,
                    cooperative=cooperative,
                    id=inquiry.id,
                ),
                "\n".join(_item_lines(items, lang)),
                _(
                    "Thông tin liên hệ và lời nhắn của người mua chỉ xem được khi đăng nhập. "
                    "Hãy đăng nhập trang quản lý HTX để đọc và trả lời:"
                ),
                _inbox_link(inquiry),
            ]
        )

    return messages.bilingual_subject(subject), bilingual(body)


def buyer_link(inquiry: Inquiry) -> str:
    """The buyer's private link to one inquiry, absolute, for emails."""
    return site_url("inquiry_send.thread", token=make_token(inquiry))


def _email_buyer(inquiries, groups, contact: Contact, lang: str) -> None:
    """One email to the buyer, in their language, with the private link of each inquiry."""
    with force_locale(lang):
        subject = _(
            "Yêu cầu báo giá của bạn đã được gửi tới %(count)d hợp tác xã",
            count=len(inquiries),
        )
        parts = [
            _("Chào %(name)s,", name=contact.name),
            _(
                "Chợ HTX đã gửi yêu cầu báo giá của bạn. Mỗi hợp tác xã nhận phần của mình và "
                "trả lời riêng. Mở liên kết của từng hợp tác xã để đọc câu trả lời và trả lời lại:"
            ),
        ]
        for inquiry, group in zip(inquiries, groups, strict=True):
            items = [(line.product, line.quantity) for line in group.lines]
            parts.append(
                "\n".join(
                    [
                        group.cooperative.t("name", lang),
                        *_item_lines(items, lang),
                        buyer_link(inquiry),
                    ]
                )
            )
        parts += [
            _(
                "Các liên kết này là của riêng bạn: ai có liên kết đều đọc và trả lời được, vì "
                "vậy đừng chuyển thư này cho người khác. Liên kết dùng được %(days)d ngày.",
                days=TOKEN_MAX_AGE // 86400,
            ),
            _("Nếu bạn không gửi yêu cầu này, hãy bỏ qua thư."),
        ]
        body = "\n\n".join(parts)
    queue_email(contact.email, subject, body, "inquiry_sent")


# --------------------------------------------------------------------------- the private link


def inquiry_for_token(token: str, max_age: int = TOKEN_MAX_AGE) -> Inquiry:
    """The one inquiry a private link opens, with its cooperative and items.

    Raises InvalidToken (expired or not) for a link this site did not give, an edited one,
    one whose group key does not match the inquiry it names, or the link of a spam inquiry.
    """
    inquiry_id, key = read_token(token, max_age)
    if not 0 < inquiry_id < 2**31:
        raise InvalidToken()
    inquiry = db.session.scalar(
        select(Inquiry)
        .where(Inquiry.id == inquiry_id)
        .options(joinedload(Inquiry.cooperative), selectinload(Inquiry.items))
    )
    if inquiry is None or not hmac.compare_digest(inquiry.group_key.encode(), key.encode()):
        raise InvalidToken()
    if inquiry.status == InquiryStatus.SPAM:
        raise InvalidToken()
    return inquiry


def buyer_thread(inquiry: Inquiry) -> list[InquiryMessage]:
    """The messages the buyer may read: everything but internal notes, oldest first."""
    return list(
        db.session.scalars(
            select(InquiryMessage)
            .where(InquiryMessage.inquiry_id == inquiry.id, InquiryMessage.internal.is_(False))
            .order_by(InquiryMessage.created_at, InquiryMessage.id)
        )
    )


def units_of(*inquiries: Inquiry) -> dict[str, Unit]:
    """{unit code: Unit} of the inquiries' items, in one statement."""
    codes = {item.unit_code for each in inquiries for item in each.items if item.unit_code}
    if not codes:
        return {}
    return {
        unit.code: unit for unit in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))
    }


def group_of(key: str) -> list[Inquiry]:
    """The inquiries sent together under `key`, with their cooperatives, in sending order."""
    return list(
        db.session.scalars(
            select(Inquiry)
            .where(Inquiry.group_key == key)
            .options(joinedload(Inquiry.cooperative), selectinload(Inquiry.items))
            .order_by(Inquiry.id)
        )
    )


def add_buyer_reply(inquiry: Inquiry, body: str, user=None) -> InquiryMessage:
    """The buyer's answer in the thread; the cooperative's owners are emailed and notified."""
    error = message_error(body)
    if not body or error:
        raise SendError(error or _("Hãy viết câu trả lời."))
    signed_in_buyer = user is not None and inquiry.buyer_user_id == getattr(user, "id", None)
    reply = InquiryMessage(
        inquiry_id=inquiry.id,
        author=MessageAuthor.BUYER,
        author_user_id=user.id if signed_in_buyer else None,
        body=body,
        internal=False,
    )
    db.session.add(reply)
    db.session.flush()
    cooperative = inquiry.cooperative
    notify_cooperative(
        cooperative, "inquiry_buyer_replied", inquiry_id=inquiry.id, buyer=inquiry.buyer_name
    )
    subject, text = _buyer_replied_email(inquiry, cooperative.name)
    for address in owner_emails([cooperative.id]).get(cooperative.id) or _fallback(cooperative):
        queue_email(address, subject, text, "inquiry_buyer_replied")
    return reply


def _buyer_replied_email(inquiry: Inquiry, cooperative: str) -> tuple[str, str]:
    def subject():
        return _(
            "%(buyer)s đã trả lời yêu cầu báo giá #%(id)d", buyer=inquiry.buyer_name, id=inquiry.id
        )

    def body():
        return "\n\n".join(
            [
                _(
                    "%(buyer)s đã trả lời trong yêu cầu báo giá #%(id)d gửi %(cooperative)s.",
                    buyer=inquiry.buyer_name,
                    id=inquiry.id,
                    cooperative=cooperative,
                ),
                _("Hãy đăng nhập trang quản lý HTX để đọc và trả lời:"),
                _inbox_link(inquiry),
            ]
        )

    return messages.bilingual_subject(subject), bilingual(body)


def buyer_status_label(status) -> str:
    label = BUYER_STATUS_LABELS.get(InquiryStatus(getattr(status, "value", status)))
    return str(label) if label is not None else ""
