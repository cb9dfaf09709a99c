"""Reads of the API: the domain's public queries, narrowed by the API's filters, keyset-paged.

Every list is ordered by a unique key and continues *after* the last row of the previous page
(WHERE key < :last), never with OFFSET: page 1000 costs what page 1 costs, and rows added or
removed between two calls never make a walk repeat or skip a row. Each helper asks for one
row more than the page holds, to know whether another page follows.
"""

from datetime import date

from sqlalchemy import REAL, Integer, Select, and_, cast, func, literal, or_, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.api.cursors import invalid_cursor
from shop.api.params import CooperativeFilters, ProductFilters
from shop.catalog.models import Category, Product, ProductCertification, ProductImage
from shop.catalog.queries import ocop_valid, public_products
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.cooperatives.queries import is_public_cooperative, public_cooperatives
from shop.programmes.models import Booth, BoothProduct, Programme
from shop.programmes.queries import programme_page, public_programmes
from shop.search.queries import apply_search
from shop.search.terms import parse_query


def _id_of(model, slug: str):
    """The id of the row with this slug, as a subquery: a filter stays one statement, and an
    unknown slug matches nothing."""
    return select(model.id).where(model.slug == slug).scalar_subquery()


def with_api_data(stmt: Select) -> Select:
    """Load everything a product's JSON holds, in a fixed number of statements."""
    return stmt.options(
        contains_eager(Product.cooperative).joinedload(Cooperative.locality),
        joinedload(Product.unit),
        joinedload(Product.category),
        joinedload(Product.sector),
        selectinload(Product.certifications).joinedload(ProductCertification.kind),
        # The live photos, never a pending revision's.
        selectinload(Product.images).joinedload(ProductImage.image),
    )


def products(filters: ProductFilters, day: date, *, after: list | None, limit: int) -> Select:
    """Public products after the row whose sort key is `after`, one more than a page.

    Without `q`: newest listed first (by id; the key is [id]). With `q`: the best matches
    first, by shop.search's ranking, then newest; the key is the ranking's values and the id,
    selected as extra columns after the Product, so a cursor can carry them.
    """
    stmt = public_products()
    keys = [Product.id]
    if filters.q:
        stmt, ranking = apply_search(stmt, parse_query(filters.q))
        # Every ranking clause is "<expression> DESC": page on the expressions themselves, as
        # REAL: PostgreSQL's ts_rank is a float4 that reaches Python rounded to its shortest
        # decimal, and only cast back to float4 does that decimal equal the rank again.
        keys = [cast(clause.element, REAL) for clause in ranking] + keys
    if filters.sector:
        stmt = stmt.where(Product.sector_id == _id_of(Sector, filters.sector))
    if filters.category:
        stmt = stmt.where(Product.category_id == _id_of(Category, filters.category))
    if filters.locality:
        stmt = stmt.where(Cooperative.locality_id == _id_of(Locality, filters.locality))
    if filters.ocop_min:
        stmt = stmt.where(ocop_valid(day), Product.ocop_stars >= filters.ocop_min)
    if filters.certification:
        stmt = stmt.where(
            Product.certifications.any(
                ProductCertification.certification_code == filters.certification
            )
        )
    if filters.price_min is not None:
        stmt = stmt.where(Product.price_vnd >= filters.price_min)
    if filters.price_max is not None:
        stmt = stmt.where(Product.price_vnd <= filters.price_max)
    if after is not None:
        if len(after) != len(keys):
            raise invalid_cursor()
        # All keys descend, so "after" is one row-value comparison (SQLite and PostgreSQL).
        *ranks, last_id = after
        bounds = [cast(literal(value), REAL) for value in ranks] + [literal(last_id, Integer)]
        stmt = stmt.where(tuple_(*keys) < tuple_(*bounds))
    stmt = stmt.add_columns(*keys[:-1]).order_by(*(key.desc() for key in keys))
    return with_api_data(stmt.limit(limit + 1))


def sort_key(row) -> list:
    """The sort key of a row of products(): ranking values (with `q`), then the id."""
    product, *ranking = row
    return [*ranking, product.id]


def product(slug: str) -> Select:
    return with_api_data(public_products().where(Product.slug == slug))


def _with_cooperative_data(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Cooperative.sector),
        joinedload(Cooperative.locality),
        joinedload(Cooperative.logo_image),
    )


def cooperatives(filters: CooperativeFilters, *, after: str | None, limit: int) -> Select:
    """Public cooperatives in slug order (their folded names: alphabetical, the same on every
    database), after the one with slug `after`."""
    stmt = public_cooperatives()
    if filters.sector:
        stmt = stmt.where(Cooperative.sector_id == _id_of(Sector, filters.sector))
    if filters.locality:
        stmt = stmt.where(Cooperative.locality_id == _id_of(Locality, filters.locality))
    if after is not None:
        stmt = stmt.where(Cooperative.slug > after)
    return _with_cooperative_data(stmt.order_by(Cooperative.slug).limit(limit + 1))


def cooperative(slug: str) -> Select:
    return _with_cooperative_data(public_cooperatives().where(Cooperative.slug == slug))


def product_counts(cooperative_ids) -> Select:
    """(cooperative id, number of public products) for the given cooperatives."""
    return (
        public_products()
        .with_only_columns(Product.cooperative_id, func.count(Product.id))
        .where(Product.cooperative_id.in_(list(cooperative_ids)))
        .group_by(Product.cooperative_id)
    )


def programmes(*, after: tuple[date, int] | None, limit: int) -> Select:
    """Public programmes, the latest start first, after the one with (start date, id) `after`."""
    stmt = public_programmes()  # ordered by start_date desc, id desc
    if after is not None:
        start, last_id = after
        stmt = stmt.where(
            or_(
                Programme.start_date < start,
                and_(Programme.start_date == start, Programme.id < last_id),
            )
        )
    return stmt.limit(limit + 1)


def programme(slug: str) -> Select:
    """One public programme with its booths and their cooperatives (sector and commune)."""
    return programme_page(slug).options(
        selectinload(Programme.booths)
        .joinedload(Booth.cooperative)
        .joinedload(Cooperative.locality)
    )


def booth_counts(programme_ids) -> Select:
    """(programme id, number of booths) for the given programmes."""
    return (
        select(Booth.programme_id, func.count(Booth.id))
        .where(Booth.programme_id.in_(list(programme_ids)))
        .group_by(Booth.programme_id)
    )


def featured_slugs(booth_ids) -> Select:
    """(booth id, product slug) of the booths' featured products that are still public."""
    return (
        public_products()
        .with_only_columns(BoothProduct.booth_id, Product.slug)
        .join(BoothProduct, BoothProduct.product_id == Product.id)
        .where(BoothProduct.booth_id.in_(list(booth_ids)), is_public_cooperative())
        .order_by(BoothProduct.booth_id, BoothProduct.position, BoothProduct.id)
    )
