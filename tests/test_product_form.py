"""The product form: what a member types becomes clean values, or a clear error per field."""

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from shop.catalog.forms import ProductForm
from shop.forms import choices

GOOD = {
    "name_vi": "Gạo nếp cái hoa vàng",
    "category_id": "1",
    "unit_code": "kg",
    "price": "48.000đ",
    "min_order_qty": "0,5",
    "ocop_stars": "0",
    "season": ["10", "11", "12"],
    "certifications": ["vietgap"],
    "links-0-label": "Sàn Bắc Ninh",
    "links-0-url": "https://san.example/gao",
}


def build(app, data):
    form_data = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            form_data.add(key, item)
    with app.test_request_context(method="POST", data=form_data):
        form = ProductForm(meta={"csrf": False})
        form.category_id.choices = choices([(1, "Gạo"), (2, "Rau")])
        form.unit_code.choices = choices([("kg", "kg"), ("box", "hộp")])
        form.certifications.choices = choices([("vietgap", "VietGAP"), ("haccp", "HACCP")])
        valid = form.validate()
        return form, valid, (form.values() if valid else None)


def test_good_input_becomes_values(app):
    form, valid, values = build(app, GOOD)
    assert valid, form.errors
    assert values["price_vnd"] == 48000
    assert values["min_order_qty"] == Decimal("0.5")
    assert values["season_months"] == (1 << 9) | (1 << 10) | (1 << 11)
    assert values["certifications"] == ["vietgap"]
    assert values["links"] == [{"label": "Sàn Bắc Ninh", "url": "https://san.example/gao"}]
    assert values["ocop_stars"] == 0 and values["ocop_expires_on"] is None


def test_price_on_request(app):
    form, valid, values = build(app, {**GOOD, "price": "", "price_on_request": "y"})
    assert valid, form.errors
    assert values["price_vnd"] is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("price", "", "Hãy nhập giá"),
        ("price", "12,5", "Giá chưa đúng"),
        ("price", "0", "lớn hơn 0"),
        # price_vnd is a 32-bit integer: a bigger price must be refused here, not by the database.
        ("price", "3 tỷ", "tối đa 2 tỷ"),
        ("price", "2.000.000.001", "tối đa 2 tỷ"),
        ("min_order_qty", "0", "lớn hơn 0"),
        ("min_order_qty", "-1", "lớn hơn 0"),
        ("min_order_qty", "abc", "lớn hơn 0"),
        ("min_order_qty", "0,0001", "3 chữ số"),
        ("name_vi", "", "Hãy nhập tên"),
        ("name_vi", "x" * 201, "200"),
        ("traceability_url", "javascript:alert(1)", "https://"),
        ("links-0-url", "", "cả tên và địa chỉ"),
        ("season", [], "ít nhất một tháng"),
        ("category_id", "99", "không có trong danh sách"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(app, field, value, message):
    form, valid, _ = build(app, {**GOOD, field: value})
    assert not valid
    errors = " ".join(str(e) for errs in form.errors.values() for e in _flat(errs))
    assert message in errors


def _flat(errors):
    for error in errors:
        if isinstance(error, dict):
            for sub in error.values():
                yield from _flat(sub)
        elif isinstance(error, list):
            yield from _flat(error)
        else:
            yield error


def test_ocop_needs_certificate_and_expiry(app):
    form, valid, _ = build(app, {**GOOD, "ocop_stars": "4"})
    assert not valid
    assert "ocop_certificate_no" in form.errors and "ocop_expires_on" in form.errors
    form, valid, values = build(
        app,
        {
            **GOOD,
            "ocop_stars": "4",
            "ocop_certificate_no": "OCOP-BN-2025-7",
            "ocop_expires_on": "31/12/2027",
        },
    )
    assert valid, form.errors
    assert values["ocop_expires_on"] == date(2027, 12, 31)


def test_text_is_nfc_and_markup_is_kept_as_text(app):
    name = unicodedata.normalize("NFD", "Bánh <b>phu thê</b> {{ ngon }} 🎉")
    form, valid, values = build(app, {**GOOD, "name_vi": name})
    assert valid
    assert values["name_vi"] == "Bánh <b>phu thê</b> {{ ngon }} 🎉"
    assert unicodedata.is_normalized("NFC", values["name_vi"])


def test_round_trip_through_form_data(app):
    values = {
        "name_vi": "Mật ong",
        "category_id": 2,
        "unit_code": "box",
        "price_vnd": 1200000,
        "min_order_qty": Decimal("2.500"),
        "ocop_stars": 3,
        "ocop_year": 2024,
        "ocop_certificate_no": "A1",
        "ocop_expires_on": date(2027, 1, 5),
        "season_months": 4095,
        "certifications": ["haccp"],
        "links": [{"label": "Shop", "url": "https://shop.example"}],
    }
    data = ProductForm.data_from_values(values)
    assert data["price"] == "1.200.000"
    assert data["min_order_qty"] == "2,5"
    assert data["ocop_expires_on"] == "05/01/2027"
    posted = {k: v for k, v in data.items() if k not in ("links",) and v is not None}
    posted["links-0-label"], posted["links-0-url"] = "Shop", "https://shop.example"
    posted = {
        k: ([str(x) for x in v] if isinstance(v, list) else str(v)) for k, v in posted.items()
    }
    posted.pop("price_on_request")
    posted.pop("made_to_order", None)
    form, valid, again = build(app, posted)
    assert valid, form.errors
    assert again["price_vnd"] == 1200000 and again["min_order_qty"] == Decimal("2.5")
    assert again["ocop_expires_on"] == date(2027, 1, 5)
