"""Read the import format (see DESIGN, Contracts): validate everything, then upsert by slug.

Validation runs over the whole file before anything is written, so a bad file changes nothing
and every bad record is reported with its path (``products[17].category``) and the reason.
"""

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.catalog.models import (
    ALL_MONTHS,
    MAX_PRICE_VND,
    Category,
    CertificationKind,
    OcopGroup,
    Product,
    ProductCertification,
    ProductStatus,
    Unit,
    months_to_mask,
)
from shop.cooperatives.models import (
    Cooperative,
    CooperativeStatus,
    LegalForm,
    Locality,
    LocalityKind,
    Sector,
)
from shop.cooperatives.rules import normalize_phone, normalize_tax_code, tax_code_error
from shop.db import utcnow
from shop.programmes.models import Booth, BoothProduct, Programme, ProgrammeStatus
from shop.text.folding import SLUG_RE

SECTIONS = ("sectors", "product_categories", "localities", "cooperatives", "products", "events")

#: The import format's words for states, mapped onto ours; our own names are accepted too.
PRODUCT_STATUS_IN = {
    "approved": ProductStatus.PUBLISHED,
    "pending": ProductStatus.SUBMITTED,
    **{s.value: s for s in ProductStatus},
}
PRODUCT_STATUS_OUT = {
    ProductStatus.PUBLISHED: "approved",
    ProductStatus.SUBMITTED: "pending",
}
COOPERATIVE_STATUS_IN = {
    "active": CooperativeStatus.VERIFIED,
    "dissolved": CooperativeStatus.INACTIVE,
    **{s.value: s for s in CooperativeStatus},
}
COOPERATIVE_STATUS_OUT = {CooperativeStatus.VERIFIED: "active"}
PROGRAMME_STATUS_IN = {
    # The format describes timing ("past", "upcoming"); timing is derived from dates here.
    "past": ProgrammeStatus.PUBLISHED,
    "upcoming": ProgrammeStatus.PUBLISHED,
    "ongoing": ProgrammeStatus.PUBLISHED,
    **{s.value: s for s in ProgrammeStatus},
}
MAX_MIN_ORDER = Decimal("1000000")


class ImportFailed(Exception):
    """The file cannot be imported; `errors` lists (path, reason) for every problem found."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors[:5]))


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())


def read_file(path: str) -> dict:
    """Parse a JSON file of the import format, reporting malformed input as an ImportFailed."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ImportFailed([("$", f"file not found: {path}")]) from None
    except UnicodeDecodeError as exc:
        raise ImportFailed([("$", f"not UTF-8 text ({exc.reason})")]) from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            [("$", f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None
    return data


def _nfc(value: Any) -> Any:
    """NFC-normalise every string in a JSON value, recursively."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    return value


class _Validator:
    """Collects errors with their record paths while turning records into column values."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def error(self, path: str, reason: str) -> None:
        self.errors.append((path, reason))

    def text(self, rec, key, path, *, required=False, max_length=255):
        value = rec.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(f"{path}.{key}", "is required")
            return None
        if not isinstance(value, str):
            self.error(f"{path}.{key}", "must be text")
            return None
        value = value.strip()
        if max_length and len(value) > max_length:
            self.error(f"{path}.{key}", f"is longer than {max_length} characters")
        return value

    def integer(self, rec, key, path, *, required=False, minimum=None, maximum=None):
        value = rec.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(f"{path}.{key}", f"must be a whole number, got {value!r}")
            return None
        if minimum is not None and value < minimum:
            self.error(f"{path}.{key}", f"must be at least {minimum}, got {value}")
            return None
        if maximum is not None and value > maximum:
            self.error(f"{path}.{key}", f"must be at most {maximum}, got {value}")
            return None
        return value

    def boolean(self, rec, key, path, default=False):
        value = rec.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", "must be true or false")
            return default
        return value

    def iso_date(self, rec, key, path, *, required=False):
        value = rec.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", "is required")
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.error(f"{path}.{key}", f"must be a date written YYYY-MM-DD, got {value!r}")
            return None

    def text_list(self, rec, key, path):
        value = rec.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(f"{path}.{key}", "must be a list of texts")
            return []
        return [v.strip() for v in value if v.strip()]

    def choice(self, rec, key, path, mapping, *, default=None):
        value = rec.get(key)
        if value is None:
            return default
        if value not in mapping:
            allowed = ", ".join(sorted(mapping))
            self.error(f"{path}.{key}", f"unknown value {value!r} (allowed: {allowed})")
            return default
        return mapping[value]

    def slug(self, rec, path, seen: dict[str, str], section: str):
        slug = rec.get("slug")
        if not isinstance(slug, str) or not slug:
            self.error(f"{path}.slug", "is required")
            return None
        if not SLUG_RE.match(slug) or len(slug) > 160:
            self.error(f"{path}.slug", f"{slug!r} is not a slug (a-z, 0-9 and hyphens)")
            return None
        if slug in seen:
            self.error(f"{path}.slug", f"duplicate slug {slug!r} (also {seen[slug]})")
            return None
        seen[slug] = path
        return slug


@dataclass
class _Plan:
    """Validated records, ready to write."""

    units: list[dict] = field(default_factory=list)
    certifications: list[dict] = field(default_factory=list)
    ocop_groups: dict[int, dict] = field(default_factory=dict)
    sectors: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    localities: list[dict] = field(default_factory=list)
    cooperatives: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    programmes: list[dict] = field(default_factory=list)


def _records(data: dict, key: str, v: _Validator) -> list[tuple[str, dict]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        v.error(key, "must be a list")
        return []
    out = []
    for i, rec in enumerate(value):
        if not isinstance(rec, dict):
            v.error(f"{key}[{i}]", "must be an object")
            continue
        out.append((f"{key}[{i}]", rec))
    return out


def _vocabulary(data, key, v, existing: set[str]) -> list[dict]:
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        v.error("meta", "must be an object")
        return []
    items = meta.get(key) or []
    if not isinstance(items, list):
        v.error(f"meta.{key}", "must be a list")
        return []
    seen: dict[str, str] = {}
    out = []
    for i, rec in enumerate(items):
        path = f"meta.{key}[{i}]"
        if not isinstance(rec, dict):
            v.error(path, "must be an object")
            continue
        code = v.text(rec, "code", path, required=True, max_length=40)
        name_vi = v.text(rec, "name_vi", path, required=True, max_length=160)
        if code in seen:
            v.error(f"{path}.code", f"duplicate code {code!r} (also {seen[code]})")
            continue
        if code:
            seen[code] = path
            out.append({"code": code, "name_vi": name_vi, "name_en": v.text(rec, "name_en", path)})
    existing.update(seen)
    return out


def validate(data: Any, session: Session) -> _Plan:
    """Check a whole file against itself and the database; raise ImportFailed on any error."""
    v = _Validator()
    if not isinstance(data, dict):
        raise ImportFailed([("$", "the file must hold a JSON object with the format's keys")])
    data = _nfc(data)
    plan = _Plan()

    def known(model, column) -> set:
        return set(session.scalars(select(column)))

    units = known(Unit, Unit.code)
    certs = known(CertificationKind, CertificationKind.code)
    plan.units = _vocabulary(data, "units", v, units)
    plan.certifications = _vocabulary(data, "certifications", v, certs)

    # Sectors
    sector_slugs = known(Sector, Sector.slug)
    seen: dict[str, str] = {}
    for path, rec in _records(data, "sectors", v):
        slug = v.slug(rec, path, seen, "sectors")
        row = {
            "slug": slug,
            "name_vi": v.text(rec, "name_vi", path, required=True, max_length=120),
            "name_en": v.text(rec, "name_en", path, max_length=120),
            "sort_order": v.integer(rec, "sort_order", path) or 0,
            "count_2022": v.integer(rec, "count_2022", path, minimum=0),
        }
        if slug:
            plan.sectors.append(row)
    sector_slugs |= set(seen)

    # Categories (and the OCOP groups they name)
    groups = known(OcopGroup, OcopGroup.code)
    category_slugs = known(Category, Category.slug)
    seen = {}
    for path, rec in _records(data, "product_categories", v):
        slug = v.slug(rec, path, seen, "product_categories")
        group = v.integer(rec, "ocop_group", path, minimum=1, maximum=6)
        if group is not None and group not in plan.ocop_groups:
            name_vi = v.text(rec, "ocop_group_name_vi", path, max_length=160)
            if name_vi:
                plan.ocop_groups[group] = {
                    "code": group,
                    "name_vi": name_vi,
                    "name_en": v.text(rec, "ocop_group_name_en", path, max_length=160),
                }
            elif group not in groups:
                v.error(f"{path}.ocop_group", f"unknown OCOP group {group} (give its name)")
        row = {
            "slug": slug,
            "name_vi": v.text(rec, "name_vi", path, required=True, max_length=120),
            "name_en": v.text(rec, "name_en", path, max_length=120),
            "sort_order": v.integer(rec, "sort_order", path) or 0,
            "ocop_group_code": group,
        }
        if slug:
            plan.categories.append(row)
    category_slugs |= set(seen)

    # Localities
    locality_slugs = known(Locality, Locality.slug)
    kinds = {k.value: k for k in LocalityKind}
    seen = {}
    for path, rec in _records(data, "localities", v):
        slug = v.slug(rec, path, seen, "localities")
        name_vi = v.text(rec, "name_vi", path, required=True, max_length=120)
        row = {
            "slug": slug,
            "name_vi": name_vi,
            "name_en": v.text(rec, "name_en", path, max_length=120),
            "short_name": v.text(rec, "short_name", path, max_length=80) or name_vi,
            "kind": v.choice(rec, "type", path, kinds, default=LocalityKind.COMMUNE),
            "admin_code": v.text(rec, "admin_code", path, max_length=10),
            "province_vi": v.text(rec, "province_vi", path, max_length=80) or "Tỉnh Bắc Ninh",
            "province_en": v.text(rec, "province_en", path, max_length=80),
            "district_2022_slug": v.text(rec, "district_2022", path, max_length=80),
            "district_2022_name_vi": v.text(rec, "district_2022_name_vi", path, max_length=120),
            "district_2022_name_en": v.text(rec, "district_2022_name_en", path, max_length=120),
            "former_units_vi": v.text_list(rec, "former_units_vi", path),
            "known_for_vi": v.text_list(rec, "known_for_vi", path),
            "known_for_en": v.text_list(rec, "known_for_en", path),
        }
        if slug:
            plan.localities.append(row)
    locality_slugs |= set(seen)

    # Cooperatives
    existing_coops = {
        slug: tax for slug, tax in session.execute(select(Cooperative.slug, Cooperative.tax_code))
    }
    coop_slugs = set(existing_coops)
    tax_owner = {tax: slug for slug, tax in existing_coops.items() if tax}
    legal_forms = {f.value: f for f in LegalForm}
    seen = {}
    for path, rec in _records(data, "cooperatives", v):
        slug = v.slug(rec, path, seen, "cooperatives")
        sector = rec.get("sector")
        if sector not in sector_slugs:
            v.error(f"{path}.sector", f"unknown sector {sector!r}")
        locality = rec.get("locality")
        if locality not in locality_slugs:
            v.error(f"{path}.locality", f"unknown locality {locality!r}")
        tax_code = v.text(rec, "tax_code", path, max_length=20)
        if tax_code:
            tax_code = normalize_tax_code(tax_code)
            problem = tax_code_error(tax_code)
            if problem:
                v.error(f"{path}.tax_code", f"{tax_code!r}: {problem}")
            elif tax_owner.get(tax_code, slug) != slug:
                v.error(
                    f"{path}.tax_code",
                    f"{tax_code} already belongs to cooperative {tax_owner[tax_code]!r}",
                )
            else:
                tax_owner[tax_code] = slug
        phones = {}
        for key in ("phone", "zalo"):
            raw = v.text(rec, key, path, max_length=30)
            if raw and normalize_phone(raw) is None:
                v.error(f"{path}.{key}", f"{raw!r} is not a Vietnamese phone number")
            phones[key] = raw
        row = {
            "slug": slug,
            "name": v.text(rec, "name", path, required=True),
            "name_en": v.text(rec, "name_en", path),
            "legal_form": v.choice(
                rec, "legal_form", path, legal_forms, default=LegalForm.COOPERATIVE
            ),
            "sector": sector,
            "locality": locality,
            "address_vi": v.text(rec, "address_vi", path) or "",
            "address_en": v.text(rec, "address_en", path),
            "legacy_address_vi": v.text(rec, "legacy_address_vi", path),
            "founded_year": v.integer(rec, "founded_year", path, minimum=1900, maximum=2100),
            "member_count": v.integer(rec, "member_count", path, minimum=0),
            "member_type": v.text(rec, "member_type", path, max_length=40),
            "description_vi": v.text(rec, "description_vi", path, max_length=None) or "",
            "description_en": v.text(rec, "description_en", path, max_length=None),
            "phone": phones["phone"],
            "zalo": phones["zalo"],
            "email": v.text(rec, "email", path, max_length=254),
            "website": v.text(rec, "website", path),
            "tax_code": tax_code,
            "tax_code_is_demo": v.boolean(rec, "tax_code_is_demo", path),
            "is_demo": v.boolean(rec, "is_demo", path),
            "status": v.choice(
                rec, "status", path, COOPERATIVE_STATUS_IN, default=CooperativeStatus.VERIFIED
            ),
        }
        if slug:
            plan.cooperatives.append(row)
    coop_slugs |= set(seen)

    # Products
    existing_products = {
        slug: (coop, status)
        for slug, coop, status in session.execute(
            select(Product.slug, Cooperative.slug, Product.status).join(Product.cooperative)
        )
    }
    product_info = dict(existing_products)
    seen = {}
    for path, rec in _records(data, "products", v):
        slug = v.slug(rec, path, seen, "products")
        coop = rec.get("cooperative")
        if coop not in coop_slugs:
            v.error(f"{path}.cooperative", f"unknown cooperative {coop!r}")
        category = rec.get("category")
        if category not in category_slugs:
            v.error(f"{path}.category", f"unknown category {category!r}")
        unit = rec.get("unit")
        if unit not in units:
            v.error(f"{path}.unit", f"unknown unit {unit!r}")
        price = v.integer(rec, "price_vnd", path, required=True, minimum=0, maximum=MAX_PRICE_VND)
        min_order = _min_order(rec, path, v)
        stars = rec.get("ocop_stars", 0) or 0
        if stars not in (0, 3, 4, 5) or isinstance(stars, bool):
            v.error(f"{path}.ocop_stars", f"must be 0, 3, 4 or 5, got {stars!r}")
            stars = 0
        cert_codes = []
        raw_certs = rec.get("certifications") or []
        if not isinstance(raw_certs, list):
            v.error(f"{path}.certifications", "must be a list of codes")
            raw_certs = []
        for j, item in enumerate(raw_certs):
            code, verified = (item, False) if isinstance(item, str) else (None, False)
            if isinstance(item, dict):
                code, verified = item.get("code"), bool(item.get("verified"))
            if code not in certs:
                v.error(f"{path}.certifications[{j}]", f"unknown certification {code!r}")
            elif code in {c for c, _ in cert_codes}:
                v.error(f"{path}.certifications[{j}]", f"{code!r} listed twice")
            else:
                cert_codes.append((code, verified))
        season = _season(rec, path, v)
        status = v.choice(rec, "status", path, PRODUCT_STATUS_IN, default=ProductStatus.DRAFT)
        row = {
            "slug": slug,
            "cooperative": coop,
            "category": category,
            "name_vi": v.text(rec, "name_vi", path, required=True),
            "name_en": v.text(rec, "name_en", path),
            "description_vi": v.text(rec, "description_vi", path, max_length=None) or "",
            "description_en": v.text(rec, "description_en", path, max_length=None),
            "unit_code": unit,
            "pack_size_vi": v.text(rec, "pack_size_vi", path, max_length=80),
            "pack_size_en": v.text(rec, "pack_size_en", path, max_length=80),
            "price_vnd": price or None,
            "min_order_qty": min_order,
            "ocop_stars": stars,
            "ocop_year": v.integer(rec, "ocop_year", path, minimum=2000, maximum=2100),
            "ocop_certificate_no": v.text(rec, "ocop_certificate_no", path, max_length=60),
            "ocop_expires_on": v.iso_date(rec, "ocop_expires_on", path),
            "certifications": cert_codes,
            **season,
            "traceability_url": _url(rec, "traceability_url", path, v),
            "status": status,
            "moderation_note": v.text(rec, "moderation_note", path, max_length=None),
        }
        if slug:
            plan.products.append(row)
            product_info[slug] = (coop, status)

    # Programmes and their booths
    seen = {}
    for path, rec in _records(data, "events", v):
        slug = v.slug(rec, path, seen, "events")
        start = v.iso_date(rec, "start_date", path, required=True)
        end = v.iso_date(rec, "end_date", path) or start
        if start and end and end < start:
            v.error(f"{path}.end_date", "is before start_date")
        zones = v.text_list(rec, "zones", path)
        if len(zones) > 12 or any(len(z) > 60 for z in zones) or len(set(zones)) != len(zones):
            v.error(f"{path}.zones", "must be at most 12 different names of at most 60 characters")
        grid = {
            key: value
            for key in ("plan_columns", "plan_rows")
            if (value := v.integer(rec, key, path, minimum=1, maximum=30)) is not None
        }
        booths = []
        numbers: dict[int, str] = {}
        coops_here: dict[str, str] = {}
        raw_booths = rec.get("booths") or []
        if not isinstance(raw_booths, list):
            v.error(f"{path}.booths", "must be a list")
            raw_booths = []
        for j, booth in enumerate(raw_booths):
            bpath = f"{path}.booths[{j}]"
            if not isinstance(booth, dict):
                v.error(bpath, "must be an object")
                continue
            number = v.integer(booth, "number", bpath, required=True, minimum=1, maximum=99999)
            if number in numbers:
                v.error(f"{bpath}.number", f"booth {number} appears twice (also {numbers[number]})")
            elif number is not None:
                numbers[number] = bpath
            coop = booth.get("cooperative")
            if coop is not None and coop not in coop_slugs:
                v.error(f"{bpath}.cooperative", f"unknown cooperative {coop!r}")
            elif coop in coops_here:
                v.error(f"{bpath}.cooperative", f"{coop!r} already has {coops_here[coop]}")
            elif coop:
                coops_here[coop] = bpath
            featured = booth.get("featured_products") or []
            if not isinstance(featured, list):
                v.error(f"{bpath}.featured_products", "must be a list of product slugs")
                featured = []
            for k, pslug in enumerate(featured):
                info = product_info.get(pslug)
                fpath = f"{bpath}.featured_products[{k}]"
                if info is None:
                    v.error(fpath, f"unknown product {pslug!r}")
                elif info[0] != coop:
                    v.error(fpath, f"product {pslug!r} belongs to another cooperative ({info[0]})")
                elif info[1] != ProductStatus.PUBLISHED:
                    v.error(fpath, f"product {pslug!r} is not published")
            if len(set(featured)) != len(featured):
                v.error(f"{bpath}.featured_products", "lists a product twice")
            if zones and booth.get("zone") is not None and booth.get("zone") not in zones:
                v.error(f"{bpath}.zone", f"{booth.get('zone')!r} is not one of the event's zones")
            booths.append(
                {
                    "number": number,
                    "cooperative": coop,
                    "featured": list(featured),
                    "zone": v.text(booth, "zone", bpath, max_length=60),
                    "plan_column": v.integer(booth, "plan_column", bpath, minimum=1, maximum=200),
                    "plan_row": v.integer(booth, "plan_row", bpath, minimum=1, maximum=200),
                    "livestream_url": _url(booth, "livestream_url", bpath, v),
                }
            )
        row = {
            "slug": slug,
            "title_vi": v.text(rec, "name_vi", path, required=True),
            "title_en": v.text(rec, "name_en", path),
            "organizer_vi": v.text(rec, "organizer_vi", path) or "",
            "organizer_en": v.text(rec, "organizer_en", path),
            "start_date": start,
            "end_date": end,
            "registration_deadline": v.iso_date(rec, "registration_deadline", path),
            "venue_vi": v.text(rec, "location_vi", path) or "",
            "venue_en": v.text(rec, "location_en", path),
            "description_vi": v.text(rec, "description_vi", path, max_length=None) or "",
            "description_en": v.text(rec, "description_en", path, max_length=None),
            "status": v.choice(
                rec, "status", path, PROGRAMME_STATUS_IN, default=ProgrammeStatus.PUBLISHED
            ),
            "is_demo_reconstruction": v.boolean(rec, "is_demo_reconstruction", path),
            "stats": rec.get("stats") if isinstance(rec.get("stats"), dict) else None,
            "zones": zones or None,
            **grid,
            "booths": booths,
        }
        if slug:
            plan.programmes.append(row)

    if v.errors:
        raise ImportFailed(v.errors)
    return plan


def _min_order(rec, path, v) -> Decimal:
    value = rec.get("min_order_qty", 1)
    if value is None:
        return Decimal(1)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        v.error(f"{path}.min_order_qty", f"must be a number, got {value!r}")
        return Decimal(1)
    try:
        qty = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        v.error(f"{path}.min_order_qty", f"must be a number, got {value!r}")
        return Decimal(1)
    if not qty.is_finite() or qty <= 0 or qty > MAX_MIN_ORDER:
        v.error(f"{path}.min_order_qty", f"must be above 0 and at most 1000000, got {value!r}")
        return Decimal(1)
    if qty != qty.quantize(Decimal("0.001")):
        v.error(f"{path}.min_order_qty", "allows at most 3 decimals")
    return qty


def _season(rec, path, v) -> dict:
    season = rec.get("season")
    if season is None:
        return {
            "season_key": None,
            "season_vi": None,
            "season_en": None,
            "season_months": ALL_MONTHS,
            "made_to_order": False,
        }
    if not isinstance(season, dict):
        v.error(f"{path}.season", "must be an object")
        season = {}
    months = season.get("months") or list(range(1, 13))
    if not isinstance(months, list) or not all(
        isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months
    ):
        v.error(f"{path}.season.months", "must be a list of months 1–12")
        months = list(range(1, 13))
    spath = f"{path}.season"
    return {
        "season_key": v.text(season, "key", spath, max_length=40),
        "season_vi": v.text(season, "vi", spath, max_length=120),
        "season_en": v.text(season, "en", spath, max_length=120),
        "season_months": months_to_mask(months),
        "made_to_order": v.boolean(season, "made_to_order", spath),
    }


def _url(rec, key, path, v) -> str | None:
    value = v.text(rec, key, path, max_length=500)
    if value and not value.startswith(("https://", "http://")):
        v.error(f"{path}.{key}", f"must be a web address starting with https://, got {value!r}")
        return None
    return value


# --------------------------------------------------------------------------- writing


def _apply(obj, values: dict) -> bool:
    """Set only the attributes that differ; report whether anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _upsert(session, model, key_col: str, rows, report: ImportReport, label: str, extra=None):
    existing = {getattr(o, key_col): o for o in session.scalars(select(model))}
    result = {}
    for row in rows:
        values = dict(row) if extra is None else extra(row)
        obj = existing.get(values[key_col])
        if obj is None:
            obj = model(**values)
            session.add(obj)
            report.created[label] += 1
        elif _apply(obj, values):
            report.updated[label] += 1
        else:
            report.unchanged[label] += 1
        result[values[key_col]] = obj
    session.flush()
    return {getattr(o, key_col): o for o in session.scalars(select(model))}


def import_data(data: Any, session: Session) -> ImportReport:
    """Validate `data` whole, then upsert it; the caller commits (or rolls back)."""
    plan = validate(data, session)
    report = ImportReport()
    with session.no_autoflush:
        _upsert(session, Unit, "code", plan.units, report, "units")
        _upsert(session, CertificationKind, "code", plan.certifications, report, "certifications")
        _upsert(session, OcopGroup, "code", plan.ocop_groups.values(), report, "ocop_groups")
        sectors = _upsert(session, Sector, "slug", plan.sectors, report, "sectors")
        _upsert(session, Category, "slug", plan.categories, report, "categories")
        _upsert(session, Locality, "slug", plan.localities, report, "localities")
        sectors = {s.slug: s for s in session.scalars(select(Sector))}
        localities = {loc.slug: loc for loc in session.scalars(select(Locality))}
        categories = {c.slug: c for c in session.scalars(select(Category))}

        def coop_values(row):
            values = dict(row)
            values["sector_id"] = sectors[values.pop("sector")].id
            values["locality_id"] = localities[values.pop("locality")].id
            return values

        coops = _upsert(
            session, Cooperative, "slug", plan.cooperatives, report, "cooperatives", coop_values
        )
        _write_products(session, plan.products, coops, categories, report)
        _write_programmes(session, plan.programmes, coops, report)
    session.flush()
    return report


def _write_products(session, rows, coops, categories, report):
    existing = {p.slug: p for p in session.scalars(select(Product))}
    certs_by_product: dict[int, dict[str, ProductCertification]] = {}
    for pc in session.scalars(select(ProductCertification)):
        certs_by_product.setdefault(pc.product_id, {})[pc.certification_code] = pc
    for row in rows:
        values = dict(row)
        cert_codes = values.pop("certifications")
        coop = coops[values.pop("cooperative")]
        values["cooperative_id"] = coop.id
        values["sector_id"] = coop.sector_id
        values["category_id"] = categories[values.pop("category")].id
        product = existing.get(values["slug"])
        if product is None:
            if values["status"] == ProductStatus.PUBLISHED:
                values["published_at"] = utcnow()
            product = Product(**values)
            session.add(product)
            session.flush()
            changed, created = True, True
        else:
            was_published = product.status == ProductStatus.PUBLISHED
            changed, created = _apply(product, values), False
            if values["status"] == ProductStatus.PUBLISHED and not was_published:
                product.published_at = utcnow()
        current = certs_by_product.get(product.id, {})
        wanted = dict(cert_codes)
        for code, pc in current.items():
            if code not in wanted:
                session.delete(pc)
                changed = True
            elif pc.verified != wanted[code]:
                pc.verified = wanted[code]
                changed = True
        for code, verified in cert_codes:
            if code not in current:
                session.add(
                    ProductCertification(
                        product_id=product.id, certification_code=code, verified=verified
                    )
                )
                changed = True
        if created:
            report.created["products"] += 1
        elif changed:
            report.updated["products"] += 1
        else:
            report.unchanged["products"] += 1
    session.flush()


def _write_programmes(session, rows, coops, report):
    if not rows:
        return
    products = dict(session.execute(select(Product.slug, Product.id)).all())
    existing = {p.slug: p for p in session.scalars(select(Programme))}
    for row in rows:
        values = dict(row)
        booth_rows = values.pop("booths")
        programme = existing.get(values["slug"])
        created = programme is None
        if created:
            programme = Programme(**values)
            session.add(programme)
            session.flush()
            changed = True
        else:
            changed = _apply(programme, values)
        booths = {
            b.number: b for b in session.scalars(select(Booth).filter_by(programme_id=programme.id))
        }
        wanted_numbers = {b["number"] for b in booth_rows}
        for number, booth in booths.items():
            if number not in wanted_numbers:
                session.delete(booth)
                changed = True
        session.flush()
        for b in booth_rows:
            booth_values = {
                "cooperative_id": coops[b["cooperative"]].id if b["cooperative"] else None,
                "zone": b["zone"],
                "plan_column": b["plan_column"],
                "plan_row": b["plan_row"],
                "livestream_url": b["livestream_url"],
            }
            booth = booths.get(b["number"])
            if booth is None:
                booth = Booth(programme_id=programme.id, number=b["number"], **booth_values)
                session.add(booth)
                session.flush()
                changed = True
                current = []
            else:
                changed |= _apply(booth, booth_values)
                current = list(
                    session.scalars(
                        select(BoothProduct)
                        .filter_by(booth_id=booth.id)
                        .order_by(BoothProduct.position)
                    )
                )
            wanted = [products[s] for s in b["featured"]]
            if [bp.product_id for bp in current] != wanted:
                for bp in current:
                    session.delete(bp)
                session.flush()
                for position, product_id in enumerate(wanted):
                    session.add(
                        BoothProduct(booth_id=booth.id, product_id=product_id, position=position)
                    )
                changed = True
        session.flush()
        if created:
            report.created["programmes"] += 1
        elif changed:
            report.updated["programmes"] += 1
        else:
            report.unchanged["programmes"] += 1
