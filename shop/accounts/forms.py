"""Forms of signing in, signing up and passwords; their messages speak plain Vietnamese."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from shop.accounts import passwords, services
from shop.forms import Form, nfc_strip

NAME_MAX_LENGTH = 120  # the user.name column
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


#: The same words as the new-password rule (shop.accounts.passwords.problem).
TOO_LONG_PASSWORD = _l("Mật khẩu dài quá %(num)d ký tự.", num=passwords.MAX_LENGTH)


def lower(value):
    return value.lower() if isinstance(value, str) else value


def valid_email(form, field):
    problem = services.email_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def email_field():
    return EmailField(
        _l("Email"),
        filters=[lower],
        validators=[
            DataRequired(_l("Vui lòng nhập email.")),
            valid_email,
        ],
    )


class SecretField(PasswordField):
    """A password: NFC like other text, but never stripped (a space may be part of it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters = (
            *(f for f in self.filters if f is not nfc_strip),
            lambda value: passwords.normalize(value) if isinstance(value, str) else value,
        )


def new_password_field(label):
    return SecretField(label, validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])


def confirm_field():
    return SecretField(
        _l("Nhập lại mật khẩu"),
        validators=[
            DataRequired(_l("Vui lòng nhập lại mật khẩu.")),
            EqualTo("password", _l("Hai mật khẩu chưa khớp nhau.")),
        ],
    )


class NewPasswordMixin:
    """Checks `password` against the rules, for the account of `account_email()`."""

    def account_email(self) -> str | None:
        return self._account_email

    def validate_password(self, field):
        problem = passwords.problem(field.data or "", self.account_email())
        if problem:
            raise ValidationError(problem)


class LoginForm(Form):
    email = email_field()
    password = SecretField(
        _l("Mật khẩu"),
        validators=[
            DataRequired(_l("Vui lòng nhập mật khẩu.")),
            Length(max=passwords.MAX_LENGTH, message=TOO_LONG_PASSWORD),
        ],
    )


class SignupForm(NewPasswordMixin, Form):
    name = StringField(
        _l("Họ và tên"),
        validators=[
            DataRequired(_l("Vui lòng nhập họ và tên.")),
            Length(max=NAME_MAX_LENGTH, message=_l("Họ và tên dài quá %(max)d ký tự.")),
        ],
    )
    email = email_field()
    password = new_password_field(_l("Mật khẩu"))
    confirm = confirm_field()

    def account_email(self) -> str | None:
        return self.email.data

    def validate_name(self, field):
        if CONTROL_RE.search(field.data or ""):
            raise ValidationError(_l("Họ và tên có ký tự không hợp lệ."))


class ChangePasswordForm(NewPasswordMixin, Form):
    current_password = SecretField(
        _l("Mật khẩu hiện tại"),
        validators=[
            DataRequired(_l("Vui lòng nhập mật khẩu hiện tại.")),
            Length(max=passwords.MAX_LENGTH, message=TOO_LONG_PASSWORD),
        ],
    )
    password = new_password_field(_l("Mật khẩu mới"))
    confirm = confirm_field()

    def __init__(self, *args, account_email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._account_email = account_email

    def validate_password(self, field):
        super().validate_password(field)
        if field.data == self.current_password.data:
            raise ValidationError(_l("Mật khẩu mới phải khác mật khẩu hiện tại."))


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(NewPasswordMixin, Form):
    password = new_password_field(_l("Mật khẩu mới"))
    confirm = confirm_field()

    def __init__(self, *args, account_email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._account_email = account_email
