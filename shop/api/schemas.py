"""The JSON shapes of the API: one function per resource, the same shape in lists and details.

Texts come in both languages at once (`{"vi": …, "en": …}`; `en` is null where no English was
written, and readers fall back to `vi`), so a response never depends on the visitor's language
and caches well. Money is whole VND as an integer (null = "Liên hệ", price on request); dates are
ISO 8601. Only what the public pages show is here: no drafts, moderation notes, review reasons,
staff reasons or users' emails. A cooperative's tax code is public registry data in Vietnam
(it is the cooperative's registration number) and its page shows it, so the API does too.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app, url_for

from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.media.images import DERIVATIVE_WIDTHS
from shop.media.services import image_size, master_name
from shop.programmes.models import Booth, Programme


def absolute(endpoint: str, **values) -> str:
    """An absolute link: SITE_URL when configured (behind a proxy), else this request's host."""
    base = current_app.config.get("SITE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def bilingual(vi: str | None, en: str | None) -> dict:
    return {"vi": vi or "", "en": en or None}


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # SQLite hands back naive datetimes; they are stored in UTC, like PostgreSQL's.
    return value.isoformat(timespec="seconds") + "Z"


def number(value: Decimal) -> int | float:
    """A quantity as a JSON number: whole quantities as integers (1, not 1.000)."""
    return int(value) if value == value.to_integral_value() else float(value)


def named(row) -> dict:
    """A vocabulary entry (sector, category, commune): its slug and its name in both languages."""
    return {"slug": row.slug, "name": bilingual(row.name_vi, row.name_en)}


def image(stored, alt_vi: str | None = None, alt_en: str | None = None) -> dict:
    sizes = []
    seen = set()
    for width in sorted(DERIVATIVE_WIDTHS):
        real_width, real_height = image_size(stored, width)
        if real_width in seen:  # a small master has fewer distinct derivatives
            continue
        seen.add(real_width)
        url = absolute("media.file", sha256=stored.sha256, name=f"{width}.webp")
        sizes.append({"width": real_width, "height": real_height, "url": url})
    return {
        "alt": bilingual(alt_vi, alt_en),
        "width": stored.width,
        "height": stored.height,
        "original_url": absolute("media.file", sha256=stored.sha256, name=master_name(stored)),
        "sizes": sizes,
    }


def ocop(product: Product, day: date) -> dict | None:
    """The OCOP rating while its certificate is valid; null once it has expired."""
    if not product.ocop_valid_on(day):
        return None
    return {
        "stars": product.ocop_stars,
        "year": product.ocop_year,
        "expires_on": iso_date(product.ocop_expires_on),
    }


def product(item: Product, day: date) -> dict:
    cooperative = item.cooperative
    return {
        "slug": item.slug,
        "name": bilingual(item.name_vi, item.name_en),
        "description": bilingual(item.description_vi, item.description_en),
        "category": named(item.category),
        "sector": named(item.sector),
        "cooperative": {
            "slug": cooperative.slug,
            "name": bilingual(cooperative.name, cooperative.name_en),
            "locality": named(cooperative.locality),
        },
        "unit": {"code": item.unit.code, "name": bilingual(item.unit.name_vi, item.unit.name_en)},
        "pack_size": bilingual(item.pack_size_vi, item.pack_size_en) if item.pack_size_vi else None,
        "price_vnd": item.price_vnd,
        "min_order": number(item.min_order_qty),
        "ocop": ocop(item, day),
        "certifications": [
            {
                "code": held.kind.code,
                "name": bilingual(held.kind.name_vi, held.kind.name_en),
                "verified": held.verified,
            }
            for held in item.certifications
        ],
        "season_months": item.season_month_list,
        "images": [image(photo.image, photo.alt_vi, photo.alt_en) for photo in item.images],
        "url": absolute("catalog.product", slug=item.slug),
        "updated_at": iso_datetime(item.updated_at),
    }


def cooperative(item: Cooperative, product_count: int) -> dict:
    locality = item.locality
    return {
        "slug": item.slug,
        "name": bilingual(item.name, item.name_en),
        "legal_form": item.legal_form.value,
        "sector": named(item.sector),
        "locality": {
            **named(locality),
            "district_2022": bilingual(
                locality.district_2022_name_vi, locality.district_2022_name_en
            )
            if locality.district_2022_name_vi
            else None,
        },
        "address": bilingual(item.address_vi, item.address_en),
        "founded_year": item.founded_year,
        "member_count": item.member_count,
        "description": bilingual(item.description_vi, item.description_en),
        "tax_code": item.tax_code or None,
        "tax_code_is_demo": bool(item.tax_code and item.tax_code_is_demo),
        # The cooperative's own published contacts, as on its page (not its members' accounts).
        "contacts": {
            "phone": item.phone or None,
            "zalo": item.zalo or None,
            "email": item.email or None,
            "website": item.website or None,
        },
        "logo": image(item.logo_image) if item.logo_image is not None else None,
        "product_count": product_count,
        "url": absolute("cooperatives.cooperative", slug=item.slug),
        "updated_at": iso_datetime(item.updated_at),
    }


def programme(item: Programme, day: date, booth_count: int) -> dict:
    return {
        "slug": item.slug,
        "title": bilingual(item.title_vi, item.title_en),
        "organizer": bilingual(item.organizer_vi, item.organizer_en),
        "start_date": iso_date(item.start_date),
        "end_date": iso_date(item.end_date),
        "registration_deadline": iso_date(item.registration_deadline),
        "venue": bilingual(item.venue_vi, item.venue_en),
        "description": bilingual(item.description_vi, item.description_en),
        "timing": item.timing(day),
        "is_demo_reconstruction": item.is_demo_reconstruction,
        "booth_count": booth_count,
        "url": absolute("programmes.programme", slug=item.slug),
        "updated_at": iso_datetime(item.updated_at),
    }


def booth(item: Booth, programme_slug: str, featured: list[str]) -> dict:
    """A booth; a booth whose cooperative is not public shows as vacant (no cooperative)."""
    shown = (
        item.cooperative if item.cooperative is not None and item.cooperative.is_public else None
    )
    return {
        "number": item.number,
        "zone": item.zone or None,
        "cooperative": {
            "slug": shown.slug,
            "name": bilingual(shown.name, shown.name_en),
            "sector": named(shown.sector),
            "locality": named(shown.locality),
        }
        if shown is not None
        else None,
        "featured_products": featured if shown is not None else [],
        "url": absolute("programmes.booth", slug=programme_slug, number=item.number)
        if shown is not None
        else None,
    }
