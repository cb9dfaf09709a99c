"""sitemap.xml: an index of parts, each part at most SITEMAP_URLS_PER_FILE <url> entries.

Every public page is listed twice, in Vietnamese (the clean address) and in English (?lang=en),
each entry naming both with xhtml:link alternates, as Google asks for multilingual sites. So a
part holds SITEMAP_URLS_PER_FILE // 2 pages.

Parts are numbered per kind (/sitemap-products-1.xml, -2, …) by position in id order. A part is
read with keyset pagination over ids (one small statement to find where it starts, then batches
of BATCH rows of plain columns), so 100,000 products never become 100,000 ORM objects, and the
response streams as it is read.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from flask import current_app, url_for
from sqlalchemy import Select, func, select

from shop.catalog.models import Category, Product
from shop.catalog.queries import public_products
from shop.cooperatives.models import Cooperative, Sector
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.programmes.models import PUBLIC_PROGRAMME_STATUSES, Booth, Programme
from shop.seo.meta import LOCALES, absolute, with_lang

#: The sitemap protocol's limit on <url> entries per file.
MAX_URLS_PER_FILE = 50_000
#: Rows read per statement while a part is written.
BATCH = 2_000

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def pages_per_file() -> int:
    """How many pages (each listed in both languages) one part holds."""
    urls = min(
        int(current_app.config.get("SITEMAP_URLS_PER_FILE", MAX_URLS_PER_FILE)), MAX_URLS_PER_FILE
    )
    return max(1, urls // len(LOCALES))


def w3c_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back the stored UTC time without its zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _path_maker(endpoint: str, *names: str) -> Callable[..., str]:
    """Build paths of one route fast: url_for once with stand-ins, then fill in each row's values.

    Slugs are plain [a-z0-9-] and numbers are digits, so they need no quoting.
    """
    stand_ins = {name: 987654320 + i for i, name in enumerate(names)}
    template = url_for(endpoint, **stand_ins)
    for name, value in stand_ins.items():
        template = template.replace(str(value), "{" + name + "}")
    return template.format


# --------------------------------------------------------------------------- kinds of pages


@dataclass(frozen=True)
class Kind:
    """Public pages of one kind: a select() of (id, …, updated) rows and how to address one."""

    name: str
    rows: Callable[[], Select]
    path: Callable[[object], str]

    def parts(self, per_file: int) -> list[datetime | None]:
        """The last change of each part, in order (one statement)."""
        rows = self.rows()
        position = func.row_number().over(order_by=rows.selected_columns.id)
        sub = rows.add_columns(position.label("n")).subquery()
        part = ((sub.c.n - 1) // per_file).label("part")
        stmt = select(part, func.max(sub.c.updated)).group_by(part).order_by(part)
        return [lastmod for _part, lastmod in db.session.execute(stmt)]

    def entries(self, number: int, per_file: int) -> Iterator[tuple[str, datetime | None]] | None:
        """(path, last change) of part `number`; None when there is no such part."""
        sub = self.rows().subquery()
        start = db.session.scalar(
            select(sub.c.id).order_by(sub.c.id).offset((number - 1) * per_file).limit(1)
        )
        if start is None:
            return iter(()) if number == 1 else None
        return self._stream(sub, start, per_file)

    def _stream(self, sub, start: int, per_file: int):
        remaining, condition = per_file, sub.c.id >= start
        while remaining > 0:
            batch = db.session.execute(
                select(sub).where(condition).order_by(sub.c.id).limit(min(BATCH, remaining))
            ).all()
            for row in batch:
                yield self.path(row), row.updated
            if len(batch) < min(BATCH, remaining):
                return
            remaining -= len(batch)
            condition = sub.c.id > batch[-1].id


def _products() -> Select:
    return public_products().with_only_columns(
        Product.id.label("id"), Product.slug.label("slug"), Product.updated_at.label("updated")
    )


def _cooperatives() -> Select:
    return select(
        Cooperative.id.label("id"),
        Cooperative.slug.label("slug"),
        Cooperative.updated_at.label("updated"),
    ).where(is_public_cooperative())


def _programmes() -> Select:
    return select(
        Programme.id.label("id"),
        Programme.slug.label("slug"),
        Programme.updated_at.label("updated"),
    ).where(Programme.status.in_(PUBLIC_PROGRAMME_STATUSES))


def _booths() -> Select:
    """Booths of public programmes held by a public cooperative (the others are 404)."""
    return (
        select(
            Booth.id.label("id"),
            Programme.slug.label("slug"),
            Booth.number.label("number"),
            Booth.updated_at.label("updated"),
        )
        .join(Programme, Programme.id == Booth.programme_id)
        .join(Cooperative, Cooperative.id == Booth.cooperative_id)
        .where(Programme.status.in_(PUBLIC_PROGRAMME_STATUSES), is_public_cooperative())
    )


def _grouped(model, column) -> Callable[[], Select]:
    """Sectors or categories that have public products; changed when their last product did."""

    def rows() -> Select:
        return (
            public_products()
            .with_only_columns(
                model.id.label("id"),
                model.slug.label("slug"),
                func.max(Product.updated_at).label("updated"),
            )
            .join(model, model.id == column)
            .group_by(model.id, model.slug)
        )

    return rows


@dataclass(frozen=True)
class StaticPages:
    """The listings' own pages (home, catalogue, directory, programmes): no rows behind them."""

    name: str
    endpoints: tuple[str, ...]

    def parts(self, per_file: int) -> list[datetime | None]:
        return [None] * -(-len(self.endpoints) // per_file)

    def entries(self, number: int, per_file: int):
        chosen = self.endpoints[(number - 1) * per_file : number * per_file]
        if not chosen and number > 1:
            return None
        return ((url_for(endpoint), None) for endpoint in chosen)


def kinds() -> dict[str, Kind | StaticPages]:
    """The kinds of public pages, in the order the index lists them (needs a request)."""
    product = _path_maker("catalog.product", "slug")
    cooperative = _path_maker("cooperatives.cooperative", "slug")
    programme = _path_maker("programmes.programme", "slug")
    booth = _path_maker("programmes.booth", "slug", "number")
    sector = _path_maker("catalog.sector", "slug")
    category = _path_maker("catalog.category", "slug")
    return {
        kind.name: kind
        for kind in (
            StaticPages(
                "pages",
                (
                    "pages.home",
                    "catalog.catalogue",
                    "cooperatives.directory",
                    "programmes.programmes",
                ),
            ),
            Kind("sectors", _grouped(Sector, Product.sector_id), lambda row: sector(slug=row.slug)),
            Kind(
                "categories",
                _grouped(Category, Product.category_id),
                lambda row: category(slug=row.slug),
            ),
            Kind("cooperatives", _cooperatives, lambda row: cooperative(slug=row.slug)),
            Kind("products", _products, lambda row: product(slug=row.slug)),
            Kind("programmes", _programmes, lambda row: programme(slug=row.slug)),
            Kind("booths", _booths, lambda row: booth(slug=row.slug, number=row.number)),
        )
    }


# --------------------------------------------------------------------------- XML


def index_xml() -> Iterator[str]:
    """The sitemap index: every part of every kind, with its last change."""
    per_file = pages_per_file()
    yield XML_HEAD
    yield f'<sitemapindex xmlns="{SITEMAP_NS}">\n'
    for name, kind in kinds().items():
        for number, lastmod in enumerate(kind.parts(per_file), start=1):
            loc = absolute(url_for("seo.sitemap_part", part=f"{name}-{number}"))
            yield f"<sitemap><loc>{escape(loc)}</loc>"
            if lastmod is not None:
                yield f"<lastmod>{w3c_datetime(lastmod)}</lastmod>"
            yield "</sitemap>\n"
    yield "</sitemapindex>\n"


def part_xml(entries: Iterator[tuple[str, datetime | None]]) -> Iterator[str]:
    """A urlset: each page in both languages, each entry naming both (and x-default)."""
    yield XML_HEAD
    yield f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n'
    for path, lastmod in entries:
        addresses = {lang: absolute(with_lang(path, lang)) for lang in LOCALES}
        links = "".join(
            f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(href)}/>'
            for lang, href in [*addresses.items(), ("x-default", addresses["vi"])]
        )
        stamp = f"<lastmod>{w3c_datetime(lastmod)}</lastmod>" if lastmod else ""
        for href in addresses.values():
            yield f"<url><loc>{escape(href)}</loc>{stamp}{links}</url>\n"
    yield "</urlset>\n"
