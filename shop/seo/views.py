"""robots.txt and sitemap.xml; the <head> helpers every page template uses."""

import re

from flask import Response, abort, stream_with_context, url_for

from shop.access import public_blueprint
from shop.seo import meta, sitemap, structured
from shop.seo.qr import qr_svg

bp = public_blueprint("seo", __name__)

#: Crawlers and caches may keep these for an hour.
MAX_AGE = 3600

PART_RE = re.compile(r"(?P<kind>[a-z]+)-(?P<number>[1-9][0-9]{0,5})")

#: Paths no crawler needs: accounts, the dashboards and console, the buyer's inquiry list,
#: search suggestions (JSON as you type), report forms, and the JSON API (the pages carry the
#: same data for people and search engines).
DISALLOW = (
    "/tai-khoan",
    "/quan-ly-htx",
    "/quan-tri",
    "/yeu-cau-bao-gia",
    "/tim-kiem/goi-y",
    "/san-pham/*/bao-cao",
    "/api/",
)

for function in (
    meta.seo_head,
    meta.share_card,
    qr_svg,
    structured.ld_json,
    structured.product_ld,
    structured.organization_ld,
    structured.breadcrumb_ld,
    structured.website_ld,
    structured.event_ld,
):
    bp.add_app_template_global(function)
bp.add_app_template_filter(meta.summary)
bp.add_app_template_filter(meta.url_host)


def _cached(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOW), "Allow: /", ""]
    lines.append(f"Sitemap: {meta.absolute(url_for('seo.sitemap_index'))}")
    return _cached(Response("\n".join(lines) + "\n", mimetype="text/plain"))


@bp.get("/sitemap.xml")
def sitemap_index():
    return _cached(Response(stream_with_context(sitemap.index_xml()), mimetype="application/xml"))


@bp.get("/sitemap-<part>.xml")
def sitemap_part(part):
    match = PART_RE.fullmatch(part)
    kind = sitemap.kinds().get(match["kind"]) if match else None
    if kind is None:
        abort(404)
    entries = kind.entries(int(match["number"]), sitemap.pages_per_file())
    if entries is None:
        abort(404)
    return _cached(
        Response(stream_with_context(sitemap.part_xml(entries)), mimetype="application/xml")
    )
