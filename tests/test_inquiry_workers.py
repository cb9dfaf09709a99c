"""The inquiry send limits hold across gunicorn worker processes that share one Redis.

Issue 8: "rate limits per IP and per email (Redis when configured)". Two real sync workers serve
the demo data with REDIS_URL set, behind one trusted proxy (the client's address comes from
X-Forwarded-For, as behind nginx). Each send is a new browser on new connections: a product
page, adding to the list, the send form, the send. Sends go two at a time so that both workers
answer some; the access log names the worker of every answer. Past the limit the answer is 429
from whichever worker takes it, and nothing more is written.
"""

import html
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import create_engine, text

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ONCE_RE = re.compile(r'name="once" value="([^"]+)"')
PRODUCT_RE = re.compile(r'name="product" value="(\d+)"')
RICE = "/san-pham/gao-tam-xoan-dong-chiem"
SEND = "/yeu-cau-bao-gia/gui"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def send_once(server, address: str, email: str) -> tuple[int, str]:
    """A new browser at `address` adds the rice and sends its list: (status, page text)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    headers = {"X-Forwarded-For": address}

    def call(path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(server.url + path, data=body, headers=headers)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    status, page = call(RICE)
    assert status == 200, page[:500]
    token, product = CSRF_RE.search(page).group(1), PRODUCT_RE.search(page).group(1)
    status, page = call(
        "/yeu-cau-bao-gia/them", {"csrf_token": token, "product": product, "quantity": "20"}
    )
    assert status == 302, page[:500]
    status, page = call(SEND)
    assert status == 200, page[:500]
    form = {
        "csrf_token": CSRF_RE.search(page).group(1),
        "once": ONCE_RE.search(page).group(1),
        "name": "Nguyễn Thị Lan",
        "phone": "0912 345 678",
        "email": email,
        "buyer_type": "shop",
        "preferred_contact": "phone",
        "message": "Cho xin giá sỉ.",
    }
    status, page = call(SEND, form)
    return status, html.unescape(re.sub(r"<[^>]+>", " ", page))


def in_pairs(calls) -> list[tuple[int, str]]:
    """Run the calls two at a time (a sync worker serves one request at a time)."""
    results = []
    for start in range(0, len(calls), 2):
        pair = calls[start : start + 2]
        threads = [threading.Thread(target=lambda c=c: results.append(c())) for c in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results


def send_posts(server, expected: int) -> list[tuple[int, int]]:
    """(worker pid, status) of each send POST, once `expected` of them are in the log."""
    deadline = time.monotonic() + 10
    while True:
        posts = [
            (pid, status)
            for pid, request, status in server.access_lines()
            if request.startswith(f"POST {SEND} ")
        ]
        if len(posts) >= expected or time.monotonic() > deadline:
            return posts
        time.sleep(0.05)


def inquiries(server) -> int:
    url = server.env["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM inquiry")).scalar_one()
    finally:
        engine.dispose()


def test_send_limits_per_address_and_per_email_are_shared_by_two_workers(gunicorn_app):
    server = gunicorn_app(workers=2, SHOP_TRUSTED_PROXIES="1")
    server.flask("data", "demo")
    workers = server.worker_pids()
    assert len(workers) == 2
    before = inquiries(server)

    # Per address: five sends an hour from 203.0.113.50 (each with its own email) ...
    results = in_pairs(
        [
            lambda n=n: send_once(server, "203.0.113.50", f"dia-chi-{n}@example.com")
            for n in range(5)
        ]
    )
    assert [status for status, _ in results] == [302] * 5
    # ... the sixth is refused, by whichever worker takes it; another address still sends.
    status, page = send_once(server, "203.0.113.50", "dia-chi-6@example.com")
    assert status == 429
    assert "Bạn đã gửi nhiều yêu cầu báo giá trong thời gian ngắn" in page
    assert "Yêu cầu chưa được gửi đi" in page
    assert inquiries(server) == before + 5

    # Per email: ten sends a day from ten addresses; the eleventh, from a fresh one, is refused.
    results = in_pairs(
        [
            lambda n=n: send_once(server, f"198.51.100.{n + 1}", "cung-email@example.com")
            for n in range(10)
        ]
    )
    assert [status for status, _ in results] == [302] * 10
    status, page = send_once(server, "192.0.2.77", "CUNG-EMAIL@example.com")
    assert status == 429
    assert "Vui lòng thử lại sau" in page and "giờ" in page
    assert inquiries(server) == before + 15

    answers = send_posts(server, expected=17)
    print("send POSTs (worker pid, status):", answers)
    assert sorted(status for _, status in answers) == [302] * 15 + [429] * 2
    assert {pid for pid, status in answers if status == 302} == workers, "both workers sent"
