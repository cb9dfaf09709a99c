"""Forms of the cooperatives domain: the cooperative's record, invitations, staff decisions.

Every message a person reads here is Vietnamese through gettext; WTForms' own English messages
never reach the page (the number and choice fields below raise their own).
"""

import re
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from wtforms import Field, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, StopValidation, ValidationError

from shop import clock
from shop.accounts.models import User
from shop.cooperatives import queries
from shop.cooperatives.models import CooperativeStatus, LegalForm
from shop.cooperatives.rules import normalize_phone, normalize_tax_code, tax_code_error
from shop.extensions import db
from shop.forms import Form
from shop.text.folding import fold, nfc

LEGAL_FORM_CHOICES = [
    (LegalForm.COOPERATIVE.value, lazy_pgettext("singular", "Hợp tác xã")),
    (LegalForm.UNION.value, _l("Liên hiệp hợp tác xã")),
    (LegalForm.GROUP.value, _l("Tổ hợp tác")),
    (LegalForm.CREDIT_FUND.value, _l("Quỹ tín dụng nhân dân")),
]

#: The fields that make a cooperative's legal identity: read-only once the alliance verified it.
IDENTITY_FIELDS = ("legal_form", "name", "tax_code", "tax_code_missing_reason")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_TAX_SHAPE = re.compile(r"^\d{10}(-\d{3})?$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_INVALID = object()  # a value that could not even be read as the field's type
_HOST = re.compile(r"^[^\s/?#@:]+\.[^\s/?#@:]+(:\d{1,5})?$")


# --------------------------------------------------------------------------- validators


def required(message):
    return DataRequired(message=message)


def max_length(limit: int):
    """At most `limit` characters (counted after NFC, as stored)."""

    def check(form, field):
        if isinstance(field.data, str) and len(field.data) > limit:
            raise ValidationError(
                _(
                    "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(count)d).",
                    max=limit,
                    count=len(field.data),
                )
            )

    return check


def plain_text(multiline: bool = False):
    """No control characters (PostgreSQL refuses NUL; the others are never meant)."""
    pattern = _CONTROL if multiline else _CONTROL_ONE_LINE

    def check(form, field):
        if isinstance(field.data, str) and pattern.search(field.data):
            raise ValidationError(_("Có ký tự điều khiển không hợp lệ; hãy gõ lại ô này."))

    return check


def normalize_email(value: str) -> str:
    return nfc(value).strip().lower()


def email_error(value: str) -> str | None:
    """Why `value` is not an email address we can write to, or None."""
    if len(value) > 254 or not _EMAIL.match(value) or len(value.split("@")[0]) > 64:
        return _("Địa chỉ email không hợp lệ. Ví dụ: htx.hoasen@gmail.com")
    return None


def valid_email(form, field):
    if field.data:
        error = email_error(field.data)
        if error:
            raise ValidationError(error)


def valid_phone(form, field):
    if field.data and normalize_phone(field.data) is None:
        raise ValidationError(
            _("Số điện thoại không đúng. Ví dụ: 0912 345 678 (di động) hoặc 0222 3812 345.")
        )


def valid_website(form, field):
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(parts.netloc):
        raise ValidationError(
            _(
                "Địa chỉ trang web phải bắt đầu bằng http:// hoặc https://, ví dụ https://htxhoasen.vn"
            )
        )


def format_phone(value: str | None) -> str | None:
    """A Vietnamese number written the usual way: 0912 345 678 · 0222 3812 345."""
    if not value:
        return None
    digits = normalize_phone(value)
    if digits is None:
        return value
    if len(digits) == 10:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:4]} {digits[4:8]} {digits[8:]}"


def website_with_scheme(value):
    """'htxhoasen.vn' is taken to mean https://htxhoasen.vn; other schemes are left to fail."""
    if isinstance(value, str) and value and "://" not in value and ":" not in value.split("/")[0]:
        return "https://" + value
    return value


# --------------------------------------------------------------------------- fields


class NumberField(IntegerField):
    """A whole number typed as text ("1.200" reads 1200); its error speaks Vietnamese."""

    def __init__(self, label=None, validators=None, *, minimum=0, maximum=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        raw = re.sub(r"[\s.,]", "", str(valuelist[0]))
        if not (raw.isascii() and raw.isdecimal()) or len(raw) > 9:
            raise ValueError(_("Hãy nhập một số nguyên, ví dụ 25."))
        self.data = int(raw)

    def pre_validate(self, form):
        if self.data is None:
            return
        too_big = self.maximum is not None and self.data > self.maximum
        if self.data < self.minimum or too_big:
            raise StopValidation(
                _(
                    "Hãy nhập một số từ %(min)d đến %(max)d.",
                    min=self.minimum,
                    max=self.maximum,
                )
            )


class EmailAddressField(StringField):
    """An email address, NFC and lower-case (one address is one account however it is typed)."""

    # Normalised here, not with `filters=`: the Form base's bind_field replaces declared filters.
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = normalize_email(self.data)


class WebsiteField(StringField):
    """A web address; 'htxhoasen.vn' is read as https://htxhoasen.vn."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = website_with_scheme(nfc(self.data).strip())


class ChoiceField(Field):
    """One of a list of (value, label) pairs, shown as a <select> or radios by the template.

    '' means not chosen; an unknown or malformed value gets a Vietnamese error.
    """

    def __init__(self, label=None, validators=None, *, choices=(), coerce=str, missing=None, **kw):
        super().__init__(label, validators, **kw)
        self.choices = list(choices)
        self.coerce = coerce
        self.missing = missing or _l("Hãy chọn một mục.")
        self.flags.required = True

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0] not in ("", None):
            try:
                self.data = self.coerce(valuelist[0])
            except (TypeError, ValueError):
                self.data = _INVALID

    def pre_validate(self, form):
        if self.data is None:
            raise StopValidation(str(self.missing))
        if not any(self.selected(value) for value, _label in self.choices):
            raise StopValidation(_("Lựa chọn không hợp lệ; hãy chọn lại."))

    def selected(self, value) -> bool:
        if self.data is None or self.data is _INVALID:
            return False
        return str(getattr(self.data, "value", self.data)) == str(value)

    def _value(self):
        return "" if self.data in (None, _INVALID) else str(getattr(self.data, "value", self.data))


# --------------------------------------------------------------------------- the cooperative


class CooperativeForm(Form):
    """A cooperative's record, for registration, its profile and staff-assisted onboarding."""

    legal_form = ChoiceField(
        _l("Loại hình"),
        choices=LEGAL_FORM_CHOICES,
        missing=_l("Hãy chọn loại hình: hợp tác xã, liên hiệp, tổ hợp tác hay quỹ tín dụng."),
    )
    name = StringField(
        _l("Tên đầy đủ"),
        [required(_l("Hãy nhập tên hợp tác xã.")), max_length(255), plain_text()],
        description=_l("Như trên giấy chứng nhận đăng ký, ví dụ: Hợp tác xã Nông nghiệp Hoa Sen"),
    )
    tax_code = StringField(
        _l("Mã số thuế (10 số, ví dụ 2300123454)"),
        [max_length(40), plain_text()],
        description=_l(
            "Chi nhánh ghi thêm gạch ngang và 3 số, ví dụ 2300123454-001. "
            "Tổ hợp tác chưa có mã thì để trống."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    tax_code_missing_reason = TextAreaField(
        _l("Lý do chưa có mã số thuế"),
        [max_length(500), plain_text(multiline=True)],
        description=_l(
            "Chỉ điền khi để trống mã số thuế, ví dụ: “HTX mới thành lập, đang chờ cấp mã”. "
            "Chỉ cán bộ Liên minh HTX đọc được."
        ),
    )
    sector_id = ChoiceField(
        _l("Lĩnh vực chính"), coerce=int, missing=_l("Hãy chọn lĩnh vực chính.")
    )
    locality_id = ChoiceField(
        _l("Xã, phường"), coerce=int, missing=_l("Hãy chọn xã hoặc phường nơi đặt trụ sở.")
    )
    address_vi = StringField(
        _l("Địa chỉ trụ sở"),
        [required(_l("Hãy nhập địa chỉ trụ sở.")), max_length(255), plain_text()],
        description=_l("Thôn, số nhà, đường; ví dụ: Thôn Đông, xã Liên Bão, tỉnh Bắc Ninh"),
        render_kw={"autocomplete": "street-address"},
    )
    founded_year = NumberField(
        _l("Năm thành lập"),
        minimum=1900,
        maximum=2100,
        description=_l("Ví dụ: 2015"),
    )
    member_count = NumberField(
        _l("Số thành viên"),
        minimum=1,
        maximum=1_000_000,
        description=_l("Số thành viên chính thức; với liên hiệp là số hợp tác xã thành viên."),
    )
    description_vi = TextAreaField(
        _l("Giới thiệu hợp tác xã"),
        [max_length(5000), plain_text(multiline=True)],
        description=_l(
            "Vài câu cho người mua: hợp tác xã làm gì, ở đâu, có gì đặc biệt. Mỗi dòng là một đoạn."
        ),
    )
    phone = StringField(
        _l("Số điện thoại"),
        [
            required(_l("Hãy nhập số điện thoại để người mua và Liên minh HTX liên hệ.")),
            valid_phone,
        ],
        description=_l("Ví dụ: 0912 345 678"),
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    zalo = StringField(
        _l("Số Zalo"),
        [valid_phone],
        description=_l("Để trống nếu trùng số điện thoại hoặc không dùng Zalo."),
        render_kw={"inputmode": "tel"},
    )
    email = EmailAddressField(
        _l("Email"),
        [valid_email],
        description=_l("Ví dụ: htx.hoasen@gmail.com"),
        render_kw={"inputmode": "email", "autocomplete": "email"},
    )
    website = WebsiteField(
        _l("Trang web hoặc trang Facebook"),
        [max_length(255), plain_text(), valid_website],
        description=_l("Ví dụ: https://htxhoasen.vn"),
        render_kw={"inputmode": "url"},
    )
    name_en = StringField(
        _l("Tên tiếng Anh"),
        [max_length(255), plain_text()],
        description=_l("Ví dụ: Hoa Sen Agricultural Cooperative"),
    )
    address_en = StringField(_l("Địa chỉ bằng tiếng Anh"), [max_length(255), plain_text()])
    description_en = TextAreaField(
        _l("Giới thiệu bằng tiếng Anh"), [max_length(5000), plain_text(multiline=True)]
    )

    def __init__(self, *args, current=None, identity_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        #: The cooperative being edited (its own tax code is not a duplicate), or None.
        self.current = current
        self.identity_locked = identity_locked
        if identity_locked:
            for name in IDENTITY_FIELDS:
                del self[name]
        self.sector_id.choices = [
            (s.id, s.t("name")) for s in db.session.scalars(queries.sectors_in_order())
        ]
        localities = db.session.scalars(queries.localities_in_order()).all()
        localities.sort(key=lambda loc: (fold(loc.short_name), loc.id))
        self.locality_id.choices = [(loc.id, loc.t("name")) for loc in localities]
        self.founded_year.maximum = clock.today().year

    def validate_tax_code(self, field):
        if not field.data:
            return
        code = normalize_tax_code(field.data)
        if not _TAX_SHAPE.match(code):
            raise ValidationError(
                _(
                    "Mã số thuế gồm 10 chữ số (ví dụ 2300123454); chi nhánh thêm gạch ngang "
                    "và 3 số (ví dụ 2300123454-001)."
                )
            )
        if tax_code_error(code):
            raise ValidationError(
                _(
                    "Mã số thuế %(code)s không đúng: chữ số kiểm tra không khớp. "
                    "Hãy xem lại giấy chứng nhận đăng ký.",
                    code=code,
                )
            )
        if queries.tax_code_taken(code, exclude_id=getattr(self.current, "id", None)):
            raise ValidationError(
                _(
                    "Mã số thuế %(code)s đã được một hợp tác xã khác đăng ký trên Chợ HTX. "
                    "Nếu đó là hợp tác xã của bạn, hãy liên hệ Liên minh HTX tỉnh.",
                    code=code,
                )
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.identity_locked or self.tax_code.errors:
            return valid
        no_code = not self.tax_code.data
        is_group = self.legal_form.data == LegalForm.GROUP.value
        if no_code and not is_group and not self.tax_code_missing_reason.data:
            self.tax_code.errors.append(
                _(
                    "Hãy nhập mã số thuế, hoặc ghi lý do chưa có mã vào ô “Lý do chưa có mã số "
                    "thuế”. Tổ hợp tác được để trống."
                )
            )
            valid = False
        return valid

    def values(self) -> dict:
        """The model's attributes as this form gives them: cleaned, empty text as None."""

        def text(name):
            return self[name].data or None

        values = {
            "sector_id": self.sector_id.data,
            "locality_id": self.locality_id.data,
            "address_vi": self.address_vi.data,
            "address_en": text("address_en"),
            "founded_year": self.founded_year.data,
            "member_count": self.member_count.data,
            "description_vi": self.description_vi.data or "",
            "description_en": text("description_en"),
            "phone": format_phone(self.phone.data),
            "zalo": format_phone(self.zalo.data),
            "email": text("email"),
            "website": text("website"),
            "name_en": text("name_en"),
        }
        if not self.identity_locked:
            code = normalize_tax_code(self.tax_code.data) if self.tax_code.data else None
            values.update(
                legal_form=LegalForm(self.legal_form.data),
                name=self.name.data,
                tax_code=code,
                tax_code_missing_reason=None if code else text("tax_code_missing_reason"),
            )
        return values


class OnboardingForm(CooperativeForm):
    """Staff create a cooperative on its behalf and invite its owner by email."""

    owner_email = EmailAddressField(
        _l("Email của người quản lý hợp tác xã"),
        [required(_l("Hãy nhập email của người sẽ quản lý trang hợp tác xã.")), valid_email],
        description=_l(
            "Người này nhận thư mời, tạo tài khoản bằng đúng email này "
            "và trở thành chủ tài khoản HTX."
        ),
        render_kw={"inputmode": "email", "autocomplete": "off"},
    )

    def validate_owner_email(self, field):
        user = db.session.scalar(select(User).where(User.email == field.data))
        if user is None:
            return
        if user.is_staff:
            raise ValidationError(_("Email này là tài khoản cán bộ; cán bộ không quản lý HTX."))
        if queries.membership_of(user) is not None:
            raise ValidationError(_("Email này đã quản lý một hợp tác xã khác."))


# --------------------------------------------------------------------------- team and decisions


class InvitationForm(Form):
    email = EmailAddressField(
        _l("Email của người được mời"),
        [required(_l("Hãy nhập email của người bạn muốn mời.")), valid_email],
        description=_l("Ví dụ: nguyenvana@gmail.com. Người này sẽ là biên tập viên."),
        render_kw={"inputmode": "email", "autocomplete": "off"},
    )


DECIDABLE = (CooperativeStatus.PENDING.value, CooperativeStatus.NEEDS_INFO.value)


class DecisionForm(Form):
    """A staff decision; `seen_status` is the status the deciding page showed."""

    seen_status = HiddenField()

    def seen(self) -> CooperativeStatus | None:
        value = self.seen_status.data
        return CooperativeStatus(value) if value in DECIDABLE else None


class NeedsInfoForm(DecisionForm):
    reason = TextAreaField(
        _l("Cần bổ sung gì?"),
        [
            required(_l("Hãy ghi rõ hợp tác xã cần bổ sung gì; họ sẽ đọc đúng lời này.")),
            max_length(2000),
            plain_text(multiline=True),
        ],
        description=_l("Ví dụ: Mã số thuế không khớp với giấy chứng nhận; hãy gửi lại mã đúng."),
    )


class SuspendForm(Form):
    """Staff suspend a verified cooperative; the members read the reason on their dashboard."""

    reason = TextAreaField(
        _l("Lý do tạm ngưng"),
        [
            required(_l("Hãy ghi lý do tạm ngưng; hợp tác xã sẽ đọc đúng lời này.")),
            max_length(2000),
            plain_text(multiline=True),
        ],
        description=_l("Ví dụ: Nhiều phản ánh về hàng giao không đúng mô tả; đang xác minh."),
    )
