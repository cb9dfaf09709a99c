"""Today's date, pinnable by configuration so demos and tests of dated pages are stable."""

from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    if has_app_context():
        pinned = current_app.config.get("SHOP_TODAY")
        if pinned:
            return date.fromisoformat(pinned)
    return date.today()
