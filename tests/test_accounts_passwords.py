"""Changing a password, and resetting a forgotten one through an emailed single-use link."""

import re
import time

import pytest
from sqlalchemy import select

from shop.accounts import services
from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.notify.models import OutboxEmail
from tests.factories import create_user
from tests.helpers import CSRF_RE, page_text, post_form, sign_in

pytestmark = pytest.mark.usefixtures("fresh_throttle")

ACCOUNT = "/tai-khoan/"
CHANGE = "/tai-khoan/doi-mat-khau"
FORGOT = "/tai-khoan/quen-mat-khau"
NEW = "nước chảy đá mòn ba năm"
LINK_RE = re.compile(r"https?://\S+/tai-khoan/dat-lai-mat-khau/\S+")


def is_signed_in(client) -> bool:
    return client.get(ACCOUNT).status_code == 200


def copy_of(client):
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def login(client, email, password):
    return post_form(client, "/tai-khoan/dang-nhap", {"email": email, "password": password})


def password_is(user, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:
        return False


def mails(kind: str, to: str | None = None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
    if to:
        stmt = stmt.where(OutboxEmail.to_address == to)
    return list(db.session.scalars(stmt))


# --------------------------------------------------------------------------- change


def test_change_password_needs_the_current_one(client):
    user = create_user()
    db.session.commit()
    sign_in(client, user)
    data = {"current_password": "không-đúng-đâu", "password": NEW, "confirm": NEW}
    response = post_form(client, CHANGE, data)
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in page_text(response)
    assert password_is(user, user.password)


def test_change_password_signs_out_every_other_browser(client):
    user = create_user(name="Đỗ Văn Tâm")
    db.session.commit()
    login(client, user.email, user.password)
    thief = copy_of(client)  # same cookie, same token
    other = client.application.test_client()
    login(other, user.email, user.password)
    data = {"current_password": user.password, "password": NEW, "confirm": NEW}
    response = post_form(client, CHANGE, data)
    assert response.status_code == 302
    assert "Đã đổi mật khẩu." in page_text(client.get(ACCOUNT))
    assert is_signed_in(client)  # this browser got a new session
    assert not is_signed_in(thief)
    assert not is_signed_in(other)
    assert password_is(user, NEW) and not password_is(user, user.password)
    fresh = client.application.test_client()
    assert login(fresh, user.email, user.password).status_code == 400
    assert login(fresh, user.email, NEW).status_code == 302
    notice = mails("password_changed", user.email)
    assert len(notice) == 1 and "Xin chào Đỗ Văn Tâm," in notice[0].body
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "user.password_change", AuditEntry.target_id == user.id
        )
    )


# --------------------------------------------------------------------------- forgot


def test_forgot_password_answers_the_same_for_known_and_unknown_emails(client):
    user = create_user(email="co-that@example.com")
    db.session.commit()
    known = post_form(client, FORGOT, {"email": "co-that@example.com"})
    unknown = post_form(client, FORGOT, {"email": "khong-co@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert "Kiểm tra hộp thư" in page_text(known)
    assert page_text(known).replace("co-that", "X") == page_text(unknown).replace("khong-co", "X")
    assert len(mails("password_reset", user.email)) == 1
    assert mails("password_reset", "khong-co@example.com") == []


def test_reset_email_carries_a_link_in_both_languages(client):
    user = create_user(email="lan@example.com", name="Vũ Thị Lan")
    db.session.commit()
    post_form(client, FORGOT, {"email": "LAN@example.com"})
    (mail,) = mails("password_reset")
    assert mail.to_address == "lan@example.com"
    assert mail.subject.startswith("Đặt lại mật khẩu Chợ HTX")
    assert "Xin chào Vũ Thị Lan," in mail.body
    assert "trong vòng 60 phút" in mail.body
    assert LINK_RE.search(mail.body).group(0).startswith("http://localhost/tai-khoan/")
    assert mail.status.value == "logged"  # no SMTP in tests: written to the log and the outbox
    assert user.password not in mail.body


def test_reset_link_uses_the_configured_site_not_the_host_header(client, monkeypatch):
    create_user(email="lan@example.com")
    db.session.commit()
    monkeypatch.setitem(client.application.config, "SITE_URL", "https://cho-htx.example.vn")
    forged = {"Host": "evil.example"}
    token = CSRF_RE.search(client.get(FORGOT, headers=forged).get_data(as_text=True)).group(1)
    response = client.post(
        FORGOT, data={"email": "lan@example.com", "csrf_token": token}, headers=forged
    )
    assert response.status_code == 200
    link = LINK_RE.search(mails("password_reset")[0].body).group(0)
    assert link.startswith("https://cho-htx.example.vn/tai-khoan/dat-lai-mat-khau/")


def test_disabled_accounts_get_no_reset_email(client):
    user = create_user()
    user.is_active_account = False
    db.session.commit()
    response = post_form(client, FORGOT, {"email": user.email})
    assert response.status_code == 200
    assert mails("password_reset") == []


# --------------------------------------------------------------------------- reset


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def emailed_path(client, user) -> str:
    post_form(client, FORGOT, {"email": user.email})
    return path_of(LINK_RE.search(mails("password_reset", user.email)[-1].body).group(0))


def test_reset_link_sets_a_new_password_once(client):
    user = create_user()
    db.session.commit()
    signed_in = client.application.test_client()
    login(signed_in, user.email, user.password)
    thief = copy_of(signed_in)

    path = emailed_path(client, user)
    page = client.get(path)
    assert page.status_code == 200
    assert "Đặt mật khẩu mới" in page_text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = post_form(client, path, {"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tai-khoan/dang-nhap"
    assert "Đã đặt mật khẩu mới. Mời bạn đăng nhập." in page_text(
        client.get("/tai-khoan/dang-nhap")
    )
    assert password_is(user, NEW)
    assert not is_signed_in(signed_in) and not is_signed_in(thief)
    assert login(client, user.email, NEW).status_code == 302

    # Used: the same link no longer works, and nothing changes.
    again = client.get(path)
    assert again.status_code == 400
    assert "không đúng hoặc đã được dùng rồi" in page_text(again)
    other = "một mật khẩu hoàn toàn khác"
    response = client.post(path, data={"password": other, "confirm": other})
    assert response.status_code == 400
    assert password_is(user, NEW)


def test_expired_reset_link_is_refused(client):
    user = create_user()
    db.session.commit()
    with client.application.test_request_context():
        token = services.make_reset_token(user, issued_at=int(time.time()) - 3601)
        fresh = services.make_reset_token(user, issued_at=int(time.time()) - 3500)
    path = f"/tai-khoan/dat-lai-mat-khau/{token}"
    response = client.get(path)
    assert response.status_code == 400
    assert "đã hết hạn" in page_text(response)
    assert "Xin liên kết mới" in page_text(response)
    assert client.get(f"/tai-khoan/dat-lai-mat-khau/{fresh}").status_code == 200
    assert password_is(user, user.password)


@pytest.mark.parametrize("mangle", ["flip", "cut", "garbage", "other-secret"])
def test_tampered_reset_link_is_refused(client, mangle):
    from itsdangerous import URLSafeTimedSerializer

    user = create_user()
    db.session.commit()
    with client.application.test_request_context():
        token = services.make_reset_token(user)
    if mangle == "flip":
        # Not the last character: its low bits are base64 padding and may not change the bytes.
        i = len(token) - 10
        token = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    elif mangle == "cut":
        token = token[: len(token) // 2]
    elif mangle == "garbage":
        token = "khong-hop-le"
    else:  # a well-formed token signed with another key
        token = URLSafeTimedSerializer("not-the-key", salt=services.RESET_SALT).dumps(
            {"user": user.id, "pw": "x"}
        )
    path = f"/tai-khoan/dat-lai-mat-khau/{token}"
    assert client.get(path).status_code == 400
    fresh = client.application.test_client()
    fresh.get("/tai-khoan/quen-mat-khau")
    response = post_form(
        fresh, path, {"password": NEW, "confirm": NEW}, form_url="/tai-khoan/quen-mat-khau"
    )
    assert response.status_code == 400
    assert "Liên kết không còn dùng được" in page_text(response)
    assert password_is(user, user.password)


def test_reset_form_errors_keep_the_link_usable(client):
    user = create_user(email="binh@example.com")
    db.session.commit()
    path = emailed_path(client, user)
    response = post_form(
        client, path, {"password": "binh@example.com", "confirm": "binh@example.com"}
    )
    assert response.status_code == 400
    assert "Mật khẩu không được giống địa chỉ email." in page_text(response)
    assert password_is(user, user.password)
    assert post_form(client, path, {"password": NEW, "confirm": NEW}).status_code == 302
