"""The buyer's private link to one inquiry: a signed, expiring token, no account needed.

The token signs the inquiry's id together with its group key (a random value stored with the
inquiry), so it opens exactly one inquiry: another inquiry's token, an edited token or one
signed with another secret is refused, and so is a token older than TOKEN_MAX_AGE. Links in
emails stay valid while SECRET_KEY is unchanged and the token is younger than the limit.
"""

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

SALT = "inquiry-buyer-link"
#: A buyer may come back to a quote for this long (a season and a half).
TOKEN_MAX_AGE = 180 * 24 * 3600
MAX_TOKEN_LENGTH = 200


class InvalidToken(Exception):
    """The link is not one this site gave out, or it has expired (`expired` says which)."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(inquiry) -> str:
    return _serializer().dumps([inquiry.id, inquiry.group_key])


def read_token(token: str, max_age: int = TOKEN_MAX_AGE) -> tuple[int, str]:
    """(inquiry id, group key) from a token; the caller loads the inquiry and compares the key."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    try:
        value = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise InvalidToken(expired=True) from error
    except BadData as error:
        raise InvalidToken() from error
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        raise InvalidToken()
    return value[0], value[1]
