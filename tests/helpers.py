"""Helpers for request tests: CSRF-carrying form posts and signing in."""

import re

from flask import session

from shop.accounts import sessions
from shop.extensions import db

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/tai-khoan/dang-nhap") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token in the form of {url} ({response.status_code})"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, *, form_url: str | None = None, **kwargs):
    """POST `data` to `url` with the CSRF token of the page at `form_url` (default `url`)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def sign_in(client, user) -> None:
    """Sign `user` in on `client` without the login form (a real server-side session)."""
    with client.application.test_request_context():
        sessions.begin(user)
        db.session.commit()
        values = dict(session)
    with client.session_transaction() as browser_session:
        browser_session.clear()
        browser_session.update(values)


def page_text(response) -> str:
    """The response body with tags stripped and spaces collapsed (what a reader sees)."""
    text = re.sub(
        r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S
    )
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&nbsp;", " ").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()
