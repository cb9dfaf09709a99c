"""Queue email in the outbox and notices on dashboards; deliver the outbox after commit.

Email is written to the outbox table inside the request's transaction, so a rolled-back
request sends nothing. After the response, messages queued by the request are delivered:
by SMTP when MAIL_SERVER is set, otherwise written to the log (and listed for admins).
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, g, has_request_context, url_for
from flask_babel import force_locale
from sqlalchemy import select

from shop.db import utcnow
from shop.extensions import db
from shop.notify.models import EmailStatus, Notification, OutboxEmail

log = logging.getLogger(__name__)


def queue_email(to: str, subject: str, body: str, kind: str) -> OutboxEmail:
    message = OutboxEmail(to_address=to, subject=subject[:255], body=body, kind=kind)
    db.session.add(message)
    db.session.flush()
    if has_request_context():
        g.setdefault("outbox_ids", []).append(message.id)
    return message


def site_url(endpoint: str, **values) -> str:
    """An absolute link for an email: SITE_URL when configured, never a Host header's word."""
    base = current_app.config.get("SITE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def bilingual(render) -> str:
    """Render a message in Vietnamese, then in English below it (recipients' language unknown)."""
    with force_locale("vi"):
        vi = render()
    with force_locale("en"):
        en = render()
    return vi if vi == en else f"{vi}\n\n---\n\n{en}"


def notify_cooperative(cooperative, kind: str, **params) -> Notification:
    """A notice on the cooperative's dashboard, rendered in the reader's language."""
    notice = Notification(cooperative_id=cooperative.id, kind=kind, params=params)
    db.session.add(notice)
    db.session.flush()
    return notice


def _send(message: OutboxEmail) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info(
            "email (no SMTP configured) to=%s subject=%s\n%s",
            message.to_address,
            message.subject,
            message.body,
        )
        message.status = EmailStatus.LOGGED
        message.sent_at = utcnow()
        return
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    message.attempts += 1
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_PORT"] == 587:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        message.last_error = str(exc)[:1000]
        if message.attempts >= 5:
            message.status = EmailStatus.FAILED
        log.warning("email %s not sent: %s", message.id, exc)
        return
    message.status = EmailStatus.SENT
    message.sent_at = utcnow()


def deliver(ids=None, limit: int = 100) -> int:
    """Send queued messages (those of `ids`, or the oldest `limit`); return how many were tried."""
    stmt = select(OutboxEmail).where(OutboxEmail.status == EmailStatus.QUEUED)
    if ids is not None:
        stmt = stmt.where(OutboxEmail.id.in_(ids))
    messages = db.session.scalars(stmt.order_by(OutboxEmail.id).limit(limit)).all()
    for message in messages:
        _send(message)
    db.session.commit()
    return len(messages)


def deliver_after_request(response):
    """Deliver what this request queued, once its transaction has been committed."""
    ids = g.pop("outbox_ids", None)
    if ids:
        try:
            deliver(ids)
        except Exception:  # delivery must never break the page the user is looking at
            db.session.rollback()
            log.exception("outbox delivery failed")
    return response
