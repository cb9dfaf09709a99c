"""Form base classes: every text input is NFC-normalised and stripped before validation."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField

from shop.text.folding import nfc


def nfc_strip(value):
    if isinstance(value, str):
        return nfc(value).strip()
    return value


#: WTForms' own English messages, as a member should read them (the page's language).
_WTFORMS_MESSAGES = {
    "This field is required.": _l("Hãy điền hoặc chọn ô này."),
    "Not a valid choice.": _l("Lựa chọn này không có trong danh sách. Hãy chọn lại."),
    "Invalid Choice: could not coerce.": _l("Lựa chọn này không có trong danh sách. Hãy chọn lại."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l(
        "Lựa chọn này không có trong danh sách. Hãy chọn lại."
    ),
    "'%(value)s' is not a valid choice for this field.": _l(
        "Lựa chọn này không có trong danh sách. Hãy chọn lại."
    ),
    "'%(value)s' are not valid choices for this field.": _l(
        "Lựa chọn này không có trong danh sách. Hãy chọn lại."
    ),
    "Field cannot be longer than %(max)d character.": _l(
        "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(length)d)."
    ),
    "Field cannot be longer than %(max)d characters.": _l(
        "Dài quá: tối đa %(max)d ký tự (bạn đã nhập %(length)d)."
    ),
    "Not a valid integer value.": _l("Hãy nhập một số, ví dụ 2024."),
    "Number must be between %(min)s and %(max)s.": _l("Số phải từ %(min)s đến %(max)s."),
}


class _Messages:
    """A WTForms translations object: its English messages in plain Vietnamese (via gettext)."""

    def gettext(self, string):
        message = _WTFORMS_MESSAGES.get(string)
        return str(message) if message is not None else string

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


#: Handed to every form (and to sub-forms) so WTForms speaks the page's language.
MESSAGES = _Messages()


class Form(FlaskForm):
    """A CSRF-protected form whose text fields arrive NFC-normalised and stripped."""

    class Meta:
        def get_translations(self, form):
            return MESSAGES

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                own = unbound_field.kwargs.get("filters", ())
                options["filters"] = (nfc_strip, *own, *options.get("filters", ()))
            return unbound_field.bind(form=form, **options)


class EmptyForm(Form):
    """A form with nothing but its CSRF token, for POST-only buttons."""


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]
