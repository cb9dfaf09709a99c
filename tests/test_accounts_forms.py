"""Bad input on every account form: a 400 with the message beside the field, nothing written.

Text arrives NFC-normalised; names are shown literally (HTML and template syntax included);
emoji survive; what was typed is shown again, except passwords.
"""

import re
import unicodedata

import pytest
from sqlalchemy import func, select

from shop.accounts import passwords
from shop.accounts.models import User
from shop.extensions import db
from tests.factories import create_user
from tests.helpers import page_text, post_form, sign_in

pytestmark = pytest.mark.usefixtures("fresh_throttle")

SIGNUP = "/tai-khoan/dang-ky"
GOOD = "trâu ơi ta bảo trâu này"


def signup(client, **values):
    data = {"name": "Phạm Văn Đức", "email": "duc@example.com", "password": GOOD, "confirm": GOOD}
    return post_form(client, SIGNUP, {**data, **values})


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def error_beside(response, field: str) -> list[str]:
    """The error messages shown inside the field block of input `field`."""
    body = response.get_data(as_text=True)
    block = re.search(
        rf'<div class="field field-invalid">\s*<label for="{field}">.*?</div>', body, re.S
    )
    assert block, f"no error shown beside {field}"
    return [
        re.sub(r"<[^>]+>|⚠", "", m).strip()
        for m in re.findall(r'class="field-error"[^>]*>(.*?)</p>', block.group(0), re.S)
    ]


def password_is(user, password: str) -> bool:
    """Whether `password` is the one stored for `user` (argon2 reads its cost from the hash)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:
        return False


def input_value(response, field: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{field}"[^>]*>', response.get_data(as_text=True))
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"name": ""}, "name", "Vui lòng nhập họ và tên."),
        ({"name": "   "}, "name", "Vui lòng nhập họ và tên."),
        ({"name": "Đ" * 121}, "name", "Họ và tên dài quá 120 ký tự."),
        ({"name": "Nam\x00Bộ"}, "name", "Họ và tên có ký tự không hợp lệ."),
        ({"email": ""}, "email", "Vui lòng nhập email."),
        ({"email": "a" * 64 + "@" + "b" * 187 + ".vn"}, "email", "Email dài quá 254 ký tự."),
        ({"email": "duc"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        ({"email": "duc@example"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        ({"email": "duc@@example.com"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        ({"email": "đức văn@example.com"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        ({"email": "duc@example..com"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        ({"email": "<b>@example.com"}, "email", "Email chưa đúng dạng, ví dụ: ten@gmail.com."),
        (
            {"password": "ngắn-quá", "confirm": "ngắn-quá"},
            "password",
            "Mật khẩu cần ít nhất 10 ký tự.",
        ),
        ({"password": "x" * 129, "confirm": "x" * 129}, "password", "Mật khẩu dài quá 128 ký tự."),
        ({"password": "Password123", "confirm": "Password123"}, "password", "quá phổ biến"),
        ({"password": "MậtKhẩu123456", "confirm": "MậtKhẩu123456"}, "password", "quá phổ biến"),
        ({"password": "anhyeuem123", "confirm": "anhyeuem123"}, "password", "quá phổ biến"),
        ({"password": "QWERTYUIOP", "confirm": "QWERTYUIOP"}, "password", "quá phổ biến"),
        (
            {
                "email": "nguyenvanduc@example.com",
                "password": "NguyenVanDuc",
                "confirm": "NguyenVanDuc",
            },
            "password",
            "Mật khẩu không được giống địa chỉ email.",
        ),
        (
            {
                "email": "duc.pv@example.vn",
                "password": "duc.pv@example.vn",
                "confirm": "duc.pv@example.vn",
            },
            "password",
            "Mật khẩu không được giống địa chỉ email.",
        ),
        ({"confirm": GOOD + "!"}, "confirm", "Hai mật khẩu chưa khớp nhau."),
        ({"confirm": ""}, "confirm", "Vui lòng nhập lại mật khẩu."),
    ],
)
def test_signup_refuses_bad_input_beside_the_field(client, values, field, message):
    before = users()
    response = signup(client, **values)
    assert response.status_code == 400
    assert any(message in error for error in error_beside(response, field))
    assert users() == before
    # What was typed stays, except the passwords.
    assert input_value(response, "password") in (None, "")
    assert input_value(response, "confirm") in (None, "")
    if field != "email" and "email" not in values:
        assert input_value(response, "email") == "duc@example.com"


def test_errors_are_tied_to_their_input_for_screen_readers(client):
    response = signup(client, email="duc")
    tag = re.search(r'<input[^>]*name="email"[^>]*>', response.get_data(as_text=True)).group(0)
    assert 'aria-invalid="true"' in tag
    assert re.search(r'aria-describedby="[^"]*\bemail-error-1\b', tag)
    assert 'id="email-error-1"' in response.get_data(as_text=True)


def test_decomposed_text_is_stored_composed(client):
    name = unicodedata.normalize("NFD", "Nguyễn Thị Hường")
    email = unicodedata.normalize("NFD", "Hường@Example.com")
    assert signup(client, name=name, email=email).status_code == 302
    user = db.session.scalar(select(User).order_by(User.id.desc()))
    assert user.name == "Nguyễn Thị Hường" and unicodedata.is_normalized("NFC", user.name)
    assert user.email == "hường@example.com" and unicodedata.is_normalized("NFC", user.email)


def test_a_password_typed_decomposed_still_signs_in(client):
    password = "mưa phùn gió bấc tháng chạp"
    signup(client, password=unicodedata.normalize("NFD", password), confirm=password)
    post_form(client, "/tai-khoan/dang-xuat", form_url="/tai-khoan/")
    response = post_form(
        client, "/tai-khoan/dang-nhap", {"email": "duc@example.com", "password": password}
    )
    assert response.status_code == 302


def test_html_and_template_syntax_in_a_name_are_shown_literally(client):
    name = '<script>alert("x")</script> {{ 7*7 }} {% if 1 %}'
    assert signup(client, name=name).status_code == 302
    response = client.get("/tai-khoan/")
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; {{ 7*7 }} {% if 1 %}" in body
    assert "49" not in page_text(response)


def test_emoji_in_a_name_stay_intact(client):
    name = "Cô Ba 👩‍🌾 bán 🍊"  # a ZWJ sequence and a plain emoji
    assert signup(client, name=name).status_code == 302
    assert db.session.scalar(select(User.name).where(User.email == "duc@example.com")) == name
    assert name in page_text(client.get("/tai-khoan/"))


def test_a_refused_form_keeps_an_awkward_name_as_typed(client):
    name = 'Bà "Tư" <Chè> & con 🌿'
    response = signup(client, name=name, email="sai")
    assert response.status_code == 400
    assert input_value(response, "name") == "Bà &#34;Tư&#34; &lt;Chè&gt; &amp; con 🌿"


# --------------------------------------------------------------------------- other forms


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"current_password": ""}, "current_password", "Vui lòng nhập mật khẩu hiện tại."),
        ({"password": "ngắn", "confirm": "ngắn"}, "password", "Mật khẩu cần ít nhất 10 ký tự."),
        ({"password": "iloveyou123", "confirm": "iloveyou123"}, "password", "quá phổ biến"),
        ({"confirm": "khác hẳn rồi nhé"}, "confirm", "Hai mật khẩu chưa khớp nhau."),
        ({"password": "x" * 500, "confirm": "x" * 500}, "password", "Mật khẩu dài quá 128 ký tự."),
    ],
)
def test_change_password_refuses_bad_input(client, values, field, message):
    user = create_user()
    db.session.commit()
    sign_in(client, user)
    data = {"current_password": user.password, "password": GOOD, "confirm": GOOD, **values}
    response = post_form(client, "/tai-khoan/doi-mat-khau", data)
    assert response.status_code == 400
    assert any(message in error for error in error_beside(response, field))
    assert password_is(user, user.password)


def test_new_password_must_differ_from_the_current_one(client):
    user = create_user(password="mật khẩu cũ vẫn tốt")
    db.session.commit()
    sign_in(client, user)
    data = {"current_password": user.password, "password": user.password, "confirm": user.password}
    response = post_form(client, "/tai-khoan/doi-mat-khau", data)
    assert response.status_code == 400
    assert "Mật khẩu mới phải khác mật khẩu hiện tại." in error_beside(response, "password")


@pytest.mark.parametrize("email", ["", "không có a còng", "x" * 250 + "@a.vn"])
def test_forgot_password_refuses_a_malformed_email(client, email):
    response = post_form(client, "/tai-khoan/quen-mat-khau", {"email": email})
    assert response.status_code == 400
    assert error_beside(response, "email")


def test_common_password_list_is_substantial_and_folded():
    with_app = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    entries = [line for line in with_app if line and not line.startswith("#")]
    assert len(entries) >= 300
    for expected in ("123456", "password", "qwerty", "matkhau", "anhyeuem", "iloveyou", "123456a@"):
        assert expected in entries
    assert passwords.is_common("VIỆTNAM123")  # folded: case and marks ignored
    assert passwords.is_common("Mật Khẩu 123".replace(" ", ""))
    assert not passwords.is_common(GOOD)
