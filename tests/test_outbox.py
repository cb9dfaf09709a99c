"""The admins' outbox (/quan-tri/thu-di): newest first, paginated, bodies readable and safe."""

import re
from datetime import timedelta

import pytest

from shop.accounts.models import Role
from shop.db import utcnow
from shop.extensions import db
from shop.notify.models import EmailStatus, OutboxEmail
from tests.factories import create_user
from tests.helpers import page_text, post_form, sign_in

OUTBOX = "/quan-tri/thu-di"


def add_mail(n: int, **values) -> OutboxEmail:
    mail = OutboxEmail(
        to_address=values.pop("to_address", f"nguoi-nhan-{n}@example.com"),
        subject=values.pop("subject", f"Thư số {n}"),
        body=values.pop("body", f"Nội dung thư số {n}."),
        kind=values.pop("kind", "invitation"),
        status=values.pop("status", EmailStatus.LOGGED),
        created_at=utcnow() - timedelta(minutes=100 - n),
        **values,
    )
    db.session.add(mail)
    return mail


@pytest.fixture
def admin_client(client):
    sign_in(client, create_user(Role.ADMIN))
    return client


def subjects(response) -> list[str]:
    return re.findall(
        r'<h2 id="mail-\d+" class="card-title">(.*?)</h2>', response.get_data(as_text=True)
    )


def test_outbox_lists_newest_first_with_every_detail(admin_client):
    add_mail(
        1,
        kind="password_reset",
        to_address="lan@example.com",
        subject="Đặt lại mật khẩu",
        body="Mở liên kết:\n\nhttp://localhost/tai-khoan/dat-lai-mat-khau/abc.def\n\nHết.",
    )
    add_mail(2, kind="invitation", status=EmailStatus.FAILED, last_error="Connection refused")
    db.session.commit()
    response = admin_client.get(OUTBOX)
    assert response.status_code == 200
    assert subjects(response)[:2] == ["Thư số 2", "Đặt lại mật khẩu"]
    text = page_text(response)
    for expected in (
        "lan@example.com",
        "password_reset",
        "invitation",
        "Gửi không được",
        "Connection refused",
        "Chỉ ghi lại (chưa có SMTP)",
        "Mở liên kết:",
    ):
        assert expected in text
    # The link in the body can be clicked.
    assert (
        '<a href="http://localhost/tai-khoan/dat-lai-mat-khau/abc.def" rel="noopener noreferrer">'
        in response.get_data(as_text=True)
    )


def test_outbox_bodies_are_shown_as_text_not_html(admin_client):
    add_mail(1, subject="<i>Tiêu đề</i>", body='<script>alert("x")</script> {{ 7*7 }}')
    db.session.commit()
    body = admin_client.get(OUTBOX).get_data(as_text=True)
    assert "<script>alert" not in body and "<i>Tiêu đề</i>" not in body
    assert "&lt;script&gt;" in body and "{{ 7*7 }}" in body


def test_outbox_is_paginated(admin_client):
    for n in range(25):
        add_mail(n)
    db.session.commit()
    first = admin_client.get(OUTBOX)
    assert subjects(first)[0] == "Thư số 24"
    assert len(subjects(first)) == 20
    assert "Trang 1 / 2" in page_text(first)
    second = admin_client.get(f"{OUTBOX}?page=2")
    assert subjects(second)[-1] == "Thư số 0"
    assert admin_client.get(f"{OUTBOX}?page=3").status_code == 404
    assert admin_client.get(f"{OUTBOX}?page=abc").status_code == 404


@pytest.mark.parametrize("role, status", [(Role.BUYER, 403), (Role.STAFF, 403)])
def test_outbox_is_for_admins_only(client, role, status):
    sign_in(client, create_user(role))
    assert client.get(OUTBOX).status_code == status


def test_outbox_sends_anonymous_visitors_to_login(client):
    response = client.get(OUTBOX)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/tai-khoan/dang-nhap?next=")


@pytest.mark.usefixtures("fresh_throttle")
def test_a_developer_without_smtp_resets_a_password_from_the_outbox(app, admin_client):
    user = create_user(email="quen@example.com")
    db.session.commit()
    visitor = app.test_client()
    post_form(visitor, "/tai-khoan/quen-mat-khau", {"email": "quen@example.com"})
    page = admin_client.get(OUTBOX).get_data(as_text=True)
    link = re.search(r'<a href="http://localhost(/tai-khoan/dat-lai-mat-khau/[^"]+)"', page).group(
        1
    )
    new = "hoa thơm bướm lượn quanh vườn"
    assert post_form(visitor, link, {"password": new, "confirm": new}).status_code == 302
    response = post_form(visitor, "/tai-khoan/dang-nhap", {"email": user.email, "password": new})
    assert response.status_code == 302
