"""Folding, slugs and the Vietnamese formatting of prices, quantities and dates."""

import unicodedata
from datetime import date, datetime
from decimal import Decimal

import pytest

from shop.catalog.models import mask_to_months, months_to_mask
from shop.text.folding import clean, fold, fold_words, slugify
from shop.text.formatting import format_date, format_quantity, format_vnd


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Bánh phu thê", "banh phu the"),
        ("BÁNH PHU THÊ", "banh phu the"),
        ("Đồng Hồ", "dong ho"),
        ("đđĐĐ", "dddd"),
        (unicodedata.normalize("NFD", "Nếp cái hoa vàng"), "nep cai hoa vang"),
        ("Gốm Phù Lãng", "gom phu lang"),
        ("Ưu đãi Ơn", "uu dai on"),
    ],
)
def test_fold_removes_tones_and_marks(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Gạo Đồng", "gao-dong"),
        ("HTX Hòa Sen", "htx-hoa-sen"),
        ("  Tranh Đông Hồ — Lợn đàn!  ", "tranh-dong-ho-lon-dan"),
        ("Nước mắm 1,5 lít", "nuoc-mam-1-5-lit"),
        ("🎉", "x"),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_caps_length_without_trailing_hyphen():
    slug = slugify("Hợp tác xã " * 40, max_length=30)
    assert len(slug) <= 30 and not slug.endswith("-")


def test_clean_normalises_and_strips():
    assert clean(unicodedata.normalize("NFD", "  Bắc Ninh ")) == "Bắc Ninh"
    assert clean("   ") is None
    assert clean(None) is None


@pytest.mark.parametrize(
    "amount, lang, text",
    [
        (120000, "vi", "120.000 ₫"),
        (5000, "vi", "5.000 ₫"),
        (1_000_000_000, "vi", "1.000.000.000 ₫"),
        (120000, "en", "120,000 ₫"),
    ],
)
def test_format_vnd(amount, lang, text):
    formatted = format_vnd(amount, lang)
    assert "\u00a0" in formatted  # never wraps between number and symbol
    assert formatted.replace("\u00a0", " ") == text


def test_format_vnd_without_price():
    assert format_vnd(None) is None


@pytest.mark.parametrize(
    "value, lang, text",
    [
        (Decimal("0.5"), "vi", "0,5"),
        (Decimal("1.000"), "vi", "1"),
        (Decimal("1200"), "vi", "1.200"),
        (Decimal("2.25"), "vi", "2,25"),
        (Decimal("0.5"), "en", "0.5"),
        (200, "vi", "200"),
    ],
)
def test_format_quantity(value, lang, text):
    assert format_quantity(value, lang) == text


def test_format_date_is_day_first():
    assert format_date(date(2022, 12, 23)) == "23/12/2022"
    assert format_date(datetime(2027, 3, 1, 8, 30)) == "01/03/2027"
    assert format_date(None) == ""


def test_season_months_round_trip():
    assert mask_to_months(months_to_mask([1, 2, 12])) == [1, 2, 12]
    assert months_to_mask(range(1, 13)) == 4095


@pytest.mark.parametrize(
    "text, words",
    [
        ("Xã/Phường  Từ Sơn", "xa phuong tu son"),
        ("Bánh, kẹo đặc sản", "banh keo dac san"),
        ("  Đồ gỗ - mỹ nghệ. ", "do go my nghe"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold_words_compares_names_typed_in_a_sheet(text, words):
    assert fold_words(text) == words
