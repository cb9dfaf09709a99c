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


def test_a_post_without_csrf_token_gets_a_friendly_page(client):
    response = client.post("/tai-khoan/dang-nhap", data={"email": "a@b.vn", "password": "x"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    english = client.post("/tai-khoan/dang-nhap?lang=en", data={"email": "a@b.vn"})
    assert english.status_code == 400


class UpperForm(Form):
    name = StringField(filters=[lambda value: value.upper() if value else value])


def test_a_fields_own_filters_run_after_normalisation(app):
    with app.test_request_context(method="POST", data={"name": "  hòa "}):
        form = UpperForm(meta={"csrf": False})
        assert form.name.data == "HÒA"
