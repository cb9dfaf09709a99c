"""Logs a machine can read: one JSON object per line, a request id on each, and slow queries.

**Request ids.** A WSGI middleware (`RequestIdMiddleware`) takes the incoming ``X-Request-Id``
when it is well formed (at most 64 characters of ``A-Z a-z 0-9 - _ .``; nginx may pass its
``$request_id``) and otherwise makes a new one. The id lives in a context variable from the
first byte of the request until the response is closed, so the after-response work (counters,
outbox delivery) logs it too; a log-record factory copies it onto every record created in that
time, whatever logger or handler, and the response echoes it in ``X-Request-Id``.

**Format.** ``LOG_FORMAT=json`` (the production default) sends every record to stderr as one
JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
``request_id``, and where known ``method``, ``path``, ``status``, ``duration_ms`` (the access
line, logger ``shop.access``), ``statement`` (slow queries) and ``exc_info`` (the traceback).
``LOG_FORMAT=text`` (development) leaves the console as Flask and the development server make it.
``LOG_LEVEL`` (default INFO) is the root level in JSON mode.

**Gunicorn.** The app writes one access line per request, with the request id, method, path,
status and duration, so gunicorn's own access log can be turned off (``accesslog = None`` in
deploy/gunicorn.conf.py, or no ``--access-logfile``: gunicorn's default); it would only repeat
the line in another format. Gunicorn's error log (worker starts and deaths) keeps its own
handler, which does not propagate to the root logger, so nothing is written twice. Workers may
be sync or threaded: each thread has its own context, hence its own request id.

**Health probes** (`shop.health`) log their access line at DEBUG only, so probes every few
seconds do not flood the log.

**Slow queries.** Statements that take ``SLOW_QUERY_MS`` (default 200) or longer are logged at
WARNING by ``shop.sql.slow`` with their duration and their text (placeholders, never the bound
values; collapsed and cut to `STATEMENT_MAX` characters), and the request id.
"""

import contextvars
import json
import logging
import re
import sys
import time
import traceback
import uuid
import weakref
from datetime import UTC, datetime

from flask import Flask, g, request
from sqlalchemy import event

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: Slow statements are cut to this many characters in the log.
STATEMENT_MAX = 500
#: Endpoints whose access line is logged at DEBUG (load balancers probe them constantly).
QUIET_ENDPOINTS = {"health.healthz", "health.readyz"}

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
access_log = logging.getLogger("shop.access")
slow_log = logging.getLogger("shop.sql.slow")

_HANDLER_MARK = "_shop_observability"


def current_request_id() -> str | None:
    return request_id_var.get()


def valid_request_id(value: str | None) -> bool:
    return bool(value) and REQUEST_ID_RE.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- request ids


class _ClosingIterable:
    """The response body; forgets the request id once the server has closed it."""

    def __init__(self, iterable, token):
        self.iterable = iterable
        self.token = token

    def __iter__(self):
        return iter(self.iterable)

    def close(self):
        try:
            close = getattr(self.iterable, "close", None)
            if close is not None:
                close()
        finally:
            _forget(self.token)


def _forget(token) -> None:
    try:
        request_id_var.reset(token)
    except ValueError:  # closed in another context than the one that set it
        request_id_var.set(None)


def _hook_close(body, token):
    original = getattr(body, "close", None)

    def close():
        try:
            if original is not None:
                original()
        finally:
            _forget(token)

    try:
        body.close = close
    except AttributeError:  # a wrapper with __slots__: the next request replaces the id
        return body
    return body


class RequestIdMiddleware:
    """Set the request id around the whole WSGI call, body and after-response work included."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        incoming = environ.get("HTTP_X_REQUEST_ID")
        request_id = incoming if valid_request_id(incoming) else new_request_id()
        environ["shop.request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            _forget(token)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # Keep the server's own wrapper (gunicorn sends it with sendfile); hook its close.
            return _hook_close(body, token)
        return _ClosingIterable(body, token)


def _install_record_factory() -> None:
    """Every log record carries `request_id` (None outside a request). Installed once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _HANDLER_MARK, False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return record

    setattr(factory, _HANDLER_MARK, True)
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    """Fill `request_id` on records made before the factory was installed (never drops one)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


# --------------------------------------------------------------------------- JSON lines


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    #: Extra attributes copied into the object when a record has them.
    EXTRAS = ("method", "path", "status", "duration_ms", "statement", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in self.EXTRAS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc_info"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(app: Flask, stream=None) -> None:
    """JSON lines on stderr when LOG_FORMAT is json; the development console otherwise."""
    _install_record_factory()
    if app.config.get("LOG_FORMAT", "text") != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    root.addHandler(json_handler(stream))
    root.setLevel(app.config.get("LOG_LEVEL") or "INFO")
    # Flask's own handler on app.logger would print the same errors a second time, as text.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


# --------------------------------------------------------------------------- access line


def _start_timer():
    g.request_started = time.perf_counter()


def _access_line(response):
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    request_id = request.environ.get("shop.request_id") or current_request_id()
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    if access_log.isEnabledFor(level):
        access_log.log(
            level,
            "%s %s %s %s ms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "remote_addr": request.remote_addr,
            },
        )
    return response


# --------------------------------------------------------------------------- slow queries


_watched_engines: "weakref.WeakSet" = weakref.WeakSet()


def _shorten(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= STATEMENT_MAX else text[: STATEMENT_MAX - 1] + "…"


def watch_slow_queries(app: Flask, engine) -> None:
    """Log statements at or above app.config["SLOW_QUERY_MS"] on `engine` (read at each one)."""
    if engine in _watched_engines:
        return
    _watched_engines.add(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def started(conn, cursor, statement, parameters, context, executemany):
        if context is not None:
            context._shop_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def finished(conn, cursor, statement, parameters, context, executemany):
        began = getattr(context, "_shop_started", None)
        if began is None:
            return
        duration_ms = (time.perf_counter() - began) * 1000
        threshold = app.config.get("SLOW_QUERY_MS", 200)
        if threshold is None or duration_ms < threshold:
            return
        slow_log.warning(
            "slow query: %.1f ms: %s",
            duration_ms,
            _shorten(statement),
            extra={"duration_ms": round(duration_ms, 1), "statement": _shorten(statement)},
        )


# --------------------------------------------------------------------------- wiring


def init_app(app: Flask) -> None:
    """Call after the extensions are registered (the engine must exist)."""
    configure_logging(app)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)
    # First of the before-request hooks, so the timer covers the guards and the throttles.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_access_line)

    from shop.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            watch_slow_queries(app, engine)
