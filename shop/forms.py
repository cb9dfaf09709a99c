"""Form base classes: every text input is NFC-normalised and stripped before validation."""

from flask_wtf import FlaskForm

from shop.text.folding import nfc


def nfc_strip(value):
    if isinstance(value, str):
        return nfc(value).strip()
    return value


class Form(FlaskForm):
    """A CSRF-protected form whose text fields arrive NFC-normalised and stripped."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = (nfc_strip, *options.get("filters", ()))
            return unbound_field.bind(form=form, **options)


class EmptyForm(Form):
    """A form with nothing but its CSRF token, for POST-only buttons."""
