"""The JSON API v1 (/api/v1) and its page for partners (/api).

Read-only and public: anyone may call it, from any origin (CORS *). Every answer under
/api/v1 is JSON, errors included; successful answers may be cached for a minute and carry an
ETag. One shared per-address limit covers the whole API (API_RATE_LIMIT, 600 a minute).
"""

import json
import time
from datetime import date

from flask import current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from shop import clock
from shop.access import public_blueprint
from shop.api import cursors, openapi, params, queries, schemas
from shop.api.errors import ApiError, from_http_error
from shop.catalog.queries import is_slug
from shop.extensions import db, limiter
from shop.search.terms import parse_query

bp = public_blueprint("api", __name__, url_prefix="/api/v1")
docs = public_blueprint("api_docs", __name__)

PREFIX = "/api/v1"
MAX_AGE = 60
DEFAULT_RATE_LIMIT = "600 per minute"


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


# One budget per address for the whole API, however the calls spread over its routes.
limiter.shared_limit(rate_limit, scope="api-v1")(bp)


# --------------------------------------------------------------------------- responses


def json_response(data, status: int = 200):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, status=status, mimetype="application/json")


def cacheable(data):
    """A 200 that clients and proxies may keep for a minute, or a 304 if theirs is current."""
    response = json_response(data)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def error_response(error: ApiError):
    response = json_response(error.payload(), error.code)
    response.cache_control.no_store = True
    if error.code == 429:
        current = limiter.current_limit
        if current is not None:
            response.headers["Retry-After"] = str(max(1, int(current.reset_at - time.time())))
    return response


def with_cors(response):
    """Public, read-only data: any web page may read it."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Accept"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


bp.after_request(with_cors)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_response(error)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return error_response(from_http_error(error))


# Flask prefers the site's handlers for a status code (its HTML 404 and 429 pages) over a
# blueprint's handler for a class: claim those codes for the API by number.
for _status in (400, 403, 404, 413, 429):
    bp.register_error_handler(_status, http_error)


@bp.errorhandler(500)
def server_error(error):
    # The failed request may have left the session mid-transaction.
    db.session.rollback()
    return error_response(from_http_error(error))


@bp.app_errorhandler(405)
def method_not_allowed(error):
    """The router refuses a method before any blueprint is chosen: answer JSON under /api/v1
    (the API is read-only), and leave the rest of the site's 405 as it was."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response = with_cors(error_response(from_http_error(error)))
        response.headers["Allow"] = ", ".join(error.valid_methods or ("GET", "HEAD", "OPTIONS"))
        return response
    return error


# --------------------------------------------------------------------------- helpers


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Nothing is published under this slug.")


def first_or_404(stmt, slug: str):
    if not is_slug(slug):
        raise not_found()
    row = db.session.scalar(stmt)
    if row is None:
        raise not_found()
    return row


def cursor_key(kind: str, shape: tuple[type, ...] | None = None) -> list | None:
    value = params.text("cursor")
    return None if value is None else cursors.decode(kind, value, shape)


#: The query arguments each list understands; the next page's link repeats them.
LIST_ARGUMENTS = {
    "products": (*params.ProductFilters.__dataclass_fields__, "limit"),
    "products-search": (*params.ProductFilters.__dataclass_fields__, "limit"),
    "cooperatives": (*params.CooperativeFilters.__dataclass_fields__, "limit"),
    "programmes": ("limit",),
}


def page(items: list, rows: list, limit: int, kind: str, key) -> dict:
    """The list envelope: the page's items and, if more follow, where to continue."""
    if len(rows) <= limit:
        return {"items": items, "next_cursor": None, "next_url": None}
    cursor = cursors.encode(kind, key(rows[limit - 1]))
    args = {k: v for k, v in request.args.items() if k in LIST_ARGUMENTS[kind]}
    next_url = schemas.absolute(request.endpoint, **args, cursor=cursor)
    return {"items": items, "next_cursor": cursor, "next_url": next_url}


# --------------------------------------------------------------------------- routes


@bp.get("/")
def index():
    return json_response(
        {
            "name": "Chợ HTX API",
            "version": "1",
            "openapi_url": schemas.absolute("api.openapi_document"),
            "documentation_url": schemas.absolute("api_docs.guide"),
            "resources": {
                "products": schemas.absolute("api.products"),
                "cooperatives": schemas.absolute("api.cooperatives"),
                "programmes": schemas.absolute("api.programmes"),
            },
        }
    )


@bp.get("/openapi.json")
def openapi_document():
    return cacheable(openapi.document(url_for("api.index").rstrip("/")))


@bp.get("/products")
def products():
    filters = params.product_filters()
    limit = params.limit()
    if filters.q:
        # A search's cursor holds its query too: it continues only the walk it was made for.
        phrase = " ".join(parse_query(filters.q).terms)
        after = cursor_key("products-search")
        if after is not None:
            if len(after) < 2 or after[0] != phrase:
                raise cursors.invalid_cursor()
            *ranks, last_id = after = after[1:]
            if type(last_id) is not int or any(type(r) not in (int, float) for r in ranks):
                raise cursors.invalid_cursor()

        def key(row):
            return [phrase, *queries.sort_key(row)]

        kind = "products-search"
    else:
        after = cursor_key("products", (int,))
        key, kind = queries.sort_key, "products"
    day = clock.today()
    stmt = queries.products(filters, day, after=after, limit=limit)
    rows = db.session.execute(stmt).all()
    items = [schemas.product(row[0], day) for row in rows[:limit]]
    return cacheable(page(items, rows, limit, kind, key))


@bp.get("/products/<slug>")
def product(slug):
    row = first_or_404(queries.product(slug), slug)
    return cacheable(schemas.product(row, clock.today()))


@bp.get("/cooperatives")
def cooperatives():
    filters = params.cooperative_filters()
    limit = params.limit()
    after = cursor_key("cooperatives", (str,))
    stmt = queries.cooperatives(filters, after=after[0] if after else None, limit=limit)
    rows = db.session.scalars(stmt).all()
    shown = rows[:limit]
    counts = dict(db.session.execute(queries.product_counts(c.id for c in shown)).all())
    items = [schemas.cooperative(row, counts.get(row.id, 0)) for row in shown]
    return cacheable(page(items, rows, limit, "cooperatives", lambda row: [row.slug]))


@bp.get("/cooperatives/<slug>")
def cooperative(slug):
    row = first_or_404(queries.cooperative(slug), slug)
    count = db.session.execute(queries.product_counts([row.id])).first()
    return cacheable(schemas.cooperative(row, count[1] if count else 0))


@bp.get("/programmes")
def programmes():
    limit = params.limit()
    after = cursor_key("programmes", (str, int))
    if after is not None:
        try:
            after = (date.fromisoformat(after[0]), after[1])
        except ValueError:
            raise cursors.invalid_cursor() from None
    rows = db.session.scalars(queries.programmes(after=after, limit=limit)).all()
    shown = rows[:limit]
    counts = dict(db.session.execute(queries.booth_counts(p.id for p in shown)).all())
    day = clock.today()
    items = [schemas.programme(row, day, counts.get(row.id, 0)) for row in shown]
    return cacheable(
        page(items, rows, limit, "programmes", lambda row: [row.start_date.isoformat(), row.id])
    )


@bp.get("/programmes/<slug>")
def programme(slug):
    row = first_or_404(queries.programme(slug), slug)
    featured: dict[int, list[str]] = {}
    for booth_id, product_slug in db.session.execute(
        queries.featured_slugs(b.id for b in row.booths)
    ):
        featured.setdefault(booth_id, []).append(product_slug)
    data = schemas.programme(row, clock.today(), len(row.booths))
    data["booths"] = [
        schemas.booth(booth, row.slug, featured.get(booth.id, [])) for booth in row.booths
    ]
    return cacheable(data)


@bp.get("/<path:unknown>")
def unknown(unknown):
    raise ApiError(404, "not_found", "No such API address; see /api/v1/openapi.json.")


# --------------------------------------------------------------------------- the partners' page


@docs.get("/api")
def guide():
    return render_template(
        "api/guide.html",
        example_product=url_for("api.products", limit=2, ocop_min=4),
    )
