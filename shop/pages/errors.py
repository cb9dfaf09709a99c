"""Friendly error pages in the visitor's language."""

from flask import Flask, render_template

from shop.extensions import db


def register(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(500)
    def server_error(error):
        # The failed request may have left the session mid-transaction.
        db.session.rollback()
        return render_template("errors/500.html"), 500
