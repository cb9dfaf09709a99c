"""Form base classes: every text input is NFC-normalised and stripped before validation."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, StringField

from shop.text.folding import nfc


def nfc_strip(value):
    if isinstance(value, str):
        return nfc(value).strip()
    return value


class Form(FlaskForm):
    """A CSRF-protected form whose text fields arrive NFC-normalised and stripped."""

    class Meta:
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
