"""The alliance console's front page (/quan-tri)."""

from flask import render_template

from shop.access import staff_blueprint

bp = staff_blueprint("console", __name__, url_prefix="/quan-tri")


@bp.get("/")
def home():
    return render_template("console/home.html")
