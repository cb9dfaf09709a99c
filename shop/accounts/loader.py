"""Flask-Login's user loader."""

from shop.accounts.models import User
from shop.extensions import db


def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
