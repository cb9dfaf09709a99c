"""The form base class normalises what people type."""

import unicodedata

from wtforms import IntegerField, StringField

from shop.forms import Form


class ExampleForm(Form):
    name = StringField()
    members = IntegerField()


def test_text_is_nfc_and_stripped(app):
    decomposed = unicodedata.normalize("NFD", "  Hòa Sen 🌸 ")
    with app.test_request_context(method="POST", data={"name": decomposed, "members": "7"}):
        form = ExampleForm(meta={"csrf": False})
        assert form.validate()
        assert form.name.data == "Hòa Sen 🌸"
        assert unicodedata.is_normalized("NFC", form.name.data)
        assert form.members.data == 7


def test_csrf_is_required(app):
    with app.test_request_context(method="POST", data={"name": "x", "members": "1"}):
        form = ExampleForm()
        assert not form.validate()
        assert "csrf_token" in form.errors
