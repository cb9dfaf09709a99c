"""Public pages of the cooperatives domain: the directory and a cooperative's page."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from shop import clock
from shop.access import public_blueprint
from shop.catalog import queries as catalog_queries
from shop.cooperatives import queries
from shop.cooperatives.models import LegalForm, Locality, Sector
from shop.cooperatives.rules import normalize_phone
from shop.extensions import db
from shop.programmes.queries import booths_of_cooperative
from shop.text.i18n import current_lang

bp = public_blueprint("cooperatives", __name__)

LEGAL_FORM_LABELS = {
    # "Hợp tác xã" alone is also the plural menu entry; the context keeps them apart.
    LegalForm.COOPERATIVE: lazy_pgettext("singular", "Hợp tác xã"),
    LegalForm.UNION: _l("Liên hiệp HTX"),
    LegalForm.GROUP: _l("Tổ hợp tác"),
    LegalForm.CREDIT_FUND: _l("Quỹ tín dụng nhân dân"),
}


#: Names of the directory's filters in the notice about values it ignored.
FILTER_LABELS = {
    "sector": _l("Lĩnh vực"),
    "locality": _l("Xã, phường"),
    "legal_form": _l("Loại hình"),
}


@bp.app_template_global()
def legal_form_label(value) -> str:
    """The legal form of a cooperative, in the visitor's language."""
    label = LEGAL_FORM_LABELS.get(value)
    return str(label) if label is not None else str(value)


@bp.app_template_global()
def tel_href(phone: str | None) -> str | None:
    """A tel: link for a Vietnamese phone number as written on a profile."""
    if not phone:
        return None
    digits = normalize_phone(phone)
    if digits is None:
        digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return f"tel:{digits}" if digits else None


@bp.app_template_global()
def zalo_href(zalo: str | None) -> str | None:
    """The Zalo chat link of a phone number: https://zalo.me/<digits>."""
    if not zalo:
        return None
    digits = normalize_phone(zalo) or "".join(ch for ch in zalo if ch.isdigit())
    return f"https://zalo.me/{digits}" if digits else None


@bp.app_template_global()
def web_href(url: str | None) -> str | None:
    """Link to an outside web address only when it is http(s), never javascript: or data:."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


@bp.app_template_global()
def commune_with_district(locality) -> str:
    """'Xã Liên Bão (trước 7/2025: huyện Tiên Du)': the commune and its 2022 district."""
    name = locality.t("name")
    district = locality.t("district_2022_name")
    if not district:
        return name
    if current_lang() == "vi":
        district = district[:1].lower() + district[1:]
    return _("%(commune)s (trước 7/2025: %(district)s)", commune=name, district=district)


@bp.get("/htx")
def directory():
    args = request.args
    bad = []

    def lookup(model, name):
        raw = args.get(name, "")
        row = catalog_queries.by_slug(model, raw) if raw else None
        if raw and row is None:
            bad.append(name)
        return row

    sector = lookup(Sector, "sector")
    locality = lookup(Locality, "locality")
    legal_form = args.get("legal_form", "")
    if legal_form and legal_form not in {f.value for f in LegalForm}:
        bad.append("legal_form")
    legal_form = LegalForm(legal_form) if legal_form and "legal_form" not in bad else None
    chosen = {"sector": sector, "locality": locality, "legal_form": legal_form}
    facets = queries.directory_facets(**chosen)
    # About 700 cooperatives: numbered pages stay cheap; the total comes with the facets.
    page = catalog_queries.paginate(queries.directory(**chosen), total=facets["total"])
    counts = dict(
        db.session.execute(
            catalog_queries.product_counts_by_cooperative(c.id for c in page.items)
        ).all()
    )
    notices = []
    if bad:
        names = ", ".join(str(FILTER_LABELS[name]) for name in bad)
        notices.append(_("Đã bỏ qua bộ lọc không hợp lệ: %(names)s.", names=names))
    return render_template(
        "cooperatives/directory.html",
        page=page,
        counts=counts,
        notices=notices,
        selected={
            "sector": sector.slug if sector else "",
            "locality": locality.slug if locality else "",
            "legal_form": legal_form.value if legal_form else "",
        },
        filtered=any(chosen.values()),
        options={
            "sector": [(s.slug, s.t("name"), n) for s, n in facets["sectors"]],
            "locality": [(loc.slug, loc.t("name"), n) for loc, n in facets["localities"]],
            "legal_form": [
                (form.value, LEGAL_FORM_LABELS[form], n)
                for form, n in facets["legal_forms"].items()
            ],
        },
    )


@bp.get("/htx/<slug>")
def cooperative(slug):
    cooperative = catalog_queries.first_or_404(queries.cooperative_page(slug), slug)
    page = catalog_queries.paginate(
        catalog_queries.catalogue(clock.today(), cooperative=cooperative)
    )
    booths = db.session.scalars(booths_of_cooperative(cooperative)).all()
    return render_template(
        "cooperatives/cooperative.html", cooperative=cooperative, page=page, booths=booths
    )
