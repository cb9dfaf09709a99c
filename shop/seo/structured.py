"""schema.org data of public pages, written as JSON-LD.

Choices (schema.org allows more; these are what Google reads):
- Product: `sku` is the slug; `brand` and `manufacturer` are the cooperative as an Organization
  (one `@id`, the same as on the cooperative's page). A product with a price has an Offer in VND
  with the price as a whole number. A product sold at "Liên hệ" (price on request) has no Offer:
  Google rejects an Offer without `price`, and a made-up price would be worse, so such a product
  is described without one.
- Availability follows the season calendar: InStock in a month the product is available,
  OutOfStock outside its season, MadeToOrder when it is made to order.
"""

import json
from datetime import date
from decimal import Decimal

from flask import request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from shop.cooperatives.views import tel_href, web_href
from shop.media.services import url_for_image
from shop.security import csp_nonce
from shop.seo.meta import absolute, summary, with_lang
from shop.text.i18n import current_lang

CONTEXT = "https://schema.org"

#: Characters that could end the <script> element or open an HTML comment, and line
#: separators that old JavaScript parsers choke on, written as JSON escapes.
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _jsonable(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def ld_json(data) -> Markup:
    """A <script type="application/ld+json"> element whose text cannot break out of it."""
    if not data:
        return Markup("")
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    for char, escape in _UNSAFE.items():
        text = text.replace(char, escape)
    return Markup(f'<script type="application/ld+json" nonce="{csp_nonce()}">{text}</script>')


def _url(endpoint: str, **values) -> str:
    return absolute(with_lang(url_for(endpoint, **values), current_lang()))


def _clean(data: dict) -> dict:
    """Drop empty values, so no property says "" or null."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def organization_ref(cooperative) -> dict:
    """The cooperative as an Organization, as products name it (the same @id as its page)."""
    url = _url("cooperatives.cooperative", slug=cooperative.slug)
    # One @id in every language: the clean (Vietnamese) address names the cooperative.
    clean = absolute(url_for("cooperatives.cooperative", slug=cooperative.slug))
    return {
        "@type": "Organization",
        "@id": f"{clean}#organization",
        "name": cooperative.t("name"),
        "url": url,
    }


def product_ld(product, today: date) -> dict:
    url = _url("catalog.product", slug=product.slug)
    maker = organization_ref(product.cooperative)
    data = {
        "@context": CONTEXT,
        "@type": "Product",
        "@id": absolute(url_for("catalog.product", slug=product.slug)) + "#product",
        "name": product.t("name"),
        "description": summary(product.t("description"), 5000),
        "sku": product.slug,
        "url": url,
        "category": product.category.t("name"),
        "image": [absolute(url_for_image(photo.image, 1600)) for photo in product.images],
        "brand": maker,
        "manufacturer": maker,
    }
    if product.ocop_valid_on(today):
        award = _("Sản phẩm OCOP %(stars)d sao", stars=product.ocop_stars)
        data["award"] = f"{award} ({product.ocop_year})" if product.ocop_year else award
    if product.price_vnd:
        data["offers"] = _clean(
            {
                "@type": "Offer",
                "url": url,
                "priceCurrency": "VND",
                "price": int(product.price_vnd),
                "availability": availability(product, today),
                "itemCondition": "https://schema.org/NewCondition",
                "seller": maker,
                "eligibleQuantity": {
                    "@type": "QuantitativeValue",
                    "minValue": product.min_order_qty,
                    "unitText": product.unit.t("name"),
                },
            }
        )
    return _clean(data)


def availability(product, today: date) -> str:
    if product.made_to_order:
        return "https://schema.org/MadeToOrder"
    if today.month in product.season_month_list:
        return "https://schema.org/InStock"
    return "https://schema.org/OutOfStock"


def organization_ld(cooperative) -> dict:
    """The cooperative's page: who it is, where, how to reach it."""
    locality = cooperative.locality
    phone = tel_href(cooperative.phone)
    data = {
        "@context": CONTEXT,
        **organization_ref(cooperative),
        "legalName": cooperative.name,
        "description": summary(cooperative.t("description"), 5000),
        "address": _clean(
            {
                "@type": "PostalAddress",
                "streetAddress": cooperative.t("address"),
                "addressLocality": locality.t("name"),
                "addressRegion": "Bắc Ninh",
                "addressCountry": "VN",
            }
        ),
        "telephone": phone[len("tel:") :] if phone else None,
        "email": cooperative.email,
        "sameAs": [web_href(cooperative.website)] if web_href(cooperative.website) else [],
        "foundingDate": str(cooperative.founded_year) if cooperative.founded_year else None,
    }
    if cooperative.tax_code and not cooperative.tax_code_is_demo:
        data["taxID"] = cooperative.tax_code
    if cooperative.logo_image is not None:
        data["logo"] = absolute(url_for_image(cooperative.logo_image, 800))
    if cooperative.cover_image is not None:
        data["image"] = absolute(url_for_image(cooperative.cover_image, 1600))
    return _clean(data)


def breadcrumb_ld(items) -> dict:
    """BreadcrumbList of a breadcrumbs trail: home, then (label, path) pairs; None = this page."""
    trail = [(_("Trang chủ"), url_for("pages.home")), *items]
    lang = current_lang()
    elements = []
    for position, (label, path) in enumerate(trail, start=1):
        target = path or url_for(request.endpoint, **(request.view_args or {}))
        elements.append(
            {
                "@type": "ListItem",
                "position": position,
                "name": str(label),
                "item": absolute(with_lang(target, lang)),
            }
        )
    return {"@context": CONTEXT, "@type": "BreadcrumbList", "itemListElement": elements}


def website_ld() -> dict:
    """The home page: the site and its search box (sitelinks search)."""
    return {
        "@context": CONTEXT,
        "@type": "WebSite",
        "name": "Chợ HTX",
        "url": _url("pages.home"),
        "inLanguage": current_lang(),
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": absolute("/tim-kiem") + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }


def event_ld(programme) -> dict:
    """A programme (fair, market day) as an Event held in Bắc Ninh."""
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "Event",
            "name": programme.t("title"),
            "description": summary(programme.t("description"), 5000),
            "url": _url("programmes.programme", slug=programme.slug),
            "startDate": programme.start_date,
            "endDate": programme.end_date or programme.start_date,
            "eventStatus": "https://schema.org/EventScheduled",
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
            "location": _clean(
                {
                    "@type": "Place",
                    "name": programme.t("venue") or "Bắc Ninh",
                    "address": {
                        "@type": "PostalAddress",
                        "addressRegion": "Bắc Ninh",
                        "addressCountry": "VN",
                    },
                }
            ),
            "organizer": (
                {"@type": "Organization", "name": programme.t("organizer")}
                if programme.t("organizer")
                else None
            ),
        }
    )
