"""Write the database back out in the import format."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shop.catalog.models import (
    Category,
    CertificationKind,
    OcopGroup,
    Product,
    Unit,
    mask_to_months,
)
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.dataset.importer import COOPERATIVE_STATUS_OUT, PRODUCT_STATUS_OUT
from shop.programmes.models import Booth, BoothProduct, Programme
from shop.text.formatting import format_vnd


def _iso(value):
    return value.isoformat() if value is not None else None


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def export_data(session: Session) -> dict:
    groups = {g.code: g for g in session.scalars(select(OcopGroup))}
    sectors = list(session.scalars(select(Sector).order_by(Sector.sort_order, Sector.slug)))
    sector_slug = {s.id: s.slug for s in sectors}
    localities = list(session.scalars(select(Locality).order_by(Locality.slug)))
    locality_slug = {loc.id: loc.slug for loc in localities}
    categories = list(
        session.scalars(select(Category).order_by(Category.sort_order, Category.slug))
    )
    category_slug = {c.id: c.slug for c in categories}
    coops = list(session.scalars(select(Cooperative).order_by(Cooperative.slug)))
    coop_slug = {c.id: c.slug for c in coops}
    products = list(
        session.scalars(
            select(Product).options(selectinload(Product.certifications)).order_by(Product.slug)
        )
    )
    product_slug = {p.id: p.slug for p in products}
    programmes = list(
        session.scalars(
            select(Programme)
            .options(selectinload(Programme.booths).selectinload(Booth.featured))
            .order_by(Programme.start_date, Programme.slug)
        )
    )

    def vocab(rows):
        return [{"code": r.code, "name_vi": r.name_vi, "name_en": r.name_en} for r in rows]

    return {
        "meta": {
            "dataset": "cho-htx-export",
            "units": vocab(session.scalars(select(Unit).order_by(Unit.code))),
            "certifications": vocab(
                session.scalars(select(CertificationKind).order_by(CertificationKind.code))
            ),
            "ocop_groups": vocab(groups[k] for k in sorted(groups)),
        },
        "sectors": [
            {
                "slug": s.slug,
                "name_vi": s.name_vi,
                "name_en": s.name_en,
                "count_2022": s.count_2022,
                "sort_order": s.sort_order,
            }
            for s in sectors
        ],
        "product_categories": [
            {
                "slug": c.slug,
                "name_vi": c.name_vi,
                "name_en": c.name_en,
                "sort_order": c.sort_order,
                "ocop_group": c.ocop_group_code,
                "ocop_group_name_vi": groups[c.ocop_group_code].name_vi
                if c.ocop_group_code
                else None,
                "ocop_group_name_en": groups[c.ocop_group_code].name_en
                if c.ocop_group_code
                else None,
            }
            for c in categories
        ],
        "localities": [
            {
                "slug": loc.slug,
                "name_vi": loc.name_vi,
                "short_name": loc.short_name,
                "name_en": loc.name_en,
                "type": loc.kind.value,
                "admin_code": loc.admin_code,
                "province_vi": loc.province_vi,
                "province_en": loc.province_en,
                "district_2022": loc.district_2022_slug,
                "district_2022_name_vi": loc.district_2022_name_vi,
                "district_2022_name_en": loc.district_2022_name_en,
                "former_units_vi": loc.former_units_vi,
                "known_for_vi": loc.known_for_vi,
                "known_for_en": loc.known_for_en,
            }
            for loc in localities
        ],
        "cooperatives": [
            {
                "slug": c.slug,
                "name": c.name,
                "name_en": c.name_en,
                "legal_form": c.legal_form.value,
                "sector": sector_slug[c.sector_id],
                "locality": locality_slug[c.locality_id],
                "address_vi": c.address_vi,
                "address_en": c.address_en,
                "legacy_address_vi": c.legacy_address_vi,
                "founded_year": c.founded_year,
                "member_count": c.member_count,
                "member_type": c.member_type,
                "description_vi": c.description_vi,
                "description_en": c.description_en,
                "phone": c.phone,
                "zalo": c.zalo,
                "email": c.email,
                "website": c.website,
                "tax_code": c.tax_code,
                "tax_code_is_demo": c.tax_code_is_demo,
                "is_demo": c.is_demo,
                "status": COOPERATIVE_STATUS_OUT.get(c.status, c.status.value),
            }
            for c in coops
        ],
        "products": [
            {
                "slug": p.slug,
                "cooperative": coop_slug[p.cooperative_id],
                "category": category_slug[p.category_id],
                "name_vi": p.name_vi,
                "name_en": p.name_en,
                "description_vi": p.description_vi,
                "description_en": p.description_en,
                "unit": p.unit_code,
                "pack_size_vi": p.pack_size_vi,
                "pack_size_en": p.pack_size_en,
                "price_vnd": p.price_vnd or 0,
                "price_display": format_vnd(p.price_vnd).replace("\u00a0", " ")
                if p.price_vnd
                else "Liên hệ",
                "min_order_qty": _number(p.min_order_qty),
                "ocop_stars": p.ocop_stars,
                "ocop_year": p.ocop_year,
                "ocop_certificate_no": p.ocop_certificate_no,
                "ocop_expires_on": _iso(p.ocop_expires_on),
                "certifications": [
                    {"code": pc.certification_code, "verified": True}
                    if pc.verified
                    else pc.certification_code
                    for pc in p.certifications
                ],
                "season": {
                    "key": p.season_key,
                    "vi": p.season_vi,
                    "en": p.season_en,
                    "months": mask_to_months(p.season_months),
                    **({"made_to_order": True} if p.made_to_order else {}),
                },
                "traceability_url": p.traceability_url,
                "status": PRODUCT_STATUS_OUT.get(p.status, p.status.value),
                "moderation_note": p.moderation_note,
            }
            for p in products
        ],
        "events": [_programme(p, coop_slug, product_slug) for p in programmes],
    }


def _programme(p: Programme, coop_slug, product_slug) -> dict:
    return {
        "slug": p.slug,
        "name_vi": p.title_vi,
        "name_en": p.title_en,
        "organizer_vi": p.organizer_vi,
        "organizer_en": p.organizer_en,
        "start_date": _iso(p.start_date),
        "end_date": _iso(p.end_date),
        "registration_deadline": _iso(p.registration_deadline),
        "location_vi": p.venue_vi,
        "location_en": p.venue_en,
        "status": p.status.value,
        "is_demo_reconstruction": p.is_demo_reconstruction,
        "description_vi": p.description_vi,
        "description_en": p.description_en,
        "stats": p.stats,
        "zones": p.zones,
        "plan_columns": p.plan_columns,
        "plan_rows": p.plan_rows,
        "booths": [
            {
                "number": b.number,
                "cooperative": coop_slug.get(b.cooperative_id),
                "zone": b.zone,
                "plan_column": b.plan_column,
                "plan_row": b.plan_row,
                "livestream_url": b.livestream_url,
                "featured_products": [product_slug[bp.product_id] for bp in _ordered(b.featured)],
            }
            for b in p.booths
        ],
    }


def _ordered(items: list[BoothProduct]) -> list[BoothProduct]:
    return sorted(items, key=lambda bp: bp.position)
