"""Public search pages: results at /tim-kiem, suggestions as you type at /tim-kiem/goi-y."""

from flask import abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from shop.access import public_blueprint
from shop.catalog.queries import page_number
from shop.extensions import db
from shop.search import queries, spelling
from shop.search.terms import highlight, parse_query
from shop.text.i18n import current_lang

bp = public_blueprint("search", __name__)

#: Browsers (and shared caches, per language cookie) may reuse a suggestion list this long.
SUGGEST_MAX_AGE = 60


@bp.get("/tim-kiem")
def results():
    query = parse_query(request.args.get("q"))
    number = page_number()
    page = titles = None
    alternatives, nearby = [], []
    if query:
        per_page = current_app.config["PRODUCTS_PER_PAGE"]
        page = queries.search_page(query, number, per_page)
        if number > 1 and number > (page.pages or 1):
            abort(404)
        titles = {product.id: highlight(product.t("name"), query) for product in page.items}
        if not page.items:
            alternatives = spelling.alternatives(query)
            taxonomy = [
                *db.session.scalars(queries.categories()),
                *db.session.scalars(queries.sectors()),
            ]
            nearby = spelling.closest(query, taxonomy)
    elif number > 1:
        abort(404)
    return render_template(
        "search/results.html",
        query=query,
        page=page,
        titles=titles,
        alternatives=alternatives,
        nearby=nearby,
        max_results=queries.MAX_RESULTS,
    )


def _label(name_vi: str, name_en: str | None) -> str:
    return name_en if current_lang() == "en" and name_en else name_vi


@bp.get("/tim-kiem/goi-y")
def suggest():
    """Up to 8 suggestions: products first, then categories, sectors and cooperatives."""
    query = parse_query(request.args.get("q"))
    items = []
    if len(query.phrase.replace(" ", "")) >= queries.MIN_SUGGEST_LENGTH:
        places = []
        kinds = (
            ("category", _("Danh mục"), queries.categories(), "catalog.category"),
            ("sector", _("Lĩnh vực"), queries.sectors(), "catalog.sector"),
        )
        for kind, hint, stmt, endpoint in kinds:
            for item in db.session.scalars(stmt):
                if spelling.covers(query, item.name_vi) or spelling.covers(query, item.name_en):
                    places.append((kind, hint, item.t("name"), url_for(endpoint, slug=item.slug)))
        for slug, name, name_en in db.session.execute(queries.cooperative_names()):
            if spelling.covers(query, name) or spelling.covers(query, name_en):
                url = url_for("cooperatives.cooperative", slug=slug)
                places.append(("cooperative", _("Hợp tác xã"), _label(name, name_en), url))
        places = places[: queries.PLACE_SUGGESTIONS]
        limit = queries.SUGGESTIONS - len(places)
        stmt, params = queries.product_suggestions(query, limit)
        for name_vi, name_en, slug in queries.run_page(stmt, params):
            url = url_for("catalog.product", slug=slug)
            items.append(("product", _("Sản phẩm"), _label(name_vi, name_en), url))
        items += places
    response = jsonify(
        {
            "query": query.text,
            "suggestions": [
                {"kind": kind, "hint": hint, "label": label, "url": url}
                for kind, hint, label, url in items
            ],
        }
    )
    response.cache_control.public = True
    response.cache_control.max_age = SUGGEST_MAX_AGE
    response.vary.add("Cookie")
    return response
