"""Server-side record of signed-in browsers, so a copied cookie dies with its session.

The Flask session cookie carries a random token; the database keeps only its sha256. Logging
out revokes that one session; a password change or disabling the account revokes them all.
"""

import hashlib
import secrets

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from shop.accounts.models import AuthSession, User
from shop.db import utcnow
from shop.extensions import db

SESSION_KEY = "auth"
#: What a browser keeps across signing in and out: the visitor's choice of language, and the
#: inquiry list made before signing in (shop.inquiries.lists merges it into the saved one).
KEPT_KEYS = ("lang", "inquiry_list")


def _clear_session() -> None:
    kept = {key: session[key] for key in KEPT_KEYS if key in session}
    session.clear()
    session.update(kept)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user: User, remember: bool = False) -> str:
    """Sign `user` in on this browser: a new server-side session and a fresh cookie."""
    _clear_session()  # a new token for a new sign-in (no fixation)
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthSession(
            token_hash=_digest(token),
            user_id=user.id,
            user_agent=(request.user_agent.string or "")[:255],
        )
    )
    user.last_login_at = utcnow()
    db.session.flush()
    session[SESSION_KEY] = token
    login_user(user, remember=False)
    return token


def end() -> None:
    """Sign out this browser and revoke its server-side session."""
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == _digest(token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    logout_user()
    _clear_session()


def revoke_all(user: User, keep_current: bool = False) -> None:
    """Revoke every session of `user` (after a password change or when the account is disabled)."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    token = session.get(SESSION_KEY) if keep_current else None
    if token:
        stmt = stmt.where(AuthSession.token_hash != _digest(token))
    db.session.execute(stmt.values(revoked_at=utcnow()))


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user only while this browser's session is live."""
    token = session.get(SESSION_KEY)
    if not token or not user_id.isdigit():
        return None
    oldest = utcnow() - current_app.config["AUTH_SESSION_LIFETIME"]
    return db.session.scalar(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            User.is_active_account.is_(True),
            AuthSession.token_hash == _digest(token),
            AuthSession.revoked_at.is_(None),
            AuthSession.created_at > oldest,
        )
    )
