"""Throttles in one process (memory://): per account, per address, sign-ups, reset emails.

The same limits across real gunicorn workers and Redis: tests/test_throttle_workers.py.
"""

import pytest
from flask_babel import force_locale, ngettext
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.extensions import db
from shop.notify.models import OutboxEmail
from tests.factories import create_user
from tests.helpers import page_text, post_form, sign_in

pytestmark = pytest.mark.usefixtures("fresh_throttle")

LOGIN = "/tai-khoan/dang-nhap"
LOCKED = "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."


def browser(app, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def login(client, email, password, url=LOGIN):
    return post_form(client, url, {"email": email, "password": password}, form_url=LOGIN)


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    user = create_user()
    db.session.commit()
    for _ in range(5):
        assert login(client, user.email, "sai-mất-rồi-nhé").status_code == 400
    response = login(client, user.email, user.password)
    assert response.status_code == 429
    assert LOCKED in page_text(response)
    assert 800 < int(response.headers["Retry-After"]) <= 900
    assert "Quên mật khẩu?" in page_text(response)
    assert client.get("/tai-khoan/").status_code == 302  # not signed in


def test_the_account_lock_holds_from_any_address(app, client):
    user = create_user()
    db.session.commit()
    for n in range(5):
        login(browser(app, f"10.0.0.{n + 1}"), user.email.upper(), "sai-mất-rồi-nhé")
    assert login(browser(app, "10.9.9.9"), user.email, user.password).status_code == 429
    # Other accounts from those addresses are fine.
    other = create_user()
    db.session.commit()
    assert login(browser(app, "10.0.0.1"), other.email, other.password).status_code == 302


def test_the_address_lock_holds_for_any_account(app, client):
    victim = create_user()
    db.session.commit()
    attacker = browser(app, "203.0.113.7")
    for n in range(5):
        assert login(attacker, f"doan-mo-{n}@example.com", "123456789x").status_code == 400
    assert login(attacker, victim.email, victim.password).status_code == 429
    assert login(browser(app, "203.0.113.8"), victim.email, victim.password).status_code == 302


def test_ipv6_addresses_are_counted_per_64(app, client):
    user = create_user()
    db.session.commit()
    for n in range(5):
        login(browser(app, f"2001:db8:1:2::{n + 1}"), f"khac-{n}@example.com", "123456789x")
    assert login(browser(app, "2001:db8:1:2::ffff"), user.email, user.password).status_code == 429
    assert login(browser(app, "2001:db8:1:3::1"), user.email, user.password).status_code == 302


def test_a_success_clears_the_account_counter(app, client):
    user = create_user()
    db.session.commit()
    for _ in range(4):
        login(browser(app, "10.1.0.1"), user.email, "sai-mất-rồi-nhé")
    assert login(browser(app, "10.1.0.2"), user.email, user.password).status_code == 302
    for _ in range(4):
        assert login(browser(app, "10.1.0.3"), user.email, "sai-lần-nữa-rồi").status_code == 400
    assert login(browser(app, "10.1.0.4"), user.email, user.password).status_code == 302


def test_successful_logins_do_not_count_against_the_address(client):
    users = [create_user() for _ in range(8)]
    db.session.commit()
    for user in users:
        fresh = client.application.test_client()
        assert login(fresh, user.email, user.password).status_code == 302


def test_wrong_current_passwords_count_like_failed_logins(client):
    user = create_user()
    db.session.commit()
    sign_in(client, user)
    new = "lúa chiêm lấp ló đầu bờ"
    for _ in range(5):
        data = {"current_password": "không-phải-đâu", "password": new, "confirm": new}
        assert post_form(client, "/tai-khoan/doi-mat-khau", data).status_code == 400
    data = {"current_password": user.password, "password": new, "confirm": new}
    assert post_form(client, "/tai-khoan/doi-mat-khau", data).status_code == 429


def test_the_lock_message_in_english(client):
    user = create_user()
    db.session.commit()
    for _ in range(5):
        login(client, user.email, "sai-mất-rồi-nhé")
    client.get("/?lang=en")
    response = login(client, user.email, user.password)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert '<html lang="en">' in body
    with client.application.test_request_context(), force_locale("en"):
        english = ngettext(
            "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau %(num)d phút.",
            "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau %(num)d phút.",
            15,
        )
    assert english in page_text(response)


def test_too_many_signups_from_one_address(app, client):
    address = "198.51.100.20"
    for n in range(10):
        data = {
            "name": f"Người thứ {n}",
            "email": f"nguoi-{n}@example.com",
            "password": "đường xa mới biết ngựa hay",
            "confirm": "đường xa mới biết ngựa hay",
        }
        assert post_form(browser(app, address), "/tai-khoan/dang-ky", data).status_code == 302
    data["email"] = "nguoi-11@example.com"
    response = post_form(browser(app, address), "/tai-khoan/dang-ky", data)
    assert response.status_code == 429
    assert "Bạn đã gửi quá nhiều yêu cầu." in page_text(response)
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.email == "nguoi-11@example.com")
        )
        == 0
    )


def test_reset_emails_per_account_are_capped_silently(app, client):
    user = create_user()
    db.session.commit()
    answers = set()
    for n in range(5):
        response = post_form(
            browser(app, f"10.2.0.{n}"), "/tai-khoan/quen-mat-khau", {"email": user.email}
        )
        assert response.status_code == 200
        answers.add(page_text(response))
    assert len(answers) == 1  # the same answer every time
    sent = select(func.count()).select_from(OutboxEmail).where(OutboxEmail.to_address == user.email)
    assert db.session.scalar(sent) == 3


def test_reset_requests_from_one_address_are_capped(app, client):
    flood = browser(app, "192.0.2.50")
    for n in range(10):
        response = post_form(flood, "/tai-khoan/quen-mat-khau", {"email": f"x{n}@example.com"})
        assert response.status_code == 200
    response = post_form(flood, "/tai-khoan/quen-mat-khau", {"email": "x11@example.com"})
    assert response.status_code == 429


def test_a_password_reset_lifts_the_account_lock(app, client):
    from shop.accounts import services

    user = create_user()
    db.session.commit()
    for _ in range(5):
        login(client, user.email, "sai-mất-rồi-nhé")
    with app.test_request_context():
        token = services.make_reset_token(user)
    new = "cày sâu cuốc bẫm mùa này"
    path = f"/tai-khoan/dat-lai-mat-khau/{token}"
    assert post_form(client, path, {"password": new, "confirm": new}).status_code == 302
    assert login(browser(app, "10.3.0.1"), user.email, new).status_code == 302
