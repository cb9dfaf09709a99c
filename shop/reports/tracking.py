"""Count what visitors do on public pages, once the page has been sent.

The count runs when the server closes the response (WSGI `close()`), after the body has gone
out, in an application context and a transaction of its own. A slow or locked database can
then neither delay the page nor turn it into an error: the page's reads are long finished,
and SQLite never has to upgrade a read transaction to a write one mid-request.
"""

import re

from flask import after_this_request, current_app, request

from shop import clock
from shop.reports import services

#: User agents that announce a robot, a link preview or a script; their visits are not counted.
BOT_RE = re.compile(
    r"bot\b|bot/|spider|crawl|slurp|facebookexternalhit|preview|curl/|wget/|python-|"
    r"go-http-client|java/|httpclient|okhttp|headlesschrome|lighthouse|monitor",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or BOT_RE.search(user_agent) is not None


def count_view(kind: str, subject_id: int, wait_ms: int | None = None) -> None:
    """Count this request as a view of `subject_id` after the response, if a person asked for it.

    `wait_ms`: how long the count may wait for a busy database (services.count_quietly).
    """
    if request.method != "GET" or is_bot(request.headers.get("User-Agent")):
        return
    app = current_app._get_current_object()
    day = clock.today()

    def run() -> None:
        with app.app_context():
            services.count_quietly(kind, subject_id, day=day, wait_ms=wait_ms)

    @after_this_request
    def schedule(response):
        response.call_on_close(run)
        return response


def count_now(kind: str, subject_id: int, wait_ms: int | None = None) -> None:
    """Count this request in a short transaction of its own before answering, if a person asked.

    For the few counts that must not be lost to a busy moment (a QR code scanned at the fair,
    answered by a redirect that reads nothing more): the count commits before the redirect
    goes out, so the next page the visitor opens already sees it. Still never an error page.
    """
    if request.method != "GET" or is_bot(request.headers.get("User-Agent")):
        return
    services.count_quietly(kind, subject_id, wait_ms=wait_ms)
