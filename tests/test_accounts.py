"""Signing in and out, signing up, the account page, sessions, cookies and CSRF."""

import re

import pytest
from sqlalchemy import func, select, update

from shop import create_app
from shop.accounts.models import AuthSession, Role, User
from shop.audit.models import AuditEntry
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.extensions import db
from shop.notify.models import OutboxEmail
from tests.factories import create_user
from tests.helpers import csrf_token, page_text, post_form, sign_in

pytestmark = pytest.mark.usefixtures("fresh_throttle")

LOGIN = "/tai-khoan/dang-nhap"
SIGNUP = "/tai-khoan/dang-ky"
ACCOUNT = "/tai-khoan/"
NEW_PASSWORD = "trâu ơi ta bảo trâu này"


def login(client, email, password, url=LOGIN):
    return post_form(client, url, {"email": email, "password": password}, form_url=LOGIN)


def is_signed_in(client) -> bool:
    return client.get(ACCOUNT).status_code == 200


def copy_of(client):
    """A second browser holding a copy of `client`'s session cookie (a stolen cookie)."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def verified_cooperative():
    return db.session.scalar(
        select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.VERIFIED)
        .order_by(Cooperative.slug)
    )


# --------------------------------------------------------------------------- login


def test_login_page_has_labelled_fields_and_a_button(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(r'<label for="email">Email</label>', body)
    assert re.search(r'<label for="password">Mật khẩu</label>', body)
    assert re.search(r'<input[^>]+name="email"[^>]+type="email"', body)
    assert '<button type="submit" class="button button-primary">Đăng nhập</button>' in body
    assert "Quên mật khẩu?" in page_text(response)


@pytest.mark.parametrize(
    "role, landing",
    [
        (Role.BUYER, "/"),
        (Role.MEMBER, "/quan-ly-htx/"),
        (Role.STAFF, "/quan-tri/"),
        (Role.ADMIN, "/quan-tri/"),
    ],
)
def test_login_signs_in_and_lands_where_the_role_works(client, role, landing):
    coop = verified_cooperative() if role == Role.MEMBER else None
    user = create_user(role, cooperative=coop, name="Nguyễn Thị Hoa")
    db.session.commit()
    response = login(client, user.email, user.password)
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert "Nguyễn Thị Hoa" in page_text(client.get(ACCOUNT))
    assert db.session.scalar(select(User.last_login_at).where(User.id == user.id)) is not None


@pytest.mark.parametrize("target", ["/san-pham?sector=nong-nghiep", "/htx"])
def test_login_returns_to_a_local_next(client, target):
    user = create_user()
    db.session.commit()
    response = login(client, user.email, user.password, url=f"{LOGIN}?next={target}")
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_login_ignores_a_next_that_leaves_the_site(client, target):
    user = create_user()
    db.session.commit()
    token = csrf_token(client)
    response = client.post(
        LOGIN,
        query_string={"next": target},
        data={"csrf_token": token, "email": user.email, "password": user.password},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_protected_page_sends_to_login_and_back(client):
    user = create_user()
    db.session.commit()
    response = client.get("/tai-khoan/doi-mat-khau")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{LOGIN}?next=")
    page = client.get(response.headers["Location"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    action = re.search(
        r'<form class="form-card" method="post" action="([^"]+)"', page.get_data(as_text=True)
    )
    response = client.post(
        action.group(1).replace("&amp;", "&"),
        data={"csrf_token": token.group(1), "email": user.email, "password": user.password},
    )
    assert response.headers["Location"] == "/tai-khoan/doi-mat-khau"


def test_login_email_ignores_case_spaces_and_unicode_form(client):
    user = create_user(email="hoà.bình@example.com")
    db.session.commit()
    typed = "  HOA\u0300.BÌNH@Example.COM "  # decomposed "à", capitals, spaces
    response = login(client, typed, user.password)
    assert response.status_code == 302


def test_login_failure_says_the_same_for_unknown_and_known_emails(client):
    user = create_user(email="co-that@example.com")
    db.session.commit()
    known = login(client, "co-that@example.com", "không-phải-mật-khẩu")
    unknown = login(client, "khong-co@example.com", "không-phải-mật-khẩu")
    assert known.status_code == unknown.status_code == 400
    assert "Email hoặc mật khẩu không đúng." in page_text(known)
    assert page_text(known).replace("co-that", "X") == page_text(unknown).replace("khong-co", "X")
    assert not is_signed_in(client)
    assert user.password not in known.get_data(as_text=True)


def test_failed_login_keeps_the_email_but_not_the_password(client):
    response = login(client, "lan@example.com", "một-mật-khẩu-sai")
    body = response.get_data(as_text=True)
    assert 'value="lan@example.com"' in body
    assert "một-mật-khẩu-sai" not in body


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "", "password": "x" * 12}, "Vui lòng nhập email."),
        ({"email": "lan@example.com", "password": ""}, "Vui lòng nhập mật khẩu."),
        ({"email": "không-phải-email", "password": "x" * 12}, "Email chưa đúng dạng"),
        ({"email": "lan@example.com", "password": "x" * 129}, "Mật khẩu dài quá 128 ký tự."),
    ],
)
def test_login_form_errors_sit_next_to_the_field(client, data, message):
    response = post_form(client, LOGIN, data)
    assert response.status_code == 400
    assert message in page_text(response)
    assert re.search(
        r'class="field-error"[^>]*>.*?' + re.escape(message), response.get_data(as_text=True)
    )


def test_disabled_account_cannot_sign_in(client):
    user = create_user()
    user.is_active_account = False
    db.session.commit()
    response = login(client, user.email, user.password)
    assert response.status_code == 403
    assert "Tài khoản này đã bị khóa" in page_text(response)
    assert not is_signed_in(client)
    wrong = login(client, user.email, "không-phải-mật-khẩu")  # reveals nothing without it
    assert "Email hoặc mật khẩu không đúng." in page_text(wrong)


def test_old_argon2_parameters_are_upgraded_at_login(client):
    from argon2 import PasswordHasher

    user = create_user()
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(
        user.password
    )
    db.session.commit()
    assert login(client, user.email, user.password).status_code == 302
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


# --------------------------------------------------------------------------- logout, sessions


def test_logout_is_a_post_and_kills_a_copied_cookie(client):
    user = create_user()
    db.session.commit()
    login(client, user.email, user.password)
    thief = copy_of(client)
    assert is_signed_in(thief)
    assert client.get("/tai-khoan/dang-xuat").status_code == 405
    assert is_signed_in(client)
    response = post_form(client, "/tai-khoan/dang-xuat", form_url=ACCOUNT)
    assert response.status_code == 302
    assert "Bạn đã đăng xuất." in page_text(client.get("/"))
    assert not is_signed_in(client)
    assert not is_signed_in(thief)


def test_logout_everywhere_signs_out_every_browser(client):
    user = create_user()
    db.session.commit()
    other = client.application.test_client()
    login(client, user.email, user.password)
    login(other, user.email, user.password)
    thief = copy_of(client)
    response = post_form(client, "/tai-khoan/dang-xuat-moi-noi", form_url=ACCOUNT)
    assert response.status_code == 302
    assert not any(is_signed_in(c) for c in (client, other, thief))
    live = select(func.count()).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    assert db.session.scalar(live) == 0


def test_disabling_an_account_kills_its_sessions(client):
    from shop.accounts import services

    user = create_user()
    db.session.commit()
    login(client, user.email, user.password)
    thief = copy_of(client)
    with client.application.app_context():
        services.set_active(None, db.session.get(User, user.id), False)
        db.session.commit()
    assert not is_signed_in(client)
    assert not is_signed_in(thief)


def test_a_session_expires_after_its_lifetime(client):
    user = create_user()
    db.session.commit()
    login(client, user.email, user.password)
    lifetime = client.application.config["AUTH_SESSION_LIFETIME"]
    created = db.session.scalar(
        select(AuthSession.created_at).where(AuthSession.user_id == user.id)
    )
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id)
        .values(created_at=created - lifetime)
    )
    db.session.commit()
    assert not is_signed_in(client)


def test_signing_in_keeps_the_chosen_language(client):
    user = create_user()
    db.session.commit()
    client.get("/?lang=en")
    login(client, user.email, user.password)
    assert '<html lang="en">' in client.get(ACCOUNT).get_data(as_text=True)


# --------------------------------------------------------------------------- cookies


def test_session_cookie_is_httponly_and_samesite_lax(client):
    user = create_user()
    db.session.commit()
    response = login(client, user.email, user.password)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # plain http in development and tests


def test_session_cookie_is_secure_in_production(monkeypatch):
    from config import ProductionConfig

    class Prod(ProductionConfig):
        SECRET_KEY = "p" * 40
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    monkeypatch.setenv("SHOP_ALLOW_SQLITE", "1")
    response = create_app(Prod).test_client().get(LOGIN)  # the CSRF token opens a session
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session=")
    )
    parts = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= parts
    assert not any(part.startswith("domain=") for part in parts)


# --------------------------------------------------------------------------- sign up


def signup(client, **values):
    data = {
        "name": "Trần Văn Nam",
        "email": "nam@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        **values,
    }
    return post_form(client, SIGNUP, data)


def test_signup_makes_a_signed_in_buyer(client):
    response = signup(client, email="Nam.Tran@Example.COM")
    assert response.status_code == 302
    assert response.headers["Location"] == ACCOUNT
    page = page_text(client.get(ACCOUNT))
    assert "Chào mừng Trần Văn Nam!" in page
    assert "nam.tran@example.com" in page
    user = db.session.scalar(select(User).where(User.email == "nam.tran@example.com"))
    assert user.role == Role.BUYER
    assert user.password_hash.startswith("$argon2id$")
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "user.signup", AuditEntry.target_id == user.id
        )
    )


def test_signup_with_a_taken_email_writes_nothing(client):
    create_user(email="nam@example.com")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(User))
    response = signup(client, email="NAM@example.com", name="Người khác")
    assert response.status_code == 400
    assert "Email này đã có tài khoản." in page_text(response)
    assert 'value="Người khác"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert not is_signed_in(client)


# --------------------------------------------------------------------------- account page


def test_account_page_shows_name_email_role_and_links(client):
    user = create_user(name="Lê Thị Mai", email="mai@example.com")
    db.session.commit()
    sign_in(client, user)
    response = client.get(ACCOUNT)
    text = page_text(response)
    for expected in ("Lê Thị Mai", "mai@example.com", "Người mua", "Đổi mật khẩu"):
        assert expected in text
    body = response.get_data(as_text=True)
    assert (
        '<a class="button button-primary" href="/tai-khoan/dang-ky-htx">Đăng ký hợp tác xã</a>'
        in body
    )
    assert 'href="/tai-khoan/doi-mat-khau"' in body


@pytest.mark.parametrize(
    "role, label",
    [
        (Role.MEMBER, "Thành viên hợp tác xã"),
        (Role.STAFF, "Cán bộ Liên minh HTX"),
        (Role.ADMIN, "Quản trị viên"),
    ],
)
def test_account_page_of_members_and_staff_has_no_cooperative_signup(client, role, label):
    user = create_user(role, cooperative=verified_cooperative() if role == Role.MEMBER else None)
    db.session.commit()
    sign_in(client, user)
    response = client.get(ACCOUNT)
    assert label in page_text(response)
    assert "/tai-khoan/dang-ky-htx" not in response.get_data(as_text=True)


def test_account_page_needs_sign_in(client):
    response = client.get(ACCOUNT)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN)


# --------------------------------------------------------------------------- CSRF and GET


#: Every POST route of the accounts domain, with data that would succeed with a token.
POSTS = {
    "/tai-khoan/dang-nhap": "login",
    "/tai-khoan/dang-xuat": "logout",
    "/tai-khoan/dang-ky": "signup",
    "/tai-khoan/quen-mat-khau": "forgot",
    "/tai-khoan/dat-lai-mat-khau/<token>": "reset",
    "/tai-khoan/doi-mat-khau": "change",
    "/tai-khoan/dang-xuat-moi-noi": "logout_everywhere",
}


def snapshot(user):
    """What a state change would touch: rows per table, the password, live sessions."""
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(OutboxEmail)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
        db.session.scalar(select(func.count()).select_from(AuthSession)),
        db.session.scalar(
            select(func.count()).where(
                AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
            )
        ),
        db.session.scalar(select(User.password_hash).where(User.id == user.id)),
    )


def test_the_csrf_test_covers_every_post_route_of_accounts(app):
    mine = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("auth", "account") and "POST" in rule.methods
    }
    assert mine == set(POSTS)


@pytest.mark.parametrize("path", sorted(POSTS))
def test_post_without_csrf_token_is_refused_and_changes_nothing(client, path):
    from shop.accounts import services

    user = create_user(email="csrf@example.com")
    db.session.commit()
    with client.application.test_request_context():
        token = services.make_reset_token(user)
    sign_in(client, user)
    url = path.replace("<token>", token)
    data = {
        "email": "csrf@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "current_password": user.password,
        "name": "Kẻ giả mạo",
    }
    if POSTS[path] == "signup":
        data["email"] = "moi-toanh@example.com"
    before = snapshot(user)
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert snapshot(user) == before
    assert is_signed_in(client)


def test_get_requests_change_nothing(client):
    from shop.accounts import services

    user = create_user()
    db.session.commit()
    with client.application.test_request_context():
        token = services.make_reset_token(user)
    anonymous = client.application.test_client()
    sign_in(client, user)
    before = snapshot(user)
    for path in POSTS:
        url = path.replace("<token>", token)
        for browser in (client, anonymous):
            assert browser.get(url).status_code in (200, 302, 405)
    assert client.get(ACCOUNT).status_code == 200
    assert snapshot(user) == before
    assert is_signed_in(client)
