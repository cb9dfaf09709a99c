"""The load run's CI version (issue 9, item 6): 60 seconds of buyers, not one error.

The same locustfile and runner as `make load` (bench/load/), on a smaller dataset (2,000
products of the catalogue benchmark's generator) so that generating it stays short: gunicorn
workers on PostgreSQL with Redis, buyers browsing, searching, opening products and
cooperatives, adding to the inquiry list and sending it.
"""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from tests.pg import Server
from tests.workers import GunicornServer

RUNNER = Path(__file__).resolve().parent.parent / "bench" / "load" / "run.py"
_spec = importlib.util.spec_from_file_location("bench_load_run", RUNNER)
load = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = load  # dataclasses look their module up by name
_spec.loader.exec_module(load)

pytestmark = pytest.mark.stack

SECONDS = 60
USERS = 20
#: Every kind of request the buyers make, so a run that skipped one (a page that changed its
#: links, say) does not pass unnoticed.
REQUEST_TYPES = {
    "catalogue",
    "catalogue facets",
    "catalogue next page",
    "search",
    "product",
    "cooperative",
    "add to list",
    "inquiry list",
    "send form",
    "send inquiry",
}


@pytest.fixture
def postgresql(tmp_path_factory):
    """Always PostgreSQL, whichever backend the pass tests: the load run is of the stack."""
    server = Server.find_or_start(tmp_path_factory)
    url = server.create_database("load")
    yield url
    server.drop_database("load")
    server.stop()


def test_sixty_seconds_of_buyers_without_an_error(postgresql, redis_server, tmp_path):
    started = time.monotonic()
    load.prepare_database(postgresql, products=2000, cooperatives=60)
    generated = time.monotonic()
    (tmp_path / "gunicorn").mkdir()
    app_log = tmp_path / "gunicorn" / "app.log"
    server = GunicornServer(
        postgresql,
        tmp_path / "gunicorn",
        workers=3,
        REDIS_URL=redis_server.url(13),
        # No nginx in front: each buyer's X-Forwarded-For is its address (locustfile.py).
        SHOP_TRUSTED_PROXIES="1",
    )
    with load.output_to(app_log):
        server.start()
    try:
        serving = time.monotonic()
        result = load.run_locust(server.url, USERS, 10, SECONDS, tmp_path)
    finally:
        server.stop()
    print(load.table(result))
    print(
        f"generated in {generated - started:.0f} s, gunicorn up in {serving - generated:.0f} s, "
        f"locust {time.monotonic() - serving:.0f} s"
    )

    assert load.check(result, server.error_log, app_log) == []
    assert {row.name for row in result.rows} >= REQUEST_TYPES
    assert result.total.requests > 200
    sent = next(row for row in result.rows if row.name == "send inquiry")
    assert sent.requests > 0 and sent.failures == 0


def test_a_failed_request_fails_the_run(tmp_path):
    """The check the run relies on: a server that answers 404 everywhere fails it."""
    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = load.run_locust(f"http://127.0.0.1:{httpd.server_port}", 2, 2, 3, tmp_path)
    finally:
        httpd.shutdown()
        httpd.server_close()
    problems = load.check(result)
    assert problems
    assert result.total.failures > 0
