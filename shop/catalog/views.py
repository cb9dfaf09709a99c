"""Public pages of the catalog domain: sectors, categories, the catalogue and product pages."""

from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop import clock
from shop.access import public_blueprint
from shop.catalog import queries
from shop.catalog.models import Category
from shop.cooperatives.models import Locality, Sector
from shop.extensions import db

bp = public_blueprint("catalog", __name__)

#: Labels of the catalogue's sort orders, in the order the form lists them.
SORT_LABELS = {
    "newest": _l("Mới nhất"),
    "price_asc": _l("Giá thấp đến cao"),
    "price_desc": _l("Giá cao đến thấp"),
    "ocop": _l("Sao OCOP cao nhất"),
}
OCOP_CHOICES = (3, 4, 5)


def ocop_label(stars: int) -> str:
    if stars < max(OCOP_CHOICES):
        return _("Từ %(stars)d sao", stars=stars)
    return _("%(stars)d sao", stars=stars)


@bp.app_template_global()
def page_url(number: int) -> str:
    """This page's address with the same query arguments, on page `number`."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"}
    if number > 1:
        args["page"] = [str(number)]
    url = url_for(request.endpoint, **(request.view_args or {}))
    return f"{url}?{urlencode(args, doseq=True)}" if args else url


@bp.get("/linh-vuc/<slug>")
def sector(slug):
    sector = queries.first_or_404(select(Sector).where(Sector.slug == slug), slug)
    today = clock.today()
    categories = db.session.execute(queries.categories_with_counts(sector)).all()
    page = queries.paginate(queries.catalogue(today, sector=sector))
    return render_template("catalog/sector.html", sector=sector, categories=categories, page=page)


@bp.get("/danh-muc/<slug>")
def category(slug):
    stmt = select(Category).where(Category.slug == slug).options(joinedload(Category.ocop_group))
    category = queries.first_or_404(stmt, slug)
    page = queries.paginate(queries.catalogue(clock.today(), category=category))
    return render_template("catalog/category.html", category=category, page=page)


@bp.get("/san-pham")
def catalogue():
    today = clock.today()
    args = request.args
    sector = queries.by_slug(Sector, args.get("sector"))
    category = queries.by_slug(Category, args.get("category"))
    locality = queries.by_slug(Locality, args.get("locality"))
    ocop = args.get("ocop", type=int)
    ocop = ocop if ocop in OCOP_CHOICES else None
    sort = args.get("sort") if args.get("sort") in SORT_LABELS else "newest"
    stmt = queries.catalogue(
        today, sector=sector, category=category, locality=locality, ocop_min=ocop, sort=sort
    )
    page = queries.paginate(stmt)
    return render_template(
        "catalog/catalogue.html",
        page=page,
        selected={
            "sector": sector.slug if sector else "",
            "category": category.slug if category else "",
            "locality": locality.slug if locality else "",
            "ocop": ocop,
            "sort": sort,
        },
        filtered=any((sector, category, locality, ocop)),
        sectors=db.session.scalars(select(Sector).order_by(Sector.sort_order, Sector.id)).all(),
        categories=db.session.scalars(
            select(Category).order_by(Category.sort_order, Category.id)
        ).all(),
        localities=db.session.scalars(queries.localities_with_products()).all(),
        sort_labels=SORT_LABELS,
        ocop_options=[(stars, ocop_label(stars)) for stars in OCOP_CHOICES],
    )


@bp.get("/san-pham/<slug>")
def product(slug):
    product = queries.first_or_404(queries.product_page(slug), slug)
    related = db.session.scalars(queries.related_products(product)).all()
    return render_template("catalog/product.html", product=product, related=related)
