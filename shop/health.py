"""Probes for load balancers and orchestrators: `/healthz` (alive) and `/readyz` (can serve).

`/healthz` answers 200 as long as the process serves requests; it touches nothing else, so a
slow database never gets healthy workers restarted. `/readyz` checks what a page needs: the
database answers ``SELECT 1`` (within `DB_TIMEOUT_MS` on PostgreSQL), Redis answers PING when
REDIS_URL is set, and the media storage is reachable (the folder exists and is writable, or the
S3 bucket answers HEAD). 200 with ``{"status": "ok", "checks": {...}}`` when all pass, 503 with
the failing check marked ``"fail"`` otherwise; the cause is logged at WARNING, not published.

Neither is cached, counted in the figures, or logged at INFO (see shop.observability).
"""

import logging
import os

from flask import current_app, jsonify
from sqlalchemy import text

from shop.access import public_blueprint
from shop.extensions import db

bp = public_blueprint("health", __name__)
log = logging.getLogger(__name__)

#: Longest a readiness query may run on PostgreSQL before it counts as failed.
DB_TIMEOUT_MS = 2000
#: Connect and read timeout of the Redis PING, in seconds.
REDIS_TIMEOUT = 1.0


def _answer(payload: dict, status: int):
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _answer({"status": "ok"}, 200)


def check_database() -> None:
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(DB_TIMEOUT_MS)}")
        connection.execute(text("SELECT 1")).scalar_one()


def _redis_client(url: str):
    clients = current_app.extensions.setdefault("health_redis", {})
    client = clients.get(url)
    if client is None:
        import redis

        client = clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
    return client


def check_redis(url: str) -> None:
    if not _redis_client(url).ping():
        raise RuntimeError("Redis did not answer PING")


def check_storage() -> None:
    from shop.media.storage import LocalStorage, S3Storage, get_storage

    storage = get_storage()
    if isinstance(storage, S3Storage):
        storage.client.head_bucket(Bucket=storage.bucket)
    elif isinstance(storage, LocalStorage):
        storage.root.mkdir(parents=True, exist_ok=True)
        if not os.access(storage.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{storage.root} is not writable")
    else:
        storage.exists("health-probe")


def run_checks() -> dict[str, str]:
    """Each check's name → "ok" or "fail"; failures are logged with their cause."""
    checks = {"database": check_database, "storage": check_storage}
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        checks["redis"] = lambda: check_redis(redis_url)
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as error:  # any failure makes the node unready; the log says why
            log.warning("readiness check %s failed: %r", name, error)
            results[name] = "fail"
        else:
            results[name] = "ok"
    return results


@bp.get("/readyz")
def readyz():
    results = run_checks()
    ok = all(value == "ok" for value in results.values())
    return _answer({"status": "ok" if ok else "fail", "checks": results}, 200 if ok else 503)
