"""What the <head> of a page tells search engines and link previews.

Canonical address: the page's clean path on SITE_URL (else the request's host), with only the
query arguments that change what the page lists (see CANONICAL_ARGS and `page`); sort orders,
`lang` and tracking tags (utm_*, fbclid, …) are noise. Vietnamese is the clean address,
English the same address with ?lang=en, and x-default is the Vietnamese one.

Only the public pages in INDEXABLE are indexed; every other page of the site (sign-in, forms,
dashboards, console, error pages) says noindex, search results say "noindex, follow".
"""

import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from flask import current_app, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from shop.access import PUBLIC
from shop.media.services import image_size, url_for_image

#: The public pages search engines may index, by endpoint.
INDEXABLE = frozenset(
    {
        "pages.home",
        "catalog.catalogue",
        "catalog.sector",
        "catalog.category",
        "catalog.product",
        "cooperatives.directory",
        "cooperatives.cooperative",
        "programmes.programmes",
        "programmes.programme",
        "programmes.booth",
    }
)

#: Filters that make a listing a page of its own (kept in its canonical address, in this order).
#: One filter is a real page ("honey from Tiên Du"); a combination of several is not indexed
#: (its links are followed), and sort orders only reorder a page, so they are never canonical.
CANONICAL_ARGS = {
    "catalog.catalogue": ("sector", "category", "locality", "ocop"),
    "cooperatives.directory": ("sector", "locality", "legal_form"),
}
#: Narrower filters and keyset cursors: such a page is not indexed, its links are followed.
#: (Numbered pages, `page`, stay indexable with their own canonical address; every product is
#: in the sitemap, so deep cursor pages need not be.)
NOT_INDEXED_ARGS = ("cert", "price", "season", "q", "cursor")

LOCALES = {"vi": "vi_VN", "en": "en_US"}

#: The site's share picture (static/img/share.png, made by shop/seo/share_image.py).
SHARE_IMAGE = ("img/share.png", 1200, 630)

_SPACE = re.compile(r"\s+")


def site_root() -> str:
    """https://host without a trailing slash: SITE_URL when set, never a forged Host header."""
    base = current_app.config.get("SITE_URL")
    if base:
        return base.rstrip("/")
    return request.host_url.rstrip("/")


def absolute(path: str) -> str:
    """An absolute URL for a path of this site ('/san-pham/x' → 'https://…/san-pham/x')."""
    return site_root() + path


def with_lang(path: str, lang: str) -> str:
    """The address of a path in a language: Vietnamese is the clean one, others add ?lang=."""
    if lang == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode({'lang': lang})}"


def _page_number() -> int:
    raw = request.args.get("page", "")
    if raw.isascii() and raw.isdecimal() and len(raw) <= 6:
        return int(raw)
    return 1


def listing_args(args=None) -> list[tuple[str, str]]:
    """The canonical filters of this listing, from `args` (what the view kept) or the request."""
    source = request.args if args is None else args
    pairs = []
    for name in CANONICAL_ARGS.get(request.endpoint, ()):
        value = source.get(name)
        if value not in (None, ""):
            pairs.append((name, str(value)))
    return pairs


def canonical_path(args=None) -> str:
    """This page's clean path: route, canonical filters and page number (no language)."""
    path = url_for(request.endpoint, **(request.view_args or {}))
    pairs = listing_args(args)
    page = _page_number()
    if page > 1:
        pairs.append(("page", str(page)))
    return f"{path}?{urlencode(pairs)}" if pairs else path


def robots_directive(error_page=False, args=None) -> str | None:
    """The page's robots meta content, or None for an indexable page."""
    endpoint = request.endpoint or ""
    if error_page or not endpoint:
        return "noindex"
    if endpoint.startswith("search."):
        # Results of any query are endless near-copies of listings; their links are worth following.
        return "noindex, follow"
    if endpoint not in INDEXABLE:
        return "noindex"
    narrowed = any(request.args.get(name) for name in NOT_INDEXED_ARGS)
    if narrowed or len(listing_args(args)) > 1:
        return "noindex, follow"
    return None


def is_public_page(error_page=False) -> bool:
    blueprint = current_app.blueprints.get(request.blueprint or "")
    return not error_page and getattr(blueprint, "audience", None) == PUBLIC


def seo_head(lang: str, error_page=False, canonical_args=None) -> dict:
    """What base.html writes in <head>: robots, canonical, alternates, og:url and locales."""
    if not isinstance(canonical_args, Mapping):
        canonical_args = None  # a template that set nothing passes Jinja's Undefined
    robots = robots_directive(error_page, canonical_args)
    head = {
        "robots": robots,
        "canonical": None,
        "alternates": [],
        "share": is_public_page(error_page),
        "locale": LOCALES.get(lang, LOCALES["vi"]),
        "locale_alternates": [value for key, value in LOCALES.items() if key != lang],
    }
    if robots is None:
        path = canonical_path(canonical_args)
        head["canonical"] = absolute(with_lang(path, lang))
        head["alternates"] = [(code, absolute(with_lang(path, code))) for code in LOCALES] + [
            ("x-default", absolute(path))
        ]
        head["url"] = head["canonical"]
    else:
        head["url"] = absolute(request.full_path.rstrip("?"))
    return head


def share_card(image=None, alt: str | None = None) -> dict:
    """og:image of a page: a stored photo's large derivative, else the site's share picture."""
    if image:  # a StoredImage; templates that set none pass Jinja's Undefined
        width, height = image_size(image, 1600)
        return {
            "url": absolute(url_for_image(image, 1600)),
            "width": width,
            "height": height,
            "type": "image/webp",
            "alt": alt or "",
        }
    filename, width, height = SHARE_IMAGE
    return {
        "url": absolute(url_for("static", filename=filename)),
        "width": width,
        "height": height,
        "type": "image/png",
        "alt": _("Chợ HTX — sản phẩm của các hợp tác xã tỉnh Bắc Ninh"),
    }


def summary(text, limit: int = 160) -> str:
    """Text on one line, cut at a word before `limit` characters with an ellipsis.

    Markup (a rendered template block) is cut as the text it shows and stays escaped.
    """
    if isinstance(text, Markup):
        return Markup.escape(summary(text.unescape(), limit))
    text = _SPACE.sub(" ", str(text or "")).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


def url_host(url) -> str:
    """The host of an outside link ('shopee.vn'), to show where it leads."""
    host = urlsplit(str(url or "")).hostname or ""
    return host.removeprefix("www.")
