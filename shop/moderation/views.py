"""Buyers report a product ("Báo cáo sản phẩm"): a short form, then a thank-you page.

Anyone may report a product that is on public pages; an account is not needed. The same person
reporting the same product again within a day adds nothing (and is told so kindly); an address
may send a few reports an hour (shop.accounts.throttle), beyond that the answer is 429.
"""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy.orm import contains_eager

from shop.access import public_blueprint
from shop.accounts import throttle
from shop.catalog import queries as catalog_queries
from shop.catalog.models import Product
from shop.extensions import db
from shop.moderation import services
from shop.moderation.forms import ReportForm

bp = public_blueprint("moderation", __name__)


def _public_product_or_404(slug: str) -> Product:
    """A product anyone may see now; hidden, unpublished or suspended ones are a 404."""
    stmt = (
        catalog_queries.public_products()
        .where(Product.slug == slug)
        .options(contains_eager(Product.cooperative))
    )
    return catalog_queries.first_or_404(stmt, slug)


@bp.route("/san-pham/<slug>/bao-cao", methods=["GET", "POST"])
def report(slug):
    product = _public_product_or_404(slug)
    form = ReportForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("moderation/report.html", product=product, form=form), status
    user = current_user._get_current_object() if current_user.is_authenticated else None
    key = services.reporter_key(throttle.client_key())
    if services.already_reported(product, key, user):
        return render_template("moderation/report_sent.html", product=product, repeated=True)
    throttle.allow_report()
    services.report_product(
        product, form.reason.data, form.details.data, form.email.data, user, key
    )
    db.session.commit()
    return render_template("moderation/report_sent.html", product=product, repeated=False)
