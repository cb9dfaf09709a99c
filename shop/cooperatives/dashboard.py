"""The cooperative dashboard (/quan-ly-htx): members run their own cooperative here."""

from flask import render_template

from shop.access import member_blueprint

bp = member_blueprint("dashboard", __name__, url_prefix="/quan-ly-htx")


@bp.get("/")
def home():
    return render_template("cooperatives/dashboard/home.html")
