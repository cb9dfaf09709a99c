"""Login throttling holds across gunicorn worker processes that share one Redis.

Two real sync workers serve the app; failed logins come over fresh connections (each a new
"browser": a GET for the CSRF token, then the POST). The access log names the worker pid of
every answer, so the test shows that both workers took failures and still counted together.
"""

import html
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "gió-mùa-đông-bắc-về"
LOGIN = "/tai-khoan/dang-nhap"


def attempt(server, email: str, password: str) -> tuple[int, str]:
    """One login by a new browser on new connections: (status, page text)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(server.url + LOGIN, timeout=30).read().decode()
    token = CSRF_RE.search(page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    request = urllib.request.Request(server.url + LOGIN, data=data.encode(), method="POST")
    # Keep the 302 of a successful login as the answer instead of following it.
    opener.add_handler(NoRedirect())
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, html.unescape(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, html.unescape(error.read().decode())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def concurrently(n: int, call) -> list:
    results = []
    threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def login_posts(server, expected: int) -> list[tuple[int, int]]:
    """(worker pid, status) of each login POST, once `expected` of them are in the log."""
    deadline = time.monotonic() + 10
    while True:
        posts = [
            (pid, status)
            for pid, request, status in server.access_lines()
            if request.startswith(f"POST {LOGIN}")
        ]
        if len(posts) >= expected or time.monotonic() > deadline:
            return posts
        time.sleep(0.05)


def test_five_failures_lock_the_account_across_two_workers(gunicorn_app):
    server = gunicorn_app(workers=2)
    server.flask(
        "users", "create", "lan@example.com", "--role", "buyer", SHOP_USER_PASSWORD=PASSWORD
    )
    workers = server.worker_pids()
    assert len(workers) == 2

    # Failures 1-4 in two concurrent pairs: a sync worker serves one request at a time, so
    # while one checks a password the other must take the second request.
    for _pair in range(2):
        results = concurrently(2, lambda: attempt(server, "lan@example.com", "sai-mật-khẩu-rồi"))
        assert [status for status, _ in results] == [400, 400]
        assert all("Email hoặc mật khẩu không đúng." in text for _, text in results)
    status, text = attempt(server, "LAN@example.com", "vẫn-sai-mật-khẩu")  # the 5th
    assert status == 400

    status, text = attempt(server, "lan@example.com", "lần-thứ-sáu-sai")  # the 6th
    assert status == 429
    assert "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút." in text
    # Locked means locked: the right password is refused too, by whichever worker answers.
    status, text = attempt(server, "lan@example.com", PASSWORD)
    assert status == 429

    answers = login_posts(server, expected=7)
    print("login POSTs (worker pid, status):", answers)
    assert [status for _, status in answers] == [400] * 5 + [429, 429]
    assert {pid for pid, _ in answers[:5]} == workers, "both workers answered failures"
