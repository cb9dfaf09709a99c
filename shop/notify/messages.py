"""What the app tells people about a cooperative's life, in the reader's language.

Dashboard notices are stored as a kind plus parameters and rendered here when read, so a
member sees them in the language of the page. Emails go to people whose language is unknown,
so they are rendered in Vietnamese and English (`bilingual`).
"""

from datetime import UTC, datetime, timedelta, timezone

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shop.notify.services import bilingual

#: Vietnam keeps UTC+7 all year (no daylight saving), so a fixed offset is exact.
VIETNAM = timezone(timedelta(hours=7), "ICT")

STATUS_LABELS = {
    "pending": _l("Đang chờ xác minh"),
    "verified": _l("Đã xác minh"),
    "needs_info": _l("Cần bổ sung thông tin"),
    "suspended": _l("Tạm ngưng"),
    "inactive": _l("Ngừng hoạt động"),
}

ROLE_LABELS = {
    "owner": _l("Chủ tài khoản HTX"),
    "editor": _l("Biên tập viên"),
}

#: A product's status as its cooperative and staff read it (shop.catalog.models.ProductStatus).
PRODUCT_STATUS_LABELS = {
    "draft": _l("Bản nháp"),
    "submitted": _l("Đang chờ duyệt"),
    "published": _l("Đang bán"),
    "changes_requested": _l("Cần sửa"),
    "rejected": _l("Bị từ chối"),
    "archived": _l("Đã lưu trữ"),
}

AUDIT_ACTION_LABELS = {
    "cooperative.registered": _l("Đăng ký hợp tác xã"),
    "cooperative.created_by_staff": _l("Cán bộ Liên minh tạo hồ sơ"),
    "cooperative.profile_updated": _l("Sửa hồ sơ"),
    "cooperative.resubmitted": _l("Gửi lại để xác minh"),
    "cooperative.verified": _l("Xác minh"),
    "cooperative.needs_info": _l("Yêu cầu bổ sung thông tin"),
    "cooperative.suspended": _l("Tạm ngưng hợp tác xã"),
    "cooperative.reinstated": _l("Mở lại hợp tác xã"),
    "invitation.created": _l("Gửi lời mời"),
    "invitation.revoked": _l("Thu hồi lời mời"),
    "invitation.accepted": _l("Nhận lời mời"),
    "membership.removed": _l("Xóa thành viên nhóm"),
    "membership.ownership_transferred": _l("Chuyển quyền chủ tài khoản"),
    "product.created": _l("Tạo sản phẩm"),
    "product.edited": _l("Sửa sản phẩm"),
    "product.revised": _l("Gửi bản sửa của sản phẩm đang bán"),
    "product.submitted": _l("Gửi duyệt sản phẩm"),
    "product.archived": _l("Lưu trữ sản phẩm"),
    "product.restored": _l("Khôi phục sản phẩm"),
    "product.duplicated": _l("Tạo bằng cách nhân bản"),
    "product.photo_added": _l("Thêm ảnh"),
    "product.photo_removed": _l("Xóa ảnh"),
    "product.photos_reordered": _l("Đổi thứ tự ảnh"),
    "product.cover_chosen": _l("Chọn ảnh bìa"),
    "product.photo_described": _l("Sửa mô tả ảnh"),
    "product.approved": _l("Duyệt sản phẩm"),
    "product.changes_requested": _l("Yêu cầu sửa sản phẩm"),
    "product.rejected": _l("Từ chối sản phẩm"),
    "product.revision_approved": _l("Duyệt bản sửa"),
    "product.revision_changes_requested": _l("Yêu cầu sửa lại bản sửa"),
    "product.revision_rejected": _l("Từ chối bản sửa"),
    "product.ocop_reminder_sent": _l("Nhắc gia hạn chứng nhận OCOP"),
    "moderation.case_opened": _l("Mở hồ sơ báo cáo sản phẩm"),
    "moderation.case_dismissed": _l("Đóng báo cáo: không có vi phạm"),
    "moderation.changes_requested": _l("Yêu cầu sửa sản phẩm bị báo cáo"),
    "moderation.unpublished": _l("Gỡ sản phẩm bị báo cáo"),
    "programme.created": _l("Tạo chương trình"),
    "programme.updated": _l("Sửa chương trình"),
    "programme.status_changed": _l("Đổi trạng thái chương trình"),
    "programme.booth_deleted": _l("Xóa gian hàng"),
    "booth.created": _l("Thêm gian hàng"),
    "booth.updated": _l("Sửa gian hàng"),
    "booth.assigned": _l("Xếp hợp tác xã vào gian hàng"),
    "booth.unassigned": _l("Bỏ xếp hợp tác xã khỏi gian hàng"),
    "booth.featured_set": _l("Chọn sản phẩm trưng bày"),
    "booth.livestream_set": _l("Sửa đường dẫn phát trực tiếp"),
    "booth.slot_added": _l("Thêm khung giờ"),
    "booth.slot_removed": _l("Xóa khung giờ"),
    "application.submitted": _l("Gửi đơn đăng ký gian hàng"),
    "application.withdrawn": _l("Rút đơn đăng ký gian hàng"),
    "application.accepted": _l("Nhận đơn đăng ký gian hàng"),
    "application.waitlisted": _l("Đưa đơn đăng ký gian hàng vào danh sách chờ"),
    "application.declined": _l("Không nhận đơn đăng ký gian hàng"),
    "inquiry.sent": _l("Người mua gửi yêu cầu báo giá"),
    "inquiry.replied": _l("Hợp tác xã trả lời yêu cầu báo giá"),
    "inquiry.note_added": _l("Ghi chú nội bộ vào yêu cầu báo giá"),
    "inquiry.status_changed": _l("Đổi trạng thái yêu cầu báo giá"),
}


def _value(value) -> str:
    return getattr(value, "value", value) or ""


def status_label(status) -> str:
    label = STATUS_LABELS.get(_value(status))
    return str(label) if label is not None else _value(status)


def role_label(role) -> str:
    label = ROLE_LABELS.get(_value(role))
    return str(label) if label is not None else _value(role)


def product_status_label(status) -> str:
    label = PRODUCT_STATUS_LABELS.get(_value(status))
    return str(label) if label is not None else _value(status)


def audit_action_label(action: str) -> str:
    label = AUDIT_ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def format_when(value: datetime | None) -> str:
    """'26/11/2026 14:05', in Vietnam's time (stored times are UTC; SQLite drops the zone)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


# --------------------------------------------------------------------------- dashboard notices

_NOTICES = {
    "products_imported": lambda p: _(
        "Đã nhập %(count)s sản phẩm từ bảng tính.", count=p.get("count", "")
    ),
    "cooperative_verified": lambda p: _(
        "Liên minh HTX đã xác minh %(name)s. Sản phẩm được duyệt sẽ hiện trên các trang công khai.",
        name=p.get("name", ""),
    ),
    "cooperative_needs_info": lambda p: _(
        "Liên minh HTX cần bổ sung thông tin: %(reason)s",
        reason=p.get("reason", ""),
    ),
    "cooperative_suspended": lambda p: _(
        "Liên minh HTX đã tạm ngưng %(name)s: hợp tác xã và sản phẩm không hiện với người mua. "
        "Lý do: %(reason)s",
        name=p.get("name", ""),
        reason=p.get("reason", ""),
    ),
    "cooperative_reinstated": lambda p: _(
        "Liên minh HTX đã mở lại %(name)s: hợp tác xã và sản phẩm đang bán lại hiện với người mua.",
        name=p.get("name", ""),
    ),
    "invitation_accepted": lambda p: _(
        "%(who)s đã nhận lời mời và tham gia với vai trò %(role)s.",
        who=p.get("who", ""),
        role=role_label(p.get("role")),
    ),
    "ownership_transferred": lambda p: _(
        "%(old)s đã chuyển quyền chủ tài khoản HTX cho %(new)s.",
        old=p.get("old", ""),
        new=p.get("new", ""),
    ),
    "member_removed": lambda p: _(
        "%(who)s không còn trong nhóm quản lý (do %(by)s thực hiện).",
        who=p.get("who", ""),
        by=p.get("by", ""),
    ),
    "product_approved": lambda p: _(
        "Sản phẩm “%(product)s” đã được duyệt và đang hiện với người mua.",
        product=p.get("product", ""),
    ),
    "product_changes_requested": lambda p: _with_reasons(
        _("Sản phẩm “%(product)s” cần sửa trước khi được duyệt.", product=p.get("product", "")),
        p,
    ),
    "product_rejected": lambda p: _with_reasons(
        _("Sản phẩm “%(product)s” không được duyệt.", product=p.get("product", "")), p
    ),
    "revision_approved": lambda p: _(
        "Bản sửa của sản phẩm “%(product)s” đã được duyệt; người mua đang thấy thông tin mới.",
        product=p.get("product", ""),
    ),
    "revision_changes_requested": lambda p: _with_reasons(
        _(
            "Bản sửa của sản phẩm “%(product)s” cần sửa thêm; người mua vẫn thấy bản cũ.",
            product=p.get("product", ""),
        ),
        p,
    ),
    "revision_rejected": lambda p: _with_reasons(
        _(
            "Bản sửa của sản phẩm “%(product)s” không được duyệt; người mua vẫn thấy bản cũ.",
            product=p.get("product", ""),
        ),
        p,
    ),
    "report_changes_requested": lambda p: _with_reasons(
        _(
            "Liên minh HTX đã xem lại sản phẩm “%(product)s” và cần bạn sửa; sản phẩm tạm ẩn "
            "khỏi Chợ HTX cho đến khi được duyệt lại.",
            product=p.get("product", ""),
        ),
        p,
    ),
    "report_unpublished": lambda p: _with_reasons(
        _(
            "Liên minh HTX đã gỡ sản phẩm “%(product)s” khỏi Chợ HTX.",
            product=p.get("product", ""),
        ),
        p,
    ),
    "application_accepted": lambda p: _application_notice(
        _(
            "Liên minh HTX đã nhận hợp tác xã vào “%(programme)s”: gian hàng số %(number)s.",
            programme=_programme_title(p),
            number=p.get("booth_number", ""),
        ),
        p,
    ),
    "application_waitlisted": lambda p: _application_notice(
        _(
            "Đơn đăng ký gian hàng ở “%(programme)s” đang ở danh sách chờ: Liên minh HTX sẽ "
            "báo khi có gian hàng trống.",
            programme=_programme_title(p),
        ),
        p,
    ),
    "application_declined": lambda p: _application_notice(
        _(
            "Đơn đăng ký gian hàng ở “%(programme)s” không được nhận.",
            programme=_programme_title(p),
        ),
        p,
    ),
    # Inquiries (shop.inquiries.services): the buyer's name only, never their contacts.
    "inquiry_received": lambda p: _(
        "Yêu cầu báo giá mới #%(id)s từ %(buyer)s: %(count)s sản phẩm.",
        id=p.get("inquiry_id", ""),
        buyer=p.get("buyer", ""),
        count=p.get("count", ""),
    ),
    "inquiry_buyer_replied": lambda p: _(
        "%(buyer)s đã trả lời trong yêu cầu báo giá #%(id)s.",
        id=p.get("inquiry_id", ""),
        buyer=p.get("buyer", ""),
    ),
}


def review_reason_labels(codes) -> list[str]:
    """The labels of staff review reasons (shop.catalog.services.REVIEW_REASONS codes)."""
    # Imported here: the catalog builds on notify, not the other way round.
    from shop.catalog.services import REVIEW_REASONS

    return [str(REVIEW_REASONS[code]) for code in codes or () if code in REVIEW_REASONS]


def _with_reasons(text: str, params: dict) -> str:
    """A product notice followed by what staff pointed at and their note."""
    parts = [text]
    labels = review_reason_labels(params.get("reasons"))
    if labels:
        parts.append(_("Cần xem lại: %(reasons)s.", reasons=", ".join(labels)))
    if params.get("note"):
        parts.append(_("Ghi chú của Liên minh HTX: %(note)s", note=params["note"]))
    return " ".join(parts)


def _programme_title(params: dict) -> str:
    """A programme's title as stored in a notice, in English when the reader reads English."""
    if str(get_locale()) == "en" and params.get("programme_en"):
        return params["programme_en"]
    return params.get("programme", "")


def _application_notice(text: str, params: dict) -> str:
    """A booth application notice followed by products left out and the alliance's reason."""
    parts = [text]
    if params.get("dropped"):
        parts.append(
            _(
                "Không trưng bày vì không còn đang bán: %(names)s.",
                names=", ".join(params["dropped"]),
            )
        )
    if params.get("reason"):
        parts.append(_("Lý do: %(reason)s", reason=params["reason"]))
    return " ".join(parts)


#: The kinds of notice a cooperative's dashboard knows how to show.
NOTICE_KINDS = tuple(_NOTICES)


def render(notification) -> str:
    """The text of a dashboard notice in the current language."""
    renderer = _NOTICES.get(notification.kind)
    if renderer is None:
        return _("Thông báo mới từ Chợ HTX.")
    return renderer(notification.params or {})


def template_globals() -> dict:
    """The helpers the cooperative pages call from templates (and from imported macros)."""
    return {
        "cooperative_status_label": status_label,
        "membership_role_label": role_label,
        "audit_action_label": audit_action_label,
        "product_status_label": product_status_label,
        "review_reason_labels": review_reason_labels,
        "render_notice": render,
        "when": format_when,
    }


# --------------------------------------------------------------------------- emails


def bilingual_subject(render_subject) -> str:
    """'Tiêu đề / Subject': both languages fit on one subject line."""
    with force_locale("vi"):
        vi = render_subject()
    with force_locale("en"):
        en = render_subject()
    return vi if vi == en else f"{vi} / {en}"


def invitation_email(*, cooperative: str, role, link: str, inviter: str, expires_at) -> tuple:
    """(subject, body) of the email that carries an invitation link."""

    def subject():
        return _("Lời mời tham gia quản lý %(cooperative)s trên Chợ HTX", cooperative=cooperative)

    def body():
        return "\n\n".join(
            [
                _(
                    "%(inviter)s mời bạn tham gia quản lý trang của %(cooperative)s trên Chợ HTX "
                    "với vai trò %(role)s.",
                    inviter=inviter,
                    cooperative=cooperative,
                    role=role_label(role),
                ),
                _("Mở liên kết sau để nhận lời mời (dùng được một lần):"),
                link,
                _(
                    "Liên kết hết hạn lúc %(when)s. Hãy đăng nhập hoặc tạo tài khoản bằng đúng "
                    "địa chỉ email nhận thư này.",
                    when=format_when(expires_at),
                ),
                _("Nếu bạn không chờ thư này, hãy bỏ qua nó."),
            ]
        )

    return bilingual_subject(subject), bilingual(body)


def decision_email(*, kind: str, cooperative: str, reason: str | None, link: str) -> tuple:
    """(subject, body) of the email telling owners what the alliance decided.

    `kind` is a verification decision or a suspension or its lifting (the notice kinds).
    """

    def subject():
        if kind == "cooperative_verified":
            return _("%(cooperative)s đã được xác minh", cooperative=cooperative)
        if kind == "cooperative_suspended":
            return _("%(cooperative)s bị tạm ngưng trên Chợ HTX", cooperative=cooperative)
        if kind == "cooperative_reinstated":
            return _("%(cooperative)s đã được mở lại trên Chợ HTX", cooperative=cooperative)
        return _("%(cooperative)s cần bổ sung thông tin", cooperative=cooperative)

    def body():
        if kind == "cooperative_suspended":
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh đã tạm ngưng %(cooperative)s trên Chợ "
                    "HTX. Trong thời gian tạm ngưng, hợp tác xã và các sản phẩm không hiện với "
                    "người mua. Lý do:",
                    cooperative=cooperative,
                ),
                reason or "",
                _("Hãy liên hệ Liên minh Hợp tác xã tỉnh Bắc Ninh để biết cách mở lại."),
            ]
        elif kind == "cooperative_reinstated":
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh đã mở lại %(cooperative)s trên Chợ HTX. "
                    "Hợp tác xã và các sản phẩm đang bán lại hiện với người mua.",
                    cooperative=cooperative,
                )
            ]
        elif kind == "cooperative_verified":
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh đã xác minh %(cooperative)s. Từ nay hợp "
                    "tác xã hiện trong danh bạ, và sản phẩm được duyệt sẽ hiện với người mua.",
                    cooperative=cooperative,
                )
            ]
        else:
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh cần thêm thông tin để xác minh "
                    "%(cooperative)s:",
                    cooperative=cooperative,
                ),
                reason or "",
                _("Hãy sửa hồ sơ rồi bấm “Gửi lại để xác minh” trên trang quản lý HTX."),
            ]
        parts += [_("Trang quản lý HTX:"), link]
        return "\n\n".join(parts)

    return bilingual_subject(subject), bilingual(body)


#: Subjects and opening lines of the emails telling owners a product decision.
_PRODUCT_DECISIONS = {
    "product_approved": (
        lambda p: _("“%(product)s” đã được duyệt", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh đã duyệt sản phẩm “%(product)s” của "
            "%(cooperative)s. Sản phẩm đang hiện với người mua trên Chợ HTX.",
            product=p,
            cooperative=c,
        ),
    ),
    "product_changes_requested": (
        lambda p: _("“%(product)s” cần sửa trước khi được duyệt", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh đã xem sản phẩm “%(product)s” của "
            "%(cooperative)s và cần bạn sửa trước khi duyệt.",
            product=p,
            cooperative=c,
        ),
    ),
    "product_rejected": (
        lambda p: _("“%(product)s” không được duyệt", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh không duyệt sản phẩm “%(product)s” của "
            "%(cooperative)s.",
            product=p,
            cooperative=c,
        ),
    ),
    "revision_approved": (
        lambda p: _("Bản sửa của “%(product)s” đã được duyệt", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh đã duyệt bản sửa sản phẩm “%(product)s” của "
            "%(cooperative)s. Người mua đang thấy thông tin mới.",
            product=p,
            cooperative=c,
        ),
    ),
    "revision_changes_requested": (
        lambda p: _("Bản sửa của “%(product)s” cần sửa thêm", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh cần bạn sửa thêm bản sửa sản phẩm "
            "“%(product)s” của %(cooperative)s. Người mua vẫn thấy bản đang bán.",
            product=p,
            cooperative=c,
        ),
    ),
    "revision_rejected": (
        lambda p: _("Bản sửa của “%(product)s” không được duyệt", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh không duyệt bản sửa sản phẩm “%(product)s” "
            "của %(cooperative)s. Người mua vẫn thấy bản đang bán.",
            product=p,
            cooperative=c,
        ),
    ),
    "report_changes_requested": (
        lambda p: _("“%(product)s” cần sửa và đang tạm ẩn khỏi Chợ HTX", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh đã xem lại sản phẩm “%(product)s” của "
            "%(cooperative)s và cần bạn sửa. Trong lúc chờ, sản phẩm tạm ẩn khỏi Chợ HTX.",
            product=p,
            cooperative=c,
        ),
    ),
    "report_unpublished": (
        lambda p: _("“%(product)s” đã bị gỡ khỏi Chợ HTX", product=p),
        lambda p, c: _(
            "Liên minh Hợp tác xã tỉnh Bắc Ninh đã gỡ sản phẩm “%(product)s” của "
            "%(cooperative)s khỏi Chợ HTX.",
            product=p,
            cooperative=c,
        ),
    ),
}

#: The kinds of product decision an owner is emailed about.
PRODUCT_DECISION_KINDS = tuple(_PRODUCT_DECISIONS)


def product_decision_email(
    *, kind: str, product: str, cooperative: str, reasons=(), note: str | None, link: str
) -> tuple:
    """(subject, body) of the email telling owners what the alliance decided on a product."""
    subject_of, opening_of = _PRODUCT_DECISIONS[kind]

    def body():
        parts = [opening_of(product, cooperative)]
        labels = review_reason_labels(reasons)
        if labels:
            parts.append(_("Cần xem lại: %(reasons)s.", reasons=", ".join(labels)))
        if note:
            parts += [_("Ghi chú của Liên minh HTX:"), note]
        if kind in ("product_changes_requested", "report_changes_requested"):
            parts.append(_("Hãy sửa sản phẩm rồi bấm “Gửi duyệt” trên trang quản lý HTX."))
        elif kind == "report_unpublished":
            parts.append(
                _("Nếu bạn cho rằng có nhầm lẫn, hãy liên hệ Liên minh Hợp tác xã tỉnh Bắc Ninh.")
            )
        elif kind == "revision_changes_requested":
            parts.append(
                _("Hãy sửa lại sản phẩm trên trang quản lý HTX; bản sửa mới sẽ được xem lại.")
            )
        parts += [_("Xem sản phẩm trên trang quản lý HTX:"), link]
        return "\n\n".join(parts)

    return bilingual_subject(lambda: subject_of(product)), bilingual(body)


def ocop_reminder_email(*, product: str, cooperative: str, expires_on, link: str) -> tuple:
    """(subject, body) of the reminder that a product's OCOP certificate expires soon."""
    day = expires_on.strftime("%d/%m/%Y")

    def subject():
        return _("Chứng nhận OCOP của “%(product)s” hết hạn ngày %(day)s", product=product, day=day)

    def body():
        return "\n\n".join(
            [
                _(
                    "Chứng nhận OCOP của sản phẩm “%(product)s” (%(cooperative)s) hết hạn ngày "
                    "%(day)s. Sau ngày này, Chợ HTX không còn hiện số sao OCOP của sản phẩm.",
                    product=product,
                    cooperative=cooperative,
                    day=day,
                ),
                _(
                    "Nếu sản phẩm đã được đánh giá lại, hãy cập nhật số sao, năm và ngày hết hạn "
                    "mới trên trang quản lý HTX:"
                ),
                link,
            ]
        )

    return bilingual_subject(subject), bilingual(body)


def application_decision_email(
    *, kind: str, programme: str, cooperative: str, booth_number, dropped, reason, link: str
) -> tuple:
    """(subject, body) of the email telling owners the decision on a booth application."""

    def subject():
        if kind == "application_accepted":
            return _(
                "%(cooperative)s có gian hàng số %(number)s ở “%(programme)s”",
                cooperative=cooperative,
                number=booth_number,
                programme=programme,
            )
        if kind == "application_waitlisted":
            return _("Đơn đăng ký gian hàng ở “%(programme)s”: danh sách chờ", programme=programme)
        return _("Đơn đăng ký gian hàng ở “%(programme)s” không được nhận", programme=programme)

    def body():
        if kind == "application_accepted":
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh đã nhận %(cooperative)s vào chương trình "
                    "“%(programme)s”, tại gian hàng số %(number)s.",
                    cooperative=cooperative,
                    programme=programme,
                    number=booth_number,
                )
            ]
            if dropped:
                parts.append(
                    _(
                        "Các sản phẩm sau không còn đang bán nên không được trưng bày: %(names)s.",
                        names=", ".join(dropped),
                    )
                )
        elif kind == "application_waitlisted":
            parts = [
                _(
                    "Đơn đăng ký gian hàng của %(cooperative)s ở chương trình “%(programme)s” "
                    "đang ở danh sách chờ. Liên minh Hợp tác xã tỉnh Bắc Ninh sẽ báo khi có "
                    "gian hàng trống.",
                    cooperative=cooperative,
                    programme=programme,
                )
            ]
        else:
            parts = [
                _(
                    "Liên minh Hợp tác xã tỉnh Bắc Ninh không nhận đơn đăng ký gian hàng của "
                    "%(cooperative)s ở chương trình “%(programme)s”.",
                    cooperative=cooperative,
                    programme=programme,
                )
            ]
        if reason:
            parts += [_("Lý do:"), reason]
        parts += [_("Xem đơn đăng ký trên trang quản lý HTX:"), link]
        return "\n\n".join(parts)

    return bilingual_subject(subject), bilingual(body)
