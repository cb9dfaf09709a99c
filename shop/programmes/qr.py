"""QR codes printed at the fair, and counting the scans that come back from them.

What a printed code holds (absolute, on SITE_URL, so a code printed from any machine points at
the real site):

- a booth's code: the booth page tagged ``?nguon=qr``
  (``/chuong-trinh/<slug>/gian-hang/<number>?nguon=qr``);
- a featured product's code, printed at that booth: a short scan address under the booth
  (``/chuong-trinh/<slug>/gian-hang/<number>/san-pham/<product id>``) that leads on to the
  product page. It stays in the programmes domain (the catalogue does not know about booths)
  and keeps the code small: no product slug, no query string.

Counting (people only, committed before the redirect: shop.reports.tracking.count_now):

- a tagged booth GET counts one ``qr_scan`` of the booth and answers 302 to the clean booth
  address (not cached), which then counts one ``booth_view`` like any other visit. A link
  copied from the phone after a scan is therefore the clean one and never counts a scan twice.
- a product code counts one ``qr_scan`` of the booth (the booth's scans are the scans of every
  code printed for it) and one ``product_qr_scan`` of the product, then answers 302 to the
  product page. A product that is no longer shown at the booth sends the visitor to the
  booth page instead (the scan still counts for the booth): a printed code never dead-ends
  while its booth is public.
"""

import io
import math

import segno
from flask import Response, abort, redirect, request, url_for

from shop.access import public_blueprint
from shop.catalog.models import Product
from shop.catalog.queries import first_or_404, public_products
from shop.extensions import db
from shop.notify.services import site_url
from shop.programmes import queries
from shop.programmes.models import Booth, BoothProduct, Programme
from shop.reports.tracking import count_now

bp = public_blueprint("programme_qr", __name__)

#: The query argument that marks a visit as a scan of a printed booth code.
SCAN_ARG, SCAN_VALUE = "nguon", "qr"
#: Error correction M survives a smudged print; segno raises it when the size allows.
ERROR = "m"
#: The quiet zone scanners need around the code, in modules.
BORDER = 4
#: Downloaded PNGs are at least this wide: 8.5 cm at 300 dpi.
PNG_MIN_PIXELS = 1000
PNG_DPI = 300
#: Printed width of a downloaded SVG, in millimetres.
SVG_WIDTH_MM = {"booth": 80, "product": 30}
#: Codes only change when the site address does; caches may keep them for a day.
MAX_AGE = 86400
#: Beyond what the database's integers hold: such a number is never a booth or a product.
MAX_ID = 2**31 - 1


# --------------------------------------------------------------------------- addresses


def booth_scan_url(programme: Programme, booth: Booth) -> str:
    """The absolute, tagged address a booth's printed code holds."""
    return site_url(
        "programmes.booth",
        slug=programme.slug,
        number=booth.number,
        **{SCAN_ARG: SCAN_VALUE},
    )


def product_scan_url(programme: Programme, booth: Booth, product: Product) -> str:
    """The absolute address the code of `product` printed at `booth` holds."""
    return site_url(
        "programme_qr.product_scan",
        slug=programme.slug,
        number=booth.number,
        id=product.id,
    )


#: Scans are few and are what the alliance reports: each is counted before its redirect goes
#: out (tracking.count_now) and may wait this long for a busy database, where a page view waits
#: 0.5 s after its response and is dropped.
SCAN_LOCK_WAIT_MS = 5000


def is_scan() -> bool:
    return request.args.get(SCAN_ARG) == SCAN_VALUE


def _clean_args() -> dict:
    """The request's query arguments without the scan tag (the language stays)."""
    return {k: v for k, v in request.args.items() if k != SCAN_ARG}


def _not_cached(response: Response) -> Response:
    """Every scan must reach the server to be counted: no browser or proxy keeps the redirect."""
    response.cache_control.no_store = True
    return response


def booth_scanned(booth: Booth) -> Response:
    """Count a scan of the booth's code and send the visitor to the clean booth address."""
    target = url_for(
        "programmes.booth", slug=booth.programme.slug, number=booth.number, **_clean_args()
    )
    count_now("qr_scan", booth.id, wait_ms=SCAN_LOCK_WAIT_MS)  # commits: read nothing after
    return _not_cached(redirect(target, 302))


# --------------------------------------------------------------------------- drawing


def make(data: str) -> segno.QRCode:
    return segno.make(data, error=ERROR)


def png_bytes(data: str) -> bytes:
    """A black-on-white PNG of the code of `data`, at least PNG_MIN_PIXELS wide, 300 dpi."""
    qr = make(data)
    width, _ = qr.symbol_size(border=BORDER)
    out = io.BytesIO()
    qr.save(
        out,
        kind="png",
        scale=math.ceil(PNG_MIN_PIXELS / width),
        border=BORDER,
        dark="#000",
        light="#fff",
        dpi=PNG_DPI,
    )
    return out.getvalue()


def png_scale(data: str) -> int:
    """Pixels per module of png_bytes(data): lets a test read the modules back."""
    width, _ = make(data).symbol_size(border=BORDER)
    return math.ceil(PNG_MIN_PIXELS / width)


def svg_bytes(data: str, title: str, width_mm: float) -> bytes:
    """A standalone SVG document of the code of `data`, `width_mm` wide when printed."""
    qr = make(data)
    width, _ = qr.symbol_size(border=BORDER)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=round(width_mm / width, 3),
        unit="mm",
        border=BORDER,
        dark="#000",
        light="#fff",
        title=title,
        xmldecl=True,
    )
    return out.getvalue()


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


# --------------------------------------------------------------------------- lookups


def public_booth_or_404(slug: str, number: int) -> Booth:
    """A booth of a public programme whose cooperative is public, or 404."""
    if number > MAX_ID:
        abort(404)
    booth = first_or_404(queries.booth_page(slug, number), slug)
    if booth.cooperative is None or not booth.cooperative.is_public:
        abort(404)
    return booth


def featured_product(booth: Booth, product_id: int) -> Product | None:
    """The product when the booth shows it now (featured, and public), else None."""
    if product_id > MAX_ID:
        return None
    return db.session.scalar(
        public_products()
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id == booth.id, Product.id == product_id)
    )


def _booth_code(slug: str, number: int):
    booth = public_booth_or_404(slug, number)
    return (
        booth,
        booth_scan_url(booth.programme, booth),
        f"{booth.programme.slug}-gian-hang-{booth.number}-qr",
    )


def _product_code(slug: str, number: int, id: int):
    booth = public_booth_or_404(slug, number)
    product = featured_product(booth, id)
    if product is None:
        abort(404)
    name = f"{booth.programme.slug}-gian-hang-{booth.number}-{product.slug}-qr"
    return product, product_scan_url(booth.programme, booth, product), name


# --------------------------------------------------------------------------- routes


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>/qr.png")
def booth_png(slug, number):
    _, data, name = _booth_code(slug, number)
    return _download(png_bytes(data), "image/png", f"{name}.png")


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>/qr.svg")
def booth_svg(slug, number):
    booth, data, name = _booth_code(slug, number)
    title = f"{booth.programme.t('title')} · {booth.number} · {booth.cooperative.t('name')}"
    return _download(svg_bytes(data, title, SVG_WIDTH_MM["booth"]), "image/svg+xml", f"{name}.svg")


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>/san-pham/<int:id>/qr.png")
def product_png(slug, number, id):
    _, data, name = _product_code(slug, number, id)
    return _download(png_bytes(data), "image/png", f"{name}.png")


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>/san-pham/<int:id>/qr.svg")
def product_svg(slug, number, id):
    product, data, name = _product_code(slug, number, id)
    body = svg_bytes(data, product.t("name"), SVG_WIDTH_MM["product"])
    return _download(body, "image/svg+xml", f"{name}.svg")


@bp.get("/chuong-trinh/<slug>/gian-hang/<int:number>/san-pham/<int:id>")
def product_scan(slug, number, id):
    """A scan of a product's code at a booth: count it, then show the product (see above)."""
    booth = public_booth_or_404(slug, number)
    product = featured_product(booth, id)
    if product is None:
        target = url_for(
            "programmes.booth", slug=booth.programme.slug, number=booth.number, **_clean_args()
        )
    else:
        target = url_for("catalog.product", slug=product.slug, **_clean_args())
    booth_id, product_id = booth.id, product.id if product is not None else None
    count_now("qr_scan", booth_id, wait_ms=SCAN_LOCK_WAIT_MS)  # commits: read nothing after
    if product_id is not None:
        count_now("product_qr_scan", product_id, wait_ms=SCAN_LOCK_WAIT_MS)
    return _not_cached(redirect(target, 302))
