"""Public pages of the catalog domain: sectors, categories, the catalogue and product pages."""

import functools
import re
from dataclasses import replace
from urllib.parse import urlencode

from babel.numbers import format_decimal
from flask import abort, get_template_attribute, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop import clock
from shop.access import public_blueprint
from shop.catalog import queries
from shop.catalog.models import Category, CertificationKind, ProductLink
from shop.cooperatives.models import Locality, Sector
from shop.extensions import db
from shop.reports.tracking import count_view
from shop.search.terms import parse_query
from shop.text.formatting import format_vnd
from shop.text.i18n import current_lang

bp = public_blueprint("catalog", __name__)

#: Labels of the catalogue's sort orders, in the order the form lists them.
SORT_LABELS = {
    "newest": _l("Mới nhất"),
    "price_asc": _l("Giá thấp đến cao"),
    "price_desc": _l("Giá cao đến thấp"),
    "ocop": _l("Sao OCOP cao nhất"),
}
#: Offered only with a search query `q`, and then the default.
RELEVANCE_LABEL = _l("Phù hợp nhất")
OCOP_CHOICES = queries.OCOP_LEVELS


def ocop_label(stars: int) -> str:
    if stars < max(OCOP_CHOICES):
        return _("Từ %(stars)d sao", stars=stars)
    return _("%(stars)d sao", stars=stars)


@bp.app_template_global()
def ocop_badge_markup(stars: int) -> Markup:
    """A card's OCOP badge (macros/ui.html, ocop_badge_body) in the request's language.

    Rendered once per language and number of stars: a listing by OCOP stars shows two dozen
    alike, and each took as long to render as the rest of its card.
    """
    return _ocop_badge(current_lang(), stars)


@functools.lru_cache(maxsize=16)
def _ocop_badge(lang: str, stars: int) -> Markup:
    return Markup(get_template_attribute("macros/ui.html", "ocop_badge_body")(stars))


@bp.app_template_global()
def page_url(number: int) -> str:
    """This page's address with the same query arguments, on page `number`."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"}
    if number > 1:
        args["page"] = [str(number)]
    url = url_for(request.endpoint, **(request.view_args or {}))
    return f"{url}?{urlencode(args, doseq=True)}" if args else url


@bp.app_template_global()
def cursor_url(cursor=None) -> str:
    """This listing's address with the same filters and sort, starting at `cursor`.

    No cursor is the first page. Old `page` arguments are dropped (cursors replace them), and
    `lang` too: the language chosen is remembered for the visit.
    """
    dropped = ("page", "cursor", "lang")
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in dropped}
    if cursor is not None:
        args["cursor"] = [cursor.encode()]
    url = url_for(request.endpoint, **(request.view_args or {}))
    return f"{url}?{urlencode(args, doseq=True)}" if args else url


@bp.app_template_global()
def number_label(n: int) -> str:
    """1.234 (vi) or 1,234 (en)."""
    if type(n) is int:  # a catalogue page shows a hundred counts: skip Babel's general path
        grouped = f"{n:,}"
        return grouped.replace(",", ".") if current_lang() == "vi" else grouped
    return format_decimal(n, locale="vi_VN" if current_lang() == "vi" else "en_US")


def price_band_label(key: str) -> str:
    band = queries.PRICE_BANDS[key]
    if band is None:
        return _("Liên hệ")
    low, high = band
    lang = current_lang()
    if low is None:
        return _("Dưới %(price)s", price=format_vnd(high, lang))
    if high is None:
        return _("Trên %(price)s", price=format_vnd(low, lang))
    return f"{number_label(low)}–{format_vnd(high, lang)}"


#: Names of the catalogue's arguments in the notice about values it ignored.
ARG_LABELS = {
    "sector": _l("Lĩnh vực"),
    "category": _l("Danh mục"),
    "locality": _l("Xã, phường"),
    "ocop": _l("Hạng OCOP"),
    "cert": _l("Chứng nhận"),
    "price": _l("Khoảng giá"),
    "season": _l("Đang vào mùa"),
    "sort": _l("Sắp xếp"),
}
CERT_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


def read_filters(
    args, cooperative=None, vocab: queries.Vocabularies | None = None
) -> tuple[queries.Filters, str, list[str]]:
    """The catalogue's filters and sort from the query string, and the names of bad ones.

    A value that names nothing (unknown slug, ocop=7, a made-up band) is ignored, not an error:
    shared links outlive categories, and the page says what it left out. Slugs and codes are
    looked up in `vocab` (the facets' values, loaded anyway), else one statement each.
    """
    bad: list[str] = []

    def lookup(model, name):
        raw = args.get(name, "")
        if not raw:
            return None
        row = vocab.by_slug(name, raw) if vocab else queries.by_slug(model, raw)
        if row is None:
            bad.append(name)
        return row

    sector = lookup(Sector, "sector")
    category = lookup(Category, "category")
    locality = lookup(Locality, "locality")
    ocop = args.get("ocop", "")
    if ocop and ocop not in {str(level) for level in queries.OCOP_LEVELS}:
        bad.append("ocop")
    price = args.get("price", "")
    if price and price not in queries.PRICE_BANDS:
        bad.append("price")
    season = args.get("season", "")
    if season not in ("", "1"):
        bad.append("season")
    codes = list(dict.fromkeys(c for c in args.getlist("cert") if c))
    known = []
    if codes:
        wanted = [c for c in codes[:20] if CERT_CODE.match(c)]
        if vocab:
            found = set(vocab.certification_codes)
        else:
            found = set(
                db.session.scalars(
                    select(CertificationKind.code).where(CertificationKind.code.in_(wanted))
                )
            )
        known = [c for c in wanted if c in found]
        if len(known) < len(codes):
            bad.append("cert")
    query = parse_query(args.get("q"))
    sort = args.get("sort", "")
    if sort and sort not in SORT_LABELS and sort != "relevance":
        bad.append("sort")
    if query:
        sort = sort if sort in SORT_LABELS or sort == "relevance" else "relevance"
    else:
        sort = sort if sort in SORT_LABELS else "newest"
    filters = queries.Filters(
        sector=sector,
        category=category,
        locality=locality,
        ocop_min=int(ocop) if ocop and "ocop" not in bad else None,
        certifications=tuple(known),
        price=price if price and "price" not in bad else None,
        in_season=season == "1",
        cooperative=cooperative,
        query=query or None,
    )
    notices = []
    if bad:
        names = ", ".join(str(ARG_LABELS[name]) for name in bad)
        notices.append(_("Đã bỏ qua bộ lọc không hợp lệ: %(names)s.", names=names))
    return filters, sort, notices


def read_cursor(sort: str, notices: list) -> tuple[queries.Cursor | None, int]:
    """(cursor, page number) of the request: a bad cursor falls back to page 1 with a notice."""
    raw = request.args.get("cursor")
    if raw is None:
        return None, queries.page_number()
    try:
        return queries.Cursor.decode(raw, sort), 1
    except ValueError:
        notices.append(_("Liên kết trang này không còn dùng được; đây là trang đầu của danh sách."))
        return None, 1


def keyset_listing(stmt, sort: str, day, total: int, notices: list, query=None):
    """One keyset page of `stmt`; an old `?page=N` past the last page is a 404."""
    cursor, number = read_cursor(sort, notices)
    page = queries.keyset_page(stmt, sort, day, total, cursor, number, query=query)
    if number > 1 and not page.items:
        abort(404)
    return page


@bp.get("/linh-vuc/<slug>")
def sector(slug):
    sector = queries.first_or_404(select(Sector).where(Sector.slug == slug), slug)
    today = clock.today()
    # The catalogue's cached facet counts: its categories under this sector, and the total.
    filters = queries.Filters(sector=sector)
    counts = queries.cached_counts(filters, today)
    by_category = counts["category"]
    categories = [
        (category, by_category[category.id])
        for category in db.session.scalars(queries.categories_in_order())
        if by_category.get(category.id)
    ]
    notices: list[str] = []
    stmt = queries.filtered_products(filters, today)
    page = keyset_listing(stmt, "newest", today, counts["total"], notices)
    return render_template(
        "catalog/sector.html", sector=sector, categories=categories, page=page, notices=notices
    )


@bp.get("/danh-muc/<slug>")
def category(slug):
    stmt = select(Category).where(Category.slug == slug).options(joinedload(Category.ocop_group))
    category = queries.first_or_404(stmt, slug)
    today = clock.today()
    notices: list[str] = []
    filters = queries.Filters(category=category)
    total = queries.cached_counts(filters, today)["total"]
    products = queries.filtered_products(filters, today)
    page = keyset_listing(products, "newest", today, total, notices)
    return render_template("catalog/category.html", category=category, page=page, notices=notices)


@bp.get("/san-pham")
def catalogue():
    today = clock.today()
    version = queries.catalogue_version()
    vocab = queries.vocabularies(version)
    filters, sort, notices = read_filters(request.args, vocab=vocab)
    facets = queries.facet_counts(filters, today, vocab, version)
    # Sorted by relevance, the listing joins the search's hits, which narrow it already.
    narrowed = replace(filters, query=None) if sort == "relevance" else filters
    stmt = queries.filtered_products(narrowed, today)
    page = keyset_listing(stmt, sort, today, facets.total, notices, filters.query)
    sort_labels = dict(SORT_LABELS)
    if filters.query:
        sort_labels = {"relevance": RELEVANCE_LABEL, **sort_labels}

    lang = current_lang()

    def named(rows, key="slug"):
        return [(getattr(row, key), row.t("name", lang), n) for row, n in rows]

    return render_template(
        "catalog/catalogue.html",
        page=page,
        notices=notices,
        filters=filters,
        sort=sort,
        sort_labels=sort_labels,
        facets=facets,
        options={
            "sector": named(facets.sectors),
            "category": named(facets.categories),
            "locality": named(facets.localities),
            "cert": named(facets.certifications, "code"),
            "ocop": [(level, ocop_label(level), facets.ocop[level]) for level in OCOP_CHOICES],
            "price": [(key, price_band_label(key), n) for key, n in facets.price.items()],
        },
        selected={
            "sector": filters.sector.slug if filters.sector else "",
            "category": filters.category.slug if filters.category else "",
            "locality": filters.locality.slug if filters.locality else "",
            "ocop": filters.ocop_min or "",
            "price": filters.price or "",
        },
    )


@bp.get("/san-pham/<slug>")
def product(slug):
    product = queries.first_or_404(queries.product_page(slug), slug)
    related = db.session.scalars(queries.related_products(product)).all()
    count_view("product_view", product.id)
    links = db.session.scalars(
        select(ProductLink)
        .where(ProductLink.product_id == product.id)
        .order_by(ProductLink.position, ProductLink.id)
    ).all()
    return render_template("catalog/product.html", product=product, related=related, links=links)
