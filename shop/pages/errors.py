"""Friendly error pages in the visitor's language."""

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from shop.extensions import db


def register(app: Flask) -> None:
    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        # Usually a form left open too long, or cookies blocked: say so, change nothing.
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(413)
    def too_large(error):
        # MAX_CONTENT_LENGTH is one photo plus the form around it; anything bigger ends here.
        from shop.media.images import TOO_LARGE_MESSAGE

        wanted = request.accept_mimetypes.best_match(["text/html", "application/json"])
        if wanted == "application/json":
            return jsonify(error="too_large", message=str(TOO_LARGE_MESSAGE)), 413
        return render_template("errors/413.html", message=TOO_LARGE_MESSAGE), 413

    @app.errorhandler(429)
    def too_many_requests(error):
        # A throttle may say what happened (`user_message`); the page then offers a way out.
        message = getattr(error, "user_message", None)
        response = make_response(render_template("errors/429.html", message=message), 429)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int):
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def database_unavailable(error):
        return unavailable(error)

    @app.errorhandler(500)
    def server_error(error):
        # The failed request may have left the session mid-transaction.
        db.session.rollback()
        return render_template("errors/500.html"), 500


log = logging.getLogger(__name__)

#: Seconds a visitor (or a load balancer) is asked to wait while the database is away.
RETRY_AFTER = 30
UNAVAILABLE_MESSAGE = "Hệ thống đang bảo trì, vui lòng thử lại sau ít phút"


def unavailable(error):
    """The database cannot be reached (restarting, failing over): 503 at once, not a 500.

    The page is standalone (templates/errors/503.html extends nothing and reads no user), so it
    renders without the database. The pool drops the dead connections (pool_pre_ping), so the
    next request after the database returns is served normally, without restarting workers.
    """
    log.error(
        "database unavailable: %s %s: %s",
        request.method,
        request.path,
        (str(getattr(error, "orig", None) or error).splitlines() or [type(error).__name__])[0],
    )
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        log.debug("rollback after a database error failed", exc_info=True)
    wanted = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if wanted == "application/json":
        response = jsonify(error="unavailable", message=gettext(UNAVAILABLE_MESSAGE))
        response.status_code = 503
    else:
        response = make_response(render_template("errors/503.html"), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response
