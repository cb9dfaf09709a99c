"""Printables for the fair: the A4 booth kit and the programme's catalogue of booths.

Three audiences, three blueprints:

- ``programme_print`` (public): the printable catalogue of a public programme, linked from
  the programme page, for visitors who want the list of booths on paper;
- ``programme_print_manage`` (staff, console): the catalogue of any programme (also a draft,
  to proof it before publishing), one booth's kit, and every booth's kit in one document;
- ``booth_kit`` (member): the kit of one of the member's own booths in a public programme.

Kits and catalogue show only what the public booth page shows: booths whose cooperative is
public, and featured products that are still public. The QR codes they print hold the tagged
addresses of shop/programmes/qr.py, so every scan at the fair is counted.
"""

from dataclasses import dataclass, field

from flask import abort, g, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from shop.access import member_blueprint, public_blueprint, staff_blueprint
from shop.catalog.models import Product
from shop.catalog.queries import first_or_404, public_products
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.notify.services import site_url
from shop.programmes import queries
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Booth, BoothProduct, Programme
from shop.programmes.qr import MAX_ID, booth_scan_url, product_scan_url

bp = public_blueprint("programme_print", __name__)
manage = staff_blueprint("programme_print_manage", __name__, url_prefix="/quan-tri/chuong-trinh")
member = member_blueprint("booth_kit", __name__, url_prefix="/quan-ly-htx/gian-hang")


@dataclass
class Sheet:
    """One booth as printed: the booth, its public featured products and their codes."""

    booth: Booth
    scan_url: str
    products: list[tuple[Product, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- reads


def _with_booths(stmt: Select) -> Select:
    """Load the programme's booths with their cooperatives' sector and commune."""
    return stmt.options(
        selectinload(Programme.booths)
        .joinedload(Booth.cooperative)
        .options(joinedload(Cooperative.sector), joinedload(Cooperative.locality))
    )


def _booth_with_cooperative(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Booth.programme),
        joinedload(Booth.cooperative).options(
            joinedload(Cooperative.sector), joinedload(Cooperative.locality)
        ),
    )


def featured_by_booth(booth_ids: list[int]) -> dict[int, list[Product]]:
    """The public featured products of these booths in one query, in each booth's order."""
    found: dict[int, list[Product]] = {booth_id: [] for booth_id in booth_ids}
    if not booth_ids:
        return found
    rows = db.session.execute(
        public_products()
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id.in_(booth_ids))
        .add_columns(BoothProduct.booth_id)
        .options(joinedload(Product.unit))
        .order_by(BoothProduct.booth_id, BoothProduct.position, BoothProduct.id)
    )
    for product, booth_id in rows:
        found[booth_id].append(product)
    return found


def sheets(programme: Programme, booths: list[Booth]) -> list[Sheet]:
    """What the printables show for each booth with a public cooperative, by booth number."""
    shown = [b for b in booths if b.cooperative is not None and b.cooperative.is_public]
    shown.sort(key=lambda b: b.number)
    featured = featured_by_booth([b.id for b in shown])
    return [
        Sheet(
            booth=booth,
            scan_url=booth_scan_url(programme, booth),
            products=[(p, product_scan_url(programme, booth, p)) for p in featured[booth.id]],
        )
        for booth in shown
    ]


def is_public(programme: Programme) -> bool:
    return programme.status in PUBLIC_PROGRAMME_STATUSES


def _programme_or_404(id: int) -> Programme:
    if id > MAX_ID:
        abort(404)
    programme = db.session.scalar(_with_booths(select(Programme).where(Programme.id == id)))
    if programme is None:
        abort(404)
    return programme


# --------------------------------------------------------------------------- rendering


def render_catalogue(programme: Programme, staff: bool):
    return render_template(
        "programmes/print/catalogue.html",
        programme=programme,
        sheets=sheets(programme, programme.booths),
        programme_url=site_url("programmes.programme", slug=programme.slug),
        staff=staff,
        console_url=console_url(programme) if staff else None,
        is_public=is_public(programme),
    )


def console_url(programme: Programme) -> str:
    return url_for("programmes_manage.programme", id=programme.id)


def render_kits(programme: Programme, kits: list[Sheet], back: tuple[str, str], single: bool):
    """`back` is (label, url) of the page the screen toolbar leads back to."""
    return render_template(
        "programmes/print/kit.html",
        programme=programme,
        kits=kits,
        back=back,
        home_url=site_url("pages.home"),
        single=single,
        is_public=is_public(programme),
    )


# --------------------------------------------------------------------------- public


@bp.get("/chuong-trinh/<slug>/ban-in")
def catalogue(slug):
    """The printable catalogue of a public programme."""
    programme = first_or_404(
        _with_booths(queries.public_programmes().where(Programme.slug == slug)), slug
    )
    return render_catalogue(programme, staff=False)


# --------------------------------------------------------------------------- staff


@manage.get("/<int:id>/ban-in")
def staff_catalogue(id):
    """The catalogue of any programme, a draft too (proofread before publishing)."""
    return render_catalogue(_programme_or_404(id), staff=True)


@manage.get("/<int:id>/ban-in-gian-hang")
def staff_kits(id):
    """Every booth's kit in one document, one A4 page each."""
    programme = _programme_or_404(id)
    kits = sheets(programme, programme.booths)
    return render_kits(
        programme, kits, (_("Về trang quản trị chương trình"), console_url(programme)), single=False
    )


@manage.get("/<int:id>/gian-hang/<int:number>/ban-in")
def staff_kit(id, number):
    """One booth's A4 kit."""
    programme = _programme_or_404(id)
    booth = next((b for b in programme.booths if b.number == number), None)
    kits = sheets(programme, [booth] if booth else [])
    if not kits:  # no such booth, or no public cooperative at it: nothing to print
        abort(404)
    back = (_("Về trang quản trị chương trình"), console_url(programme))
    return render_kits(programme, kits, back, single=True)


# --------------------------------------------------------------------------- member


@member.get("/<int:id>/ban-in")
def own_kit(id):
    """The kit of one of the member's booths, in a public programme."""
    if id > MAX_ID:
        abort(404)
    booth = db.session.scalar(
        _booth_with_cooperative(
            select(Booth)
            .join(Booth.programme)
            .where(
                Booth.id == id,
                Booth.cooperative_id == g.cooperative.id,
                Programme.status.in_(PUBLIC_PROGRAMME_STATUSES),
            )
        )
    )
    if booth is None:
        abort(404)
    kits = sheets(booth.programme, [booth])
    if not kits:  # the cooperative is not public now (e.g. suspended)
        abort(404)
    booth_url = url_for("programmes.booth", slug=booth.programme.slug, number=booth.number)
    back = (_("Xem trang gian hàng"), booth_url)
    return render_kits(booth.programme, kits, back, single=True)
