"""Business rules for cooperative records: tax codes and phone numbers."""

import re

_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_TAX_RE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
_PHONE_DIGITS = re.compile(r"^(?:\+?84|0)(\d{9,10})$")


def normalize_tax_code(value: str) -> str:
    return re.sub(r"[\s.]", "", value)


def tax_check_digit(first_nine: str) -> int | None:
    """The tenth digit of a Vietnamese tax code, or None when no valid code has this prefix."""
    total = sum(int(d) * w for d, w in zip(first_nine, _TAX_WEIGHTS, strict=True))
    check = 10 - total % 11
    return None if check == 10 else check


def tax_code_error(value: str) -> str | None:
    """Explain why a tax code (MST) is invalid, or return None when it is valid."""
    match = _TAX_RE.match(value)
    if not match:
        return "must be 10 digits, or 10 digits + '-' + 3 for a branch"
    main, branch = match.groups()
    if main[2:9] == "0000000":
        return "digits 3–9 cannot all be zero"
    if tax_check_digit(main[:9]) != int(main[9]):
        return "check digit does not match"
    if branch == "000":
        return "branch suffix cannot be 000"
    return None


def normalize_phone(value: str) -> str | None:
    """Return the phone's digits as written in Vietnam (0…), or None if it is not a VN number."""
    digits = re.sub(r"[\s.()-]", "", value)
    match = _PHONE_DIGITS.match(digits)
    if not match:
        return None
    national = "0" + match.group(1)
    return national if len(national) in (10, 11) else None
