"""Writes to accounts: sign-up, passwords, reset links, roles. They flush; the caller commits.

A function acting on someone else's account takes the acting user (None = the command line);
one a person does for themselves (sign up, reset) acts as that person. Each records what it did
in the audit log. Signing browsers in (shop.accounts.sessions) is the views' job.
"""

import hashlib
import re
import time

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from shop.accounts import passwords, sessions
from shop.accounts.models import Role, User
from shop.audit.services import record
from shop.extensions import db
from shop.notify.services import bilingual, queue_email, site_url
from shop.text.folding import clean, nfc

RESET_SALT = "password-reset"
EMAIL_MAX_LENGTH = 254  # the user.email column, and the longest address SMTP carries
#: Loose on purpose (accented and international addresses pass); only the shape is checked.
EMAIL_RE = re.compile(
    r"^[^@\s<>()\[\]\\,;:\"]{1,64}@[^@\s<>()\[\]\\,;:\"._][^@\s<>()\[\]\\,;:\"]*$"
)


class AccountError(Exception):
    """A write refused for a reason the person can fix; `field` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def normalize_email(email: str) -> str:
    """One address, one account: NFC, stripped, lower-case."""
    return nfc(email).strip().lower()


def email_problem(email: str):
    """Why `email` cannot be an account's address, or None."""
    if len(email) > EMAIL_MAX_LENGTH:
        return _l("Email dài quá %(num)d ký tự.", num=EMAIL_MAX_LENGTH)
    labels = email.rpartition("@")[2].split(".")
    if not EMAIL_RE.match(email) or len(labels) < 2 or not all(labels):
        return _l("Email chưa đúng dạng, ví dụ: ten@gmail.com.")
    return None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _new_user(email: str, password: str, role: Role, name: str, cooperative) -> User:
    from shop.cooperatives.models import Membership, MembershipRole

    password = passwords.normalize(password)
    problem = email_problem(email)
    if problem:
        raise AccountError(problem, "email")
    if (role == Role.MEMBER) != (cooperative is not None):
        raise AccountError(_("Thành viên hợp tác xã phải gắn với đúng một hợp tác xã."))
    if find_by_email(email) is not None:
        raise AccountError(
            _("Email này đã có tài khoản. Bạn có thể đăng nhập hoặc lấy lại mật khẩu."), "email"
        )
    problem = passwords.problem(password, email)
    if problem:
        raise AccountError(problem, "password")
    user = User(
        email=email,
        name=clean(name) or "",
        role=role,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    if cooperative is not None:
        db.session.add(
            Membership(user_id=user.id, cooperative_id=cooperative.id, role=MembershipRole.OWNER)
        )
        db.session.flush()
    return user


def signup(name: str, email: str, password: str) -> User:
    """A visitor opens a buyer account for themselves. Raises AccountError."""
    user = _new_user(normalize_email(email), password, Role.BUYER, name, None)
    record(user, "user.signup", user, after={"email": user.email, "role": user.role.value})
    return user


def create_user(
    actor: User | None,
    *,
    email: str,
    password: str,
    role: Role = Role.BUYER,
    name: str = "",
    cooperative=None,
) -> User:
    """An account made for someone (None = the command line); a member owns `cooperative`."""
    user = _new_user(normalize_email(email), password, role, name, cooperative)
    after = {"email": user.email, "role": role.value}
    if cooperative is not None:
        after["cooperative"] = cooperative.slug
    record(actor, "user.create", user, after=after)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account whose password this is (disabled ones too), or None; upgrades old hashes."""
    user = find_by_email(email)
    if user is None:
        passwords.dummy_verify(password)
        return None
    if not passwords.verify_password(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.flush()
    return user


def _both(render) -> str:
    """A subject line in Vietnamese / English (the recipient's language is unknown)."""
    with force_locale("vi"):
        vi = render()
    with force_locale("en"):
        en = render()
    return vi if vi == en else f"{vi} / {en}"


def _set_password(user: User, password: str) -> None:
    user.password_hash = passwords.hash_password(passwords.normalize(password))
    user.session_version += 1
    sessions.revoke_all(user)
    db.session.flush()


def _notify_password_changed(user: User) -> None:
    """Tell the owner, so a change they did not make does not go unnoticed."""

    def render():
        return "\n\n".join(
            [
                _("Xin chào %(name)s,", name=user.name or user.email),
                _("Mật khẩu tài khoản Chợ HTX của bạn vừa được đổi."),
                _(
                    "Nếu không phải bạn đổi, hãy vào trang đăng nhập, chọn “Quên mật khẩu?” "
                    "để đặt lại ngay, và báo cho Liên minh HTX tỉnh."
                ),
            ]
        )

    subject = _both(lambda: _("Mật khẩu Chợ HTX của bạn đã được đổi"))
    queue_email(user.email, subject, bilingual(render), "password_changed")


def change_password(actor: User, user: User, new_password: str) -> None:
    """Set a new password and sign every browser out (the caller signs this one in again)."""
    _set_password(user, new_password)
    record(actor, "user.password_change", user)
    _notify_password_changed(user)


# --------------------------------------------------------------------------- reset links


class _IssuedAt(TimestampSigner):
    issued_at: int | None = None

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else int(time.time())


def _serializer(issued_at: int | None = None) -> URLSafeTimedSerializer:
    signer = type("Signer", (_IssuedAt,), {"issued_at": issued_at})
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT, signer=signer)


def _fingerprint(user: User) -> str:
    """Changes with the password, so a link dies once used (or once the password changes)."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def make_reset_token(user: User, *, issued_at: int | None = None) -> str:
    """A signed token naming the user and their current password; `issued_at` for tests."""
    return _serializer(issued_at).dumps({"user": user.id, "pw": _fingerprint(user)})


class ResetLinkExpired(Exception):
    pass


class ResetLinkInvalid(Exception):
    pass


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for; raises ResetLinkExpired or ResetLinkInvalid."""
    try:
        payload = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise ResetLinkExpired from exc
    except BadSignature as exc:
        raise ResetLinkInvalid from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        raise ResetLinkInvalid
    user = db.session.get(User, payload["user"])
    if user is None or not user.is_active_account or payload.get("pw") != _fingerprint(user):
        raise ResetLinkInvalid
    return user


def send_reset_link(user: User) -> None:
    """Email `user` a link to choose a new password (valid for PASSWORD_RESET_MAX_AGE)."""
    link = site_url("auth.reset_password", token=make_reset_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60

    def render():
        return "\n\n".join(
            [
                _("Xin chào %(name)s,", name=user.name or user.email),
                _(
                    "Có người (có thể là bạn) vừa yêu cầu đặt lại mật khẩu "
                    "cho tài khoản Chợ HTX của địa chỉ email này."
                ),
                _(
                    "Mở liên kết sau để chọn mật khẩu mới. Liên kết chỉ dùng được một lần, "
                    "trong vòng %(minutes)d phút:",
                    minutes=minutes,
                ),
                link,
                _("Nếu không phải bạn yêu cầu, hãy bỏ qua thư này: mật khẩu vẫn giữ nguyên."),
            ]
        )

    subject = _both(lambda: _("Đặt lại mật khẩu Chợ HTX"))
    queue_email(user.email, subject, bilingual(render), "password_reset")


def request_password_reset(email: str) -> None:
    """Send a reset link if `email` has an active account; say nothing either way."""
    user = find_by_email(email)
    if user is not None and user.is_active_account:
        send_reset_link(user)


def reset_password(user: User, new_password: str) -> None:
    """Set the password chosen through a reset link; every browser is signed out."""
    _set_password(user, new_password)
    record(user, "user.password_reset", user)
    _notify_password_changed(user)


# --------------------------------------------------------------------------- staff actions


def set_active(actor: User | None, user: User, active: bool) -> None:
    """Disable an account (all its browsers signed out at once) or enable it again."""
    before = {"active": user.is_active_account}
    user.is_active_account = active
    if not active:
        sessions.revoke_all(user)
    db.session.flush()
    record(
        actor,
        "user.enable" if active else "user.disable",
        user,
        before=before,
        after={"active": active},
    )
