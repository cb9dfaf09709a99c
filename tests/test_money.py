"""Prices typed the way sellers write them."""

import pytest

from shop.text.money import PriceError, parse_vnd


@pytest.mark.parametrize(
    "text, amount",
    [
        ("120000", 120000),
        ("120.000", 120000),
        ("120.000đ", 120000),
        ("120.000 ₫", 120000),
        ("120.000 VNĐ", 120000),
        ("120 000", 120000),
        ("120,000", 120000),
        ("1.000.000.000", 1_000_000_000),
        ("120k", 120000),
        ("120 nghìn", 120000),
        ("1,2 triệu", 1_200_000),
        ("1.5tr", 1_500_000),
        ("1 tỷ", 1_000_000_000),
        ("5.000\u00a0₫", 5000),
    ],
)
def test_common_spellings(text, amount):
    assert parse_vnd(text) == amount


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1,5", "12.5", "1.2.3", "120.00", "-5000", "1,2345k", "12,000.000", "đ", "0.0001k"],
)
def test_unclear_amounts_are_refused(text):
    with pytest.raises(PriceError):
        parse_vnd(text)
