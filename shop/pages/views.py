"""Home page and site-wide public pages."""

from flask import render_template

from shop.access import public_blueprint

bp = public_blueprint("pages", __name__)


@bp.get("/")
def home():
    return render_template("pages/home.html")
