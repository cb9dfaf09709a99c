"""What the app tells people about a cooperative's life, in the reader's language.

Dashboard notices are stored as a kind plus parameters and rendered here when read, so a
member sees them in the language of the page. Emails go to people whose language is unknown,
so they are rendered in Vietnamese and English (`bilingual`).
"""

from datetime import UTC, datetime, timedelta, timezone

from flask_babel import force_locale
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

AUDIT_ACTION_LABELS = {
    "cooperative.registered": _l("Đăng ký hợp tác xã"),
    "cooperative.created_by_staff": _l("Cán bộ Liên minh tạo hồ sơ"),
    "cooperative.profile_updated": _l("Sửa hồ sơ"),
    "cooperative.resubmitted": _l("Gửi lại để xác minh"),
    "cooperative.verified": _l("Xác minh"),
    "cooperative.needs_info": _l("Yêu cầu bổ sung thông tin"),
    "invitation.created": _l("Gửi lời mời"),
    "invitation.revoked": _l("Thu hồi lời mời"),
    "invitation.accepted": _l("Nhận lời mời"),
    "membership.removed": _l("Xóa thành viên nhóm"),
    "membership.ownership_transferred": _l("Chuyển quyền chủ tài khoản"),
}


def _value(value) -> str:
    return getattr(value, "value", value) or ""


def status_label(status) -> str:
    label = STATUS_LABELS.get(_value(status))
    return str(label) if label is not None else _value(status)


def role_label(role) -> str:
    label = ROLE_LABELS.get(_value(role))
    return str(label) if label is not None else _value(role)


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
    "cooperative_verified": lambda p: _(
        "Liên minh HTX đã xác minh %(name)s. Sản phẩm được duyệt sẽ hiện trên các trang công khai.",
        name=p.get("name", ""),
    ),
    "cooperative_needs_info": lambda p: _(
        "Liên minh HTX cần bổ sung thông tin: %(reason)s",
        reason=p.get("reason", ""),
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
}

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
    """(subject, body) of the email telling owners what the alliance decided."""

    def subject():
        if kind == "cooperative_verified":
            return _("%(cooperative)s đã được xác minh", cooperative=cooperative)
        return _("%(cooperative)s cần bổ sung thông tin", cooperative=cooperative)

    def body():
        if kind == "cooperative_verified":
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
