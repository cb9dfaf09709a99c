"""Read and check the query arguments of the API; anything malformed is a 400 that says why.

Filters name things by slug (sector, category, locality) or code (certification). A
well-formed name that matches nothing narrows the list to nothing, like any other filter
without a match; a malformed one (empty, spaces, capitals, too long) is refused.
"""

import re
from dataclasses import dataclass

from flask import request

from shop.api.errors import bad_parameter
from shop.text.folding import SLUG_RE

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: The largest price_vnd column value (a 32-bit integer on PostgreSQL; bigger is a 500 there).
MAX_PRICE = 2**31 - 1
MAX_QUERY_LENGTH = 100
CODE_RE = re.compile(r"^[a-z0-9_]{1,40}$")
OCOP_STARS = (1, 5)


def text(name: str) -> str | None:
    """A query argument as given, or None when absent; an empty value is refused."""
    value = request.args.get(name)
    if value is None:
        return None
    if value == "":
        raise bad_parameter(name, f"'{name}' must not be empty; leave it out instead.")
    return value


def whole_number(name: str, low: int, high: int) -> int | None:
    """A whole number between `low` and `high` (both included), or None when absent."""
    value = text(name)
    if value is None:
        return None
    # isdecimal() alone lets "٣" through; int() would also accept "+5", " 5" and "5_0".
    if not (value.isascii() and value.isdecimal()) or len(value) > 13:
        raise bad_parameter(name, f"'{name}' must be a whole number from {low} to {high}.")
    number = int(value)
    if not low <= number <= high:
        raise bad_parameter(name, f"'{name}' must be a whole number from {low} to {high}.")
    return number


def slug(name: str) -> str | None:
    value = text(name)
    if value is not None and (len(value) > 160 or not SLUG_RE.match(value)):
        raise bad_parameter(
            name, f"'{name}' must be a slug: lower-case letters and digits joined by '-'."
        )
    return value


def code(name: str) -> str | None:
    value = text(name)
    if value is not None and not CODE_RE.match(value):
        raise bad_parameter(
            name, f"'{name}' must be a code: up to 40 lower-case letters, digits and '_'."
        )
    return value


def query(name: str = "q") -> str | None:
    value = text(name)
    if value is None:
        return None
    if len(value) > MAX_QUERY_LENGTH:
        raise bad_parameter(name, f"'{name}' must be at most {MAX_QUERY_LENGTH} characters.")
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise bad_parameter(name, f"'{name}' must not contain control characters.")
    if not value.strip():
        raise bad_parameter(name, f"'{name}' must contain a word to search for.")
    return value


def limit() -> int:
    value = whole_number("limit", 1, MAX_LIMIT)
    return DEFAULT_LIMIT if value is None else value


@dataclass(frozen=True)
class ProductFilters:
    q: str | None = None
    sector: str | None = None
    category: str | None = None
    locality: str | None = None
    ocop_min: int | None = None
    certification: str | None = None
    price_min: int | None = None
    price_max: int | None = None


def product_filters() -> ProductFilters:
    filters = ProductFilters(
        q=query(),
        sector=slug("sector"),
        category=slug("category"),
        locality=slug("locality"),
        ocop_min=whole_number("ocop_min", *OCOP_STARS),
        certification=code("certification"),
        price_min=whole_number("price_min", 0, MAX_PRICE),
        price_max=whole_number("price_max", 0, MAX_PRICE),
    )
    if (
        filters.price_min is not None
        and filters.price_max is not None
        and filters.price_min > filters.price_max
    ):
        raise bad_parameter("price_min", "'price_min' must not be greater than 'price_max'.")
    return filters


@dataclass(frozen=True)
class CooperativeFilters:
    sector: str | None = None
    locality: str | None = None


def cooperative_filters() -> CooperativeFilters:
    return CooperativeFilters(sector=slug("sector"), locality=slug("locality"))
