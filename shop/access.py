"""One access guard per audience, declared once per blueprint.

Every blueprint is made by one of these factories; a test walks ``app.url_map`` and fails on a
route whose blueprint has no audience. Anonymous visitors of a protected page are sent to the
login page (and back afterwards); signed-in users without the right are refused with 403.
"""

from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import current_user

PUBLIC = "public"  # anyone
ACCOUNT = "account"  # any signed-in user
MEMBER = "member"  # owner or editor of a cooperative: the cooperative dashboard
STAFF = "staff"  # alliance staff and admins: the console
ADMIN = "admin"  # alliance admins only
AUDIENCES = (PUBLIC, ACCOUNT, MEMBER, STAFF, ADMIN)


def is_local_url(target: str | None) -> bool:
    """Only paths on this site are followed after login (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _login_redirect():
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _blueprint(audience: str, name: str, import_name: str, allowed=None, **kwargs) -> Blueprint:
    bp = Blueprint(name, import_name, **kwargs)
    bp.audience = audience

    if allowed is not None:

        @bp.before_request
        def guard():
            if not current_user.is_authenticated:
                return _login_redirect()
            if not allowed(current_user):
                abort(403)
            return None

    return bp


def public_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """Routes anyone may use."""
    return _blueprint(PUBLIC, name, import_name, **kwargs)


def account_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """Routes for any signed-in user (their own account)."""
    return _blueprint(ACCOUNT, name, import_name, allowed=lambda user: True, **kwargs)


def _load_membership(user) -> bool:
    from shop.cooperatives.queries import membership_of

    membership = membership_of(user)
    if membership is None:
        return False
    g.membership = membership
    g.cooperative = membership.cooperative
    return True


def member_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """The cooperative dashboard; `g.cooperative` is the member's own cooperative."""
    return _blueprint(MEMBER, name, import_name, allowed=_load_membership, **kwargs)


def staff_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """The alliance console, for staff and admins."""
    return _blueprint(STAFF, name, import_name, allowed=lambda user: user.is_staff, **kwargs)


def admin_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """Admin-only parts of the console (staff accounts, taxonomy, outbox)."""
    return _blueprint(ADMIN, name, import_name, allowed=lambda user: user.is_admin, **kwargs)
