"""gunicorn for production: `gunicorn -c deploy/gunicorn.conf.py app:app` (deploy/serve-prod.sh).

Every value can be overridden from the environment, so one file serves a 2-core VM and a
16-core host alike. Workers are sync processes behind nginx, which buffers slow clients.
"""

import multiprocessing
import os


def _workers() -> int:
    """GUNICORN_WORKERS if set, else 2 × cores + 1, capped at GUNICORN_MAX_WORKERS (default 12).

    Each worker holds its own database pool, so the cap also bounds PostgreSQL connections:
    workers × (pool size 5 + overflow 10) per node must stay under max_connections.
    """
    if os.environ.get("GUNICORN_WORKERS"):
        return max(1, int(os.environ["GUNICORN_WORKERS"]))
    cap = int(os.environ.get("GUNICORN_MAX_WORKERS", "12"))
    return max(1, min(2 * multiprocessing.cpu_count() + 1, cap))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _workers()
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
#: A request longer than this is killed (and its worker replaced); statement timeouts are shorter.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
#: nginx keeps connections to the upstream open (its `keepalive`); keep ours a little longer.
keepalive = 75
#: Recycle workers now and then so a slow leak never grows unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
#: Only nginx on this machine may set X-Forwarded-*; the app trusts one hop (SHOP_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
#: The app writes its own access line (JSON, with the request id: shop.observability); gunicorn's
#: would be a second, differently shaped line for each request. Set a path or "-" to get it too.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'
proc_name = "cho-htx"
#: No runtime control socket (gunicornc): nginx and the process manager are the only interfaces,
#: and several gunicorns on one machine would share ~/.gunicorn/gunicorn.ctl.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") != "1"
