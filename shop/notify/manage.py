"""The outbox for admins (/quan-tri/thu-di): every email the site wrote, newest first.

Without SMTP (development, a closed network) this is where a reset link or an invitation can
be read and followed.
"""

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.access import admin_blueprint
from shop.catalog.queries import paginate
from shop.notify.models import EmailStatus, OutboxEmail

bp = admin_blueprint("outbox", __name__, url_prefix="/quan-tri")

PER_PAGE = 20
STATUS_LABELS = {
    EmailStatus.QUEUED: _l("Đang chờ gửi"),
    EmailStatus.SENT: _l("Đã gửi"),
    EmailStatus.LOGGED: _l("Chỉ ghi lại (chưa có SMTP)"),
    EmailStatus.FAILED: _l("Gửi không được"),
}


@bp.get("/thu-di")
def outbox():
    stmt = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    return render_template(
        "notify/outbox.html", page=paginate(stmt, PER_PAGE), status_labels=STATUS_LABELS
    )
