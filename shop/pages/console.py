"""The alliance console's front page (/quan-tri): what is waiting for staff."""

from flask import render_template

from shop.access import staff_blueprint
from shop.catalog import queries as catalog_queries
from shop.cooperatives import queries as cooperative_queries

bp = staff_blueprint("console", __name__, url_prefix="/quan-tri")


@bp.get("/")
def home():
    return render_template(
        "console/home.html",
        counts=cooperative_queries.status_counts(),
        product_counts=catalog_queries.review_counts(),
    )
