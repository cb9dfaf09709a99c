"""The product form a cooperative member fills in, in plain Vietnamese."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as SubForm
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shop.catalog.models import ALL_MONTHS, MAX_PRICE_VND, mask_to_months, months_to_mask
from shop.cooperatives.forms import plain_text
from shop.forms import MESSAGES, Form, choices, nfc_strip
from shop.text.money import PriceError, parse_vnd

MAX_MIN_ORDER = Decimal("1000000")
LINK_SLOTS = 3


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes (readable on a phone, unlike a multi-select box)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_quantity(text: str) -> Decimal:
    """'0,5' or '0.5' or '200' → Decimal; refuse what is not a positive amount."""
    try:
        value = Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value <= 0 or value > MAX_MIN_ORDER:
        raise ValueError(text)
    if value != value.quantize(Decimal("0.001")):
        raise ValueError(text)
    return value


def parse_day(text: str) -> date:
    """A date typed as 23/12/2027 or sent by a date picker as 2027-12-23."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _plain_quantity(value) -> str:
    """A quantity to put back in the form: decimal comma, no thousands separator."""
    qty = Decimal(str(value or 1)).normalize()
    if qty == qty.to_integral_value():
        qty = qty.quantize(Decimal(1))
    return format(qty, "f").replace(".", ",")


class LinkForm(SubForm):
    label = StringField(_l("Tên nơi bán"), filters=[nfc_strip], validators=[Length(max=120)])
    url = StringField(
        _l("Địa chỉ trang web"),
        filters=[nfc_strip],
        validators=[
            Optional(),
            Length(max=500),
            URL(message=_l("Địa chỉ web phải bắt đầu bằng https://")),
        ],
    )


class ProductForm(Form):
    name_vi = StringField(
        _l("Tên sản phẩm"),
        validators=[InputRequired(_l("Hãy nhập tên sản phẩm.")), Length(max=200)],
        description=_l("Ví dụ: Gạo nếp cái hoa vàng"),
    )
    name_en = StringField(_l("Tên tiếng Anh (không bắt buộc)"), validators=[Length(max=200)])
    category_id = SelectField(_l("Danh mục"), coerce=int, validators=[InputRequired()])
    unit_code = SelectField(
        _l("Đơn vị bán"), validators=[InputRequired()], description=_l("Ví dụ: kg, hộp, chai")
    )
    price_on_request = BooleanField(_l("Không ghi giá, người mua liên hệ để hỏi giá"))
    price = StringField(
        _l("Giá bán (đồng)"),
        validators=[Length(max=40)],
        description=_l("Ví dụ: 120.000 hoặc 120k. Giá cho một đơn vị bán."),
    )
    min_order_qty = StringField(
        _l("Đặt tối thiểu"),
        default="1",
        validators=[InputRequired(_l("Hãy nhập số lượng tối thiểu.")), Length(max=20)],
        description=_l("Theo đơn vị bán. Có thể là số lẻ, ví dụ 0,5 (kg)."),
    )
    pack_size_vi = StringField(
        _l("Quy cách đóng gói"),
        validators=[Length(max=80)],
        description=_l("Ví dụ: túi 2 kg, hộp 10 chiếc"),
    )
    pack_size_en = StringField(_l("Quy cách (tiếng Anh)"), validators=[Length(max=80)])
    description_vi = TextAreaField(
        _l("Mô tả sản phẩm"),
        validators=[Length(max=5000)],
        description=_l("Sản phẩm làm thế nào, dùng thế nào, bảo quản ra sao."),
    )
    description_en = TextAreaField(
        _l("Mô tả tiếng Anh (không bắt buộc)"), validators=[Length(max=5000)]
    )
    ocop_stars = SelectField(
        _l("Hạng OCOP"),
        coerce=int,
        choices=choices([(0, _l("Chưa có")), (3, _l("3 sao")), (4, _l("4 sao")), (5, _l("5 sao"))]),
        default=0,
    )
    ocop_certificate_no = StringField(_l("Số giấy chứng nhận OCOP"), validators=[Length(max=60)])
    ocop_year = IntegerField(
        _l("Năm được công nhận OCOP"),
        validators=[Optional(), NumberRange(min=2000, max=2100)],
    )
    ocop_expires_on = StringField(
        _l("Giấy chứng nhận OCOP hết hạn ngày"),
        validators=[Length(max=20)],
        description=_l("Ví dụ: 31/12/2027. Giấy chứng nhận OCOP có hạn 36 tháng."),
    )
    certifications = CheckboxesField(_l("Chứng nhận (tự công bố)"))
    season = CheckboxesField(
        _l("Tháng có hàng"),
        coerce=int,
        choices=choices((m, _l("Tháng %(m)d", m=m)) for m in range(1, 13)),
        default=list(range(1, 13)),
    )
    season_vi = StringField(
        _l("Ghi chú mùa vụ"),
        validators=[Length(max=120)],
        description=_l("Ví dụ: Vụ mùa, tháng 10–12"),
    )
    made_to_order = BooleanField(_l("Làm theo đơn đặt hàng"))
    traceability_url = StringField(
        _l("Đường dẫn truy xuất nguồn gốc"),
        validators=[
            Optional(),
            Length(max=500),
            URL(message=_l("Địa chỉ web phải bắt đầu bằng https://")),
        ],
    )
    links = FieldList(FormField(LinkForm), min_entries=LINK_SLOTS, max_entries=LINK_SLOTS)

    def validate_price(self, field):
        if self.price_on_request.data:
            self._price = None
            return
        if not field.data:
            raise ValidationError(
                _l("Hãy nhập giá, hoặc chọn \u201cngười mua liên hệ để hỏi giá\u201d.")
            )
        try:
            price = parse_vnd(field.data)
        except PriceError:
            raise ValidationError(_l("Giá chưa đúng. Ví dụ đúng: 120.000 hoặc 120k.")) from None
        if price <= 0:
            raise ValidationError(_l("Giá phải lớn hơn 0 đồng."))
        if price > MAX_PRICE_VND:
            raise ValidationError(_l("Giá quá cao: tối đa 2 tỷ đồng."))
        self._price = price

    def validate_min_order_qty(self, field):
        try:
            self._min_order = parse_quantity(field.data or "")
        except ValueError:
            raise ValidationError(
                _l("Số lượng phải lớn hơn 0, tối đa 3 chữ số sau dấu phẩy. Ví dụ: 1 hoặc 0,5.")
            ) from None

    def validate_ocop_expires_on(self, field):
        self._expires = None
        if field.data:
            try:
                self._expires = parse_day(field.data)
            except ValueError:
                raise ValidationError(_l("Ngày chưa đúng. Ví dụ: 31/12/2027.")) from None
        if self.ocop_stars.data and not self._expires:
            raise ValidationError(_l("Sản phẩm OCOP cần ngày hết hạn của giấy chứng nhận."))

    def validate_ocop_certificate_no(self, field):
        if self.ocop_stars.data and not field.data:
            raise ValidationError(_l("Sản phẩm OCOP cần số giấy chứng nhận."))

    def validate_season(self, field):
        if not field.data:
            raise ValidationError(_l("Chọn ít nhất một tháng có hàng."))

    def validate_links(self, field):
        for entry in field.entries:
            label, url = entry.form.label.data, entry.form.url.data
            if bool(label) != bool(url):
                raise ValidationError(_l("Mỗi nơi bán cần cả tên và địa chỉ trang web."))

    def values(self) -> dict:
        """What the form says, in the shape shop.catalog.services expects."""
        stars = self.ocop_stars.data or 0
        return {
            "name_vi": self.name_vi.data,
            "name_en": self.name_en.data or None,
            "description_vi": self.description_vi.data or "",
            "description_en": self.description_en.data or None,
            "category_id": self.category_id.data,
            "unit_code": self.unit_code.data,
            "pack_size_vi": self.pack_size_vi.data or None,
            "pack_size_en": self.pack_size_en.data or None,
            "price_vnd": self._price,
            "min_order_qty": self._min_order,
            "ocop_stars": stars,
            "ocop_year": self.ocop_year.data if stars else None,
            "ocop_certificate_no": (self.ocop_certificate_no.data or None) if stars else None,
            "ocop_expires_on": self._expires if stars else None,
            "certifications": list(self.certifications.data or []),
            "season_months": months_to_mask(self.season.data) or ALL_MONTHS,
            "season_vi": self.season_vi.data or None,
            "made_to_order": bool(self.made_to_order.data),
            "traceability_url": self.traceability_url.data or None,
            "links": [
                {"label": e.form.label.data, "url": e.form.url.data}
                for e in self.links.entries
                if e.form.label.data and e.form.url.data
            ],
        }

    @classmethod
    def data_from_values(cls, values: dict) -> dict:
        """Form data (for `ProductForm(data=…)`) from a product's or revision's values."""
        from shop.text.formatting import format_date

        price = values.get("price_vnd")
        links = list(values.get("links") or [])
        links += [{"label": "", "url": ""}] * (LINK_SLOTS - len(links))
        expires = values.get("ocop_expires_on")
        return {
            **{
                k: values.get(k)
                for k in (
                    "name_vi",
                    "name_en",
                    "description_vi",
                    "description_en",
                    "category_id",
                    "unit_code",
                    "pack_size_vi",
                    "pack_size_en",
                    "ocop_stars",
                    "ocop_year",
                    "ocop_certificate_no",
                    "season_vi",
                    "made_to_order",
                    "traceability_url",
                    "certifications",
                )
            },
            "price_on_request": price is None,
            "price": "" if price is None else f"{int(price):,}".replace(",", "."),
            "min_order_qty": _plain_quantity(values.get("min_order_qty")),
            "ocop_expires_on": format_date(date.fromisoformat(expires))
            if isinstance(expires, str)
            else format_date(expires),
            "season": mask_to_months(values.get("season_months") or ALL_MONTHS),
            "links": links[:LINK_SLOTS],
        }


_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_WEB_ADDRESS = _l("Địa chỉ web phải bắt đầu bằng https://")


def _is_web_address(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


class MemberProductForm(ProductForm):
    """ProductForm as members use it: choices from the database, every message in their language,
    only http(s) web addresses, no control characters (PostgreSQL refuses NUL)."""

    def __init__(self, names: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = choices((c.id, c.t("name")) for c in names["category"].values())
        self.unit_code.choices = choices((u.code, u.t("name")) for u in names["unit"].values())
        self.certifications.choices = choices(
            (k.code, k.t("name")) for k in names["certification"].values()
        )
        self.min_order_qty.render_kw = {"inputmode": "decimal"}
        self.ocop_year.render_kw = {"inputmode": "numeric"}
        self.traceability_url.render_kw = {"inputmode": "url", "placeholder": "https://"}
        for entry in self.links.entries:
            for field in entry.form:
                field._translations = MESSAGES

    def validate(self, extra_validators=None):
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField):
                multiline = isinstance(field, TextAreaField)
                extra.setdefault(name, []).append(plain_text(multiline=multiline))
        valid = super().validate(extra_validators=extra)
        # One clear message per list, whether the choice is missing, malformed or unknown.
        for field, missing, unknown in (
            (
                self.category_id,
                _l("Hãy chọn danh mục."),
                _l("Danh mục này không có trong danh sách. Hãy chọn lại."),
            ),
            (
                self.unit_code,
                _l("Hãy chọn đơn vị bán."),
                _l("Đơn vị này không có trong danh sách. Hãy chọn lại."),
            ),
        ):
            if field.errors:
                field.errors = [str(unknown if field.raw_data and field.raw_data[0] else missing)]
        return valid

    def validate_traceability_url(self, field):
        if field.data and not field.errors and not _is_web_address(field.data):
            raise ValidationError(str(_WEB_ADDRESS))

    def validate_links(self, field):
        super().validate_links(field)
        for number, entry in enumerate(field.entries, 1):
            label, url = entry.form.label, entry.form.url
            if any(_CONTROL_ONE_LINE.search(f.data or "") for f in (label, url)):
                raise ValidationError(
                    _("Nơi bán %(n)d: có ký tự điều khiển không hợp lệ; hãy gõ lại.", n=number)
                )
            if url.data and not url.errors and not _is_web_address(url.data):
                raise ValidationError(
                    _("Nơi bán %(n)d: địa chỉ web phải bắt đầu bằng https://", n=number)
                )
