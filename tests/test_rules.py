"""Tax codes (mã số thuế) and Vietnamese phone numbers."""

import pytest

from shop.cooperatives.rules import (
    normalize_phone,
    normalize_tax_code,
    tax_check_digit,
    tax_code_error,
)


def with_check(prefix: str) -> str:
    return prefix + str(tax_check_digit(prefix))


def test_check_digit_uses_the_official_weights():
    # 31·9 + 29·9 + 23·9 + 19·0 + … + 3·1 = 747 → 10 − 747 mod 11 = 10 − 10 = 0
    assert tax_check_digit("999000001") == 10 - (31 * 9 + 29 * 9 + 23 * 9 + 3 * 1) % 11


@pytest.mark.parametrize("code", ["9990000018", "2300123454", "2409876544", "0100109106"])
def test_valid_codes(code):
    assert tax_code_error(code) is None
    assert tax_code_error(code + "-001") is None


def test_wrong_check_digit():
    code = with_check("999000001")
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    assert tax_code_error(wrong) == "check digit does not match"


def test_prefix_without_valid_code():
    prefix = next(
        f"9990000{i:02d}" for i in range(100) if tax_check_digit(f"9990000{i:02d}") is None
    )
    assert tax_check_digit(prefix) is None
    assert all(tax_code_error(prefix + str(d)) for d in range(10))


@pytest.mark.parametrize(
    "code, problem",
    [
        ("123", "must be 10 digits"),
        ("12345678901", "must be 10 digits"),
        ("99abc00001", "must be 10 digits"),
        ("2300000000", "cannot all be zero"),
    ],
)
def test_malformed_codes(code, problem):
    assert problem in tax_code_error(code)


def test_branch_suffix_000_is_refused():
    assert tax_code_error(with_check("999000001") + "-000") == "branch suffix cannot be 000"


def test_normalize_tax_code_strips_spaces_and_dots():
    assert normalize_tax_code(" 0100.109 106 ") == "0100109106"


@pytest.mark.parametrize(
    "raw, phone",
    [
        ("0900 000 001", "0900000001"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0222.3812.345", "02223812345"),
        ("(0222) 3812 345", "02223812345"),
    ],
)
def test_phone_numbers(raw, phone):
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12345", "abc", "0912", "+1 212 555 0100", ""])
def test_bad_phone_numbers(raw):
    assert normalize_phone(raw) is None
