"""Product feeds for marketplaces and partners (/feeds/products.csv and .xml).

Google-Merchant-style: every item says id, title, description, link, image_link (plus up to
10 additional_image_link), price ("120000 VND"), availability, brand (the cooperative),
condition ("new"), product_type ("sector > category") and identifier_exists ("no": farm and
craft products carry no GTIN or MPN). google_product_category is optional and left out: Google
works it out from the title and product_type, and our 20 categories have no agreed mapping to
its taxonomy yet.

What is listed: the public catalogue's products (shop.catalog.queries.public_products:
published, sold by a verified cooperative: not a draft, not archived, not a suspended
cooperative's), **except those without a price** ("Liên hệ"): Google requires a price and
refuses the item otherwise. A product without photos is listed without image_link (Google
holds such an item back until it has a photo; other marketplaces take it as it is).

Choices:
- availability: "in_stock"; a product made to order is "backorder" (Google: not in stock now,
  orders accepted, shipped after a delay), not "preorder" (a product not released yet). The
  catalogue holds no lead time, so no availability_date is given.
- Text: plain (HTML tags a description may have picked up from a paste are dropped), control
  characters removed, spaces and line breaks collapsed; titles cut to 150 characters,
  descriptions to 5000. `?lang=en` gives the English title, description and category names
  where they exist (Vietnamese otherwise) and English page links; anything else is Vietnamese.
- CSV: comma-separated (the file is .csv; Google reads comma- as well as tab-delimited text
  feeds), UTF-8 without a byte order mark (machines read it; a BOM would stick to the first
  header for some of them), a header row of the attribute names, several additional images in
  one field separated by commas. Cells that a spreadsheet would run as a formula (starting
  with = + - @, tab or CR) are escaped with a leading ' as in every export of this site:
  people open feeds in Excel too, and a feed is built from text any member typed.
- XML: text is left as written (escaped for XML only): it is not opened as a spreadsheet.
  The brand is the cooperative's name (its English name in the English feed, if it has one,
  as its English page shows).
- Streamed in keyset batches of shop.bulk.queries.BATCH products (two statements a batch),
  with an ETag and Last-Modified from the feed's size and newest changes (one statement), so a
  crawler's revalidation costs one small query and a 304. Public, cacheable for an hour, and
  never with a cookie. (Renaming a sector or a category moves neither validator: such a
  change reaches a revalidating cache with the next product change.)
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from flask import Response, request, session, stream_with_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.http import is_resource_modified

from shop.access import public_blueprint
from shop.bulk import queries
from shop.bulk.exports import path_template
from shop.media.images import DERIVATIVE_WIDTHS
from shop.reports.exports import csv_chunks
from shop.seo.meta import site_root

bp = public_blueprint("feeds", __name__, url_prefix="/feeds")

G_NS = "http://base.google.com/ns/1.0"
#: Crawlers and caches may keep a feed this long (seconds).
MAX_AGE = 3600
TITLE_CHARS = 150
DESCRIPTION_CHARS = 5000
ADDITIONAL_IMAGES = 10
#: Part of the ETag: change it when what a feed writes changes, so caches fetch it again.
FORMAT_VERSION = "1"
#: The photo a feed shows: the largest derivative (WebP, which Google accepts).
IMAGE_NAME = f"{max(DERIVATIVE_WIDTHS)}.webp"

CSV_FIELDS = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "price",
    "availability",
    "brand",
    "condition",
    "product_type",
    "identifier_exists",
)

#: Characters XML 1.0 cannot carry, and C1 controls: never part of a product's text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: HTML tags a pasted description may carry (only real tag names: "<Tết>" is text).
_TAG = re.compile(
    r"</?(?:a|abbr|b|blockquote|br|center|code|div|em|font|h[1-6]|hr|i|img|li|ol|p|pre|s|"
    r"small|span|strike|strong|sub|sup|table|tbody|td|th|thead|tr|u|ul)\b[^<>]*>",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def plain_text(value: str | None, limit: int) -> str:
    """One line of plain text at most `limit` characters long (cut with "…")."""
    text = _CONTROL.sub("", value or "")
    text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def feed_language() -> str:
    """The feed's language from its URL alone (never the visitor's session: feeds are cached)."""
    return "en" if request.args.get("lang") == "en" else "vi"


# --------------------------------------------------------------------------- items


@dataclass
class Item:
    id: str
    title: str
    description: str
    link: str
    image_link: str
    additional_image_links: list[str] = field(default_factory=list)
    price: str = ""
    availability: str = "in_stock"
    brand: str = ""
    condition: str = "new"
    product_type: str = ""
    identifier_exists: str = "no"


def _pick(lang: str, english: str | None, vietnamese: str | None) -> str:
    return (english if lang == "en" and english else vietnamese) or ""


def items(lang: str) -> Iterator[list[Item]]:
    """The feed's items, a batch at a time, in id order."""
    root = site_root()
    product_path = root + path_template("catalog.product", "slug")
    image_path = root + path_template("media.file", "sha256", "name")
    suffix = "?lang=en" if lang == "en" else ""
    for rows, photos in queries.in_batches(queries.feed_rows()):
        batch = []
        for row in rows:
            urls = [image_path.format(sha256=p.sha256, name=IMAGE_NAME) for p in photos[row.id]]
            title = plain_text(_pick(lang, row.name_en, row.name_vi), TITLE_CHARS)
            description = plain_text(
                _pick(lang, row.description_en, row.description_vi), DESCRIPTION_CHARS
            )
            sector = plain_text(_pick(lang, row.sector_en, row.sector_vi), 200)
            category = plain_text(_pick(lang, row.category_en, row.category_vi), 200)
            batch.append(
                Item(
                    id=str(row.id),
                    title=title,
                    # Google requires a description: a product without one repeats its name.
                    description=description or title,
                    link=product_path.format(slug=row.slug) + suffix,
                    image_link=urls[0] if urls else "",
                    additional_image_links=urls[1 : 1 + ADDITIONAL_IMAGES],
                    price=f"{row.price_vnd} VND",
                    availability="backorder" if row.made_to_order else "in_stock",
                    brand=plain_text(_pick(lang, row.cooperative_en, row.cooperative), 70),
                    product_type=f"{sector} > {category}",
                )
            )
        yield batch


# --------------------------------------------------------------------------- formats


def csv_body(lang: str) -> Iterator[str]:
    rows = (
        (
            item.id,
            item.title,
            item.description,
            item.link,
            item.image_link,
            ",".join(item.additional_image_links),
            item.price,
            item.availability,
            item.brand,
            item.condition,
            item.product_type,
            item.identifier_exists,
        )
        for batch in items(lang)
        for item in batch
    )
    return csv_chunks(CSV_FIELDS, rows, bom=False)


def _element(name: str, value: str) -> str:
    return f"<g:{name}>{escape(value)}</g:{name}>"


def item_xml(item: Item) -> str:
    parts = [
        _element("id", item.id),
        _element("title", item.title),
        _element("description", item.description),
        _element("link", item.link),
    ]
    if item.image_link:
        parts.append(_element("image_link", item.image_link))
    parts.extend(_element("additional_image_link", url) for url in item.additional_image_links)
    parts += [
        _element("price", item.price),
        _element("availability", item.availability),
        _element("brand", item.brand),
        _element("condition", item.condition),
        _element("product_type", item.product_type),
        _element("identifier_exists", item.identifier_exists),
    ]
    return "<item>\n" + "\n".join(parts) + "\n</item>\n"


def xml_body(lang: str) -> Iterator[str]:
    with force_locale(lang):
        title = _("Chợ HTX — sản phẩm của các hợp tác xã tỉnh Bắc Ninh")
        description = _(
            "Sản phẩm đang bán trên Chợ HTX, sàn giới thiệu sản phẩm của các hợp tác xã tỉnh "
            "Bắc Ninh."
        )
    link = site_root() + url_for("catalog.catalogue") + ("?lang=en" if lang == "en" else "")
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{G_NS}">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>{escape(link)}</link>\n"
        f"<description>{escape(description)}</description>\n<language>{lang}</language>\n"
    )
    for batch in items(lang):
        yield "".join(item_xml(item) for item in batch)
    yield "</channel>\n</rss>\n"


# --------------------------------------------------------------------------- responses


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    # SQLite hands back the stored UTC time without its zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def validators(kind: str, lang: str) -> tuple[str, datetime | None]:
    """(ETag, Last-Modified) of a feed as it is now: one statement."""
    count, newest_product, newest_cooperative = queries.feed_version()
    stamps = [s for s in (_utc(newest_product), _utc(newest_cooperative)) if s is not None]
    key = "|".join(str(part) for part in (FORMAT_VERSION, kind, lang, site_root(), count, *stamps))
    return hashlib.sha256(key.encode()).hexdigest()[:32], max(stamps, default=None)


def feed_response(kind: str, mimetype: str, body) -> Response:
    lang = feed_language()
    etag, last_modified = validators(kind, lang)
    if is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        response = Response(stream_with_context(body(lang)), mimetype=mimetype)
    else:
        response = Response(status=304)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # Shared caches keep this response, so it must not set a cookie: `?lang=en` is not
    # remembered in the session here (shop.text.web.remember_language would start one).
    session.modified = False
    return response


@bp.get("/products.csv")
def products_csv():
    return feed_response("csv", "text/csv", csv_body)


@bp.get("/products.xml")
def products_xml():
    return feed_response("xml", "application/xml", xml_body)
