"""Read prices the way Vietnamese sellers write them: 120.000, 120.000đ, 120k, 1,2 triệu."""

import re
from decimal import Decimal, InvalidOperation

_CURRENCY = re.compile(r"(₫|vnđ|vnd|đồng|dong|đ)$")
_MULTIPLIERS = (
    ("nghìn", 1_000),
    ("ngàn", 1_000),
    ("ngan", 1_000),
    ("nghin", 1_000),
    ("triệu", 1_000_000),
    ("trieu", 1_000_000),
    ("tỷ", 1_000_000_000),
    ("tỉ", 1_000_000_000),
    ("ty", 1_000_000_000),
    ("tr", 1_000_000),
    ("k", 1_000),
)
_GROUPED = re.compile(r"^\d{1,3}([.,  ]\d{3})+$")


class PriceError(ValueError):
    """The text is not an unambiguous whole amount of đồng."""


def parse_vnd(text: str) -> int:
    """Whole VND from a seller's spelling; raise PriceError when it is unclear or not whole."""
    value = text.strip().lower().replace("\u00a0", " ")
    value = _CURRENCY.sub("", value).strip()
    multiplier = 1
    for word, factor in _MULTIPLIERS:
        if value.endswith(word):
            multiplier = factor
            value = value[: -len(word)].strip()
            break
    if not value:
        raise PriceError(text)
    if multiplier == 1:
        if value.isdigit():
            return int(value)
        if _GROUPED.match(value):
            separators = set(re.sub(r"\d", "", value))
            if len(separators) == 1:
                return int(re.sub(r"\D", "", value))
        raise PriceError(text)
    # With a multiplier a decimal part is usual: "1,2 triệu", "1.5tr", "120k".
    if not re.fullmatch(r"\d+([.,]\d+)?", value):
        raise PriceError(text)
    try:
        amount = Decimal(value.replace(",", ".")) * multiplier
    except InvalidOperation:
        raise PriceError(text) from None
    if amount != amount.to_integral_value():
        raise PriceError(text)
    return int(amount)
