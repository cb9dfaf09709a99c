"""Product cards of the listing pages, read as plain rows instead of ORM objects.

A listing page shows two dozen cards, each made of a product, its unit, sector, cooperative,
commune and cover photo: as ORM objects that is some two hundred instances to build and
track per page, which took a listing about as long as rendering it. A card needs none of what
the ORM gives (no changes, no lazy loads), so `read_cards()` asks for exactly the columns the
card macro (templates/macros/ui.html, product_card) shows, in one statement, and gives records
that read like the models there: `t('name')`, `unit.t('name')`, `cooperative.locality`,
`cover.image`, `ocop_valid_on(day)`.

Pages that change a product, or show more than its card, load Product as before.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_
from sqlalchemy.orm import aliased

from shop.catalog.models import Product, ProductImage, Unit
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.media.models import StoredImage
from shop.text.i18n import Bilingual


@dataclass(slots=True)
class CardImage:
    """The stored photo behind a cover: what url_for_image() and image_size() read."""

    sha256: str
    width: int
    height: int


@dataclass(slots=True)
class CardPhoto:
    image: CardImage
    alt_vi: str | None
    alt_en: str | None


@dataclass(slots=True)
class CardName(Bilingual):
    """A unit's name (or any bilingual name a card shows)."""

    name_vi: str
    name_en: str | None


@dataclass(slots=True)
class CardSector:
    slug: str


@dataclass(slots=True)
class CardLocality:
    short_name: str


@dataclass(slots=True)
class CardCooperative(Bilingual):
    name: str
    name_en: str | None
    locality: CardLocality


@dataclass(slots=True)
class Card(Bilingual):
    """One product as its card shows it (and as a keyset cursor reads its sort key)."""

    id: int
    slug: str
    name_vi: str
    name_en: str | None
    price_vnd: int | None
    ocop_stars: int | None
    ocop_expires_on: date | None
    published_at: datetime | None
    category_id: int
    unit: CardName
    sector: CardSector
    cooperative: CardCooperative
    cover: CardPhoto | None
    #: The search's (exact, phrase, rank) when listed by relevance (catalogue.queries.key_of).
    search_ranking: tuple | None = None

    def ocop_valid_on(self, day: date) -> bool:
        return Product.ocop_valid_on(self, day)


#: The product's own columns of a card, in the order of Card's first fields.
PRODUCT_COLUMNS = (
    Product.id,
    Product.slug,
    Product.name_vi,
    Product.name_en,
    Product.price_vnd,
    Product.ocop_stars,
    Product.ocop_expires_on,
    Product.published_at,
    Product.category_id,
)


@functools.cache
def _card_parts() -> tuple[tuple, tuple]:
    """(columns, joins) of card_select(), made once: building them took longer than the query."""
    cover = aliased(ProductImage, name="card_cover")
    image = aliased(StoredImage, name="card_image")
    columns = (
        *PRODUCT_COLUMNS,
        Unit.name_vi,
        Unit.name_en,
        Sector.slug,
        Cooperative.name,
        Cooperative.name_en,
        Locality.short_name,
        cover.alt_vi,
        cover.alt_en,
        image.sha256,
        image.width,
        image.height,
    )
    joins = (
        (Locality, Locality.id == Cooperative.locality_id, False),
        (Unit, Unit.code == Product.unit_code, False),
        (Sector, Sector.id == Product.sector_id, False),
        (cover, and_(cover.product_id == Product.id, cover.position == 0), True),
        (image, image.id == cover.image_id, True),
    )
    return columns, joins


def card_select(stmt: Select, extra: Sequence = ()) -> Select:
    """`stmt`, a select of products joined to their Cooperative (public_products() and the
    listings built on it), made to return the card's columns instead, in its order.

    `extra` columns (a search's ranking) come last: card_of() keeps them as search_ranking.
    """
    columns, joins = _card_parts()
    stmt = stmt.with_only_columns(*columns, *extra)
    for target, on, outer in joins:
        stmt = stmt.join(target, on, isouter=outer)
    return stmt


def card_of(row) -> Card:
    """The Card of one row of card_select(): its first columns are the Card's own fields."""
    own = len(PRODUCT_COLUMNS)
    unit_vi, unit_en, sector, coop, coop_en, locality = row[own : own + 6]
    alt_vi, alt_en, sha256, width, height = row[own + 6 : own + 11]
    extra = tuple(row[own + 11 :])
    cover = None
    if sha256 is not None:
        cover = CardPhoto(CardImage(sha256, width, height), alt_vi, alt_en)
    return Card(
        *row[:own],
        unit=CardName(unit_vi, unit_en),
        sector=CardSector(sector),
        cooperative=CardCooperative(coop, coop_en, CardLocality(locality)),
        cover=cover,
        search_ranking=extra or None,
    )
