"""Opaque, signed cursors for keyset pagination.

A cursor carries the sort key of the last row of a page (e.g. a product's id). It is signed
with the app's secret so a client cannot forge or edit one: a cursor is used exactly as the
API made it, or refused with a 400. Each list signs with its own salt, so one list's cursor
is refused by another. A cursor stays valid while SECRET_KEY is unchanged; it is not a
snapshot (a row added later before the cursor's position is simply not met by that walk).
"""

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from shop.api.errors import ApiError

MAX_CURSOR_LENGTH = 300


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"api-v1-cursor:{kind}")


def encode(kind: str, key: list) -> str:
    """The cursor of the page after the row with sort key `key` (a list of JSON values)."""
    return _serializer(kind).dumps(key)


def invalid_cursor() -> ApiError:
    return ApiError(
        400,
        "invalid_cursor",
        "'cursor' is not a cursor this list gave out; start again without it.",
        "cursor",
    )


def decode(kind: str, cursor: str, shape: tuple | None = None) -> list:
    """The sort key a cursor carries; it must have been made by `encode(kind, …)`, else 400.

    `shape` gives the type of each value when the key's length is fixed; without it the key
    may be any short list of strings and numbers (a search's ranking values).
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        key = _serializer(kind).loads(cursor)
    except (BadData, ValueError, TypeError):
        raise invalid_cursor() from None
    if not isinstance(key, list) or not 0 < len(key) <= 8:
        raise invalid_cursor()
    # type(), not isinstance(): True is an int to isinstance(); a signed cursor never holds one.
    if shape is not None:
        if len(key) != len(shape) or any(
            type(value) is not expected for value, expected in zip(key, shape, strict=True)
        ):
            raise invalid_cursor()
    elif any(type(value) not in (str, int, float) for value in key):
        raise invalid_cursor()
    return key
