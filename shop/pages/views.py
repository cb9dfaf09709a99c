"""Home page and site-wide public pages."""

from flask import render_template

from shop import clock
from shop.access import public_blueprint
from shop.catalog import queries as catalog_queries
from shop.extensions import db
from shop.programmes import queries as programme_queries

bp = public_blueprint("pages", __name__)


@bp.get("/")
def home():
    today = clock.today()
    return render_template(
        "pages/home.html",
        sectors=catalog_queries.sectors_with_cached_counts(today),
        featured=db.session.scalars(catalog_queries.featured_products(today)).all(),
        next_programme=db.session.scalar(programme_queries.next_programme(today)),
    )
