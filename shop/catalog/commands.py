"""`flask catalog ocop-reminders`: email cooperatives whose products' OCOP certificates expire soon.

Run daily (cron). Each product is reminded once per expiry date: the reminder is recorded as an
audit entry ("product.ocop_reminder_sent", after={"expires_on": iso date}), and a product that
already has one for its current expiry date is skipped, so running twice sends nothing new.
"""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from shop import clock
from shop.audit.services import record
from shop.catalog import queries
from shop.cooperatives.services import owner_users
from shop.extensions import db
from shop.notify import messages
from shop.notify.services import deliver, queue_email, site_url

catalog_cli = AppGroup("catalog", help="Maintain the product catalogue.")

#: Owners are reminded when the certificate expires within this many days.
REMINDER_DAYS = 30
REMINDER_ACTION = "product.ocop_reminder_sent"


def send_ocop_reminders(day) -> tuple[int, list[int]]:
    """Queue the reminders due on `day`; returns (products reminded, ids of emails queued)."""
    products = db.session.scalars(
        queries.ocop_expiring(day, day + timedelta(days=REMINDER_DAYS))
    ).all()
    sent = {
        (target_id, (after or {}).get("expires_on"))
        for target_id, after in db.session.execute(
            queries.ocop_reminders_sent(p.id for p in products)
        )
    }
    reminded, queued = 0, []
    for product in products:
        expires_on = product.ocop_expires_on.isoformat()
        if (product.id, expires_on) in sent:
            continue
        cooperative = product.cooperative
        recipients = [user.email for user in owner_users(cooperative)]
        if not recipients and cooperative.email:
            recipients = [cooperative.email]
        if not recipients:
            continue  # nobody to tell yet; tried again on the next run
        subject, body = messages.ocop_reminder_email(
            product=product.name_vi,
            cooperative=cooperative.name,
            expires_on=product.ocop_expires_on,
            link=site_url("product_dashboard.product", id=product.id),
        )
        for address in recipients:
            queued.append(queue_email(address, subject, body, "ocop_reminder").id)
        record(None, REMINDER_ACTION, product, after={"expires_on": expires_on})
        reminded += 1
    return reminded, queued


@catalog_cli.command("ocop-reminders")
def ocop_reminders() -> None:
    """Email owners of products whose OCOP certificate expires within 30 days (once each)."""
    base_url = current_app.config.get("SITE_URL") or "http://localhost/"
    # Links in emails are built with url_for, which needs a request outside a server.
    with current_app.test_request_context("/", base_url=base_url):
        reminded, queued = send_ocop_reminders(clock.today())
        db.session.commit()
    if queued:
        deliver(queued)
    click.echo(f"{reminded} OCOP reminders sent ({len(queued)} emails).")
