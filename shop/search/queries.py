"""Reads of product search: they compose with shop.catalog.queries and return select()s.

The read API other pages build on:

    query = parse_query(request.args.get("q"))          # shop.search.terms
    stmt, ranking = apply_search(public_products(), query)
    stmt = stmt.order_by(*ranking, …)                    # best matches first, then your order

`apply_search` narrows any select of Product (the public rule stays the caller's:
public_products(), or catalogue(...) with its filters, after `.order_by(None)`) to the products
whose entry has every term (the last one as a prefix), and gives the ranking: names holding the
query's words with the exact diacritics first, then names (or category, cooperative and
commune names) holding the folded phrase, then the backend's text rank (FTS5 bm25 or
ts_rank), best first. Callers add their own tie-breaker (newest first on the search page).
"""

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, and_, case, false, func, literal, literal_column, or_, select
from sqlalchemy.orm import lazyload

from shop.catalog.models import Category, Product
from shop.catalog.queries import newest_first, public_products, with_card_data
from shop.cooperatives.models import Cooperative, Sector
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.search.models import FTS5_WEIGHTS, TABLE, fts5_table, pg_table
from shop.search.terms import ParsedQuery

#: The search page shows at most this many results (pages past it are not offered): nobody
#: reads result 1,001, and a capped count and offset keep deep pages cheap.
MAX_RESULTS = 1000
SUGGESTIONS = 8
#: Suggestions rank only this many of the newest matches (see hits()).
SUGGESTION_CANDIDATES = 300
#: Of the suggestions, at most this many are categories, sectors or cooperatives.
PLACE_SUGGESTIONS = 3
#: Suggestions start once the query holds this many letters.
MIN_SUGGEST_LENGTH = 2


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def hits(query: ParsedQuery, dialect: str | None = None, candidates: int | None = None):
    """A CTE of the index's matches: (id, exact, phrase, rank), higher = better.

    With `candidates`, only that many matches (the newest products) are ranked: suggestions
    answer every keystroke, and a two-letter prefix can match most of the catalogue.
    """
    dialect = dialect or dialect_name()
    if dialect == "sqlite":
        table = fts5_table
        key = table.c.rowid
        match = literal_column(TABLE).op("MATCH")(query.fts5())
        rank = -func.bm25(literal_column(TABLE), *FTS5_WEIGHTS)
    else:
        table = pg_table
        key = table.c.product_id
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), query.tsquery())
        match = table.c.document.op("@@")(tsquery)
        rank = func.ts_rank(table.c.document, tsquery)
    exact = and_(*[table.c.names.contains(word, autoescape=True) for word in query.typed])
    phrase = " " + query.phrase

    def has_phrase(column):
        return (literal(" ") + column).contains(phrase, autoescape=True)

    stmt = select(
        key.label("id"),
        case((exact, 1), else_=0).label("exact"),
        case(
            (or_(has_phrase(table.c.name), has_phrase(table.c.name_en)), 2),
            (has_phrase(table.c.context), 1),
            else_=0,
        ).label("phrase"),
        rank.label("rank"),
    ).where(match)
    if candidates:
        stmt = stmt.order_by(key.desc()).limit(candidates)
    return (
        stmt
        # Materialized, so the index drives the query: inlined, SQLite may scan products and
        # run the MATCH once per product (seconds at 100,000 products) when there is no ORDER BY.
        .cte("hits").prefix_with("MATERIALIZED")
    )


def apply_search(
    stmt: Select, query: ParsedQuery, candidates: int | None = None
) -> tuple[Select, list]:
    """Narrow a select of Product to the query's matches; returns (select, ranking clauses).

    An empty query matches nothing.
    """
    if not query:
        return stmt.where(false()), []
    found = hits(query, candidates=candidates)
    stmt = stmt.join(found, found.c.id == Product.id)
    return stmt, [found.c.exact.desc(), found.c.phrase.desc(), found.c.rank.desc()]


def search_products(query: ParsedQuery) -> Select:
    """Public products matching the query, best first then newest, with card data loaded."""
    stmt, ranking = apply_search(public_products(), query)
    return with_card_data(newest_first(stmt.order_by(*ranking)))


class CappedPagination(SelectPagination):
    """Pages of at most MAX_RESULTS results; `more` says whether there were more."""

    def _query_count(self) -> int:
        select_ = self._query_args["select"]
        capped = select_.options(lazyload("*")).order_by(None).limit(MAX_RESULTS + 1).subquery()
        found = (
            self._query_args["session"].execute(select(func.count()).select_from(capped)).scalar()
        )
        self.more = found > MAX_RESULTS
        return min(found, MAX_RESULTS)


def search_page(query: ParsedQuery, page: int, per_page: int) -> CappedPagination:
    """One page of results; pages past the cap hold nothing (the view answers 404)."""
    stmt = search_products(query)
    if (page - 1) * per_page >= MAX_RESULTS:
        stmt = stmt.where(false())
    return CappedPagination(
        select=stmt,
        session=db.session(),
        page=page,
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        count=True,
    )


def product_suggestions(query: ParsedQuery, limit: int = SUGGESTIONS) -> Select:
    """(name_vi, name_en, slug) of the best matching public products."""
    stmt, ranking = apply_search(public_products(), query, candidates=SUGGESTION_CANDIDATES)
    return newest_first(
        stmt.with_only_columns(Product.name_vi, Product.name_en, Product.slug).order_by(*ranking)
    ).limit(limit)


def categories() -> Select:
    return select(Category).order_by(Category.sort_order, Category.id)


def sectors() -> Select:
    return select(Sector).order_by(Sector.sort_order, Sector.id)


def cooperative_names() -> Select:
    """(slug, name, name_en) of every public cooperative, for suggestions."""
    return (
        select(Cooperative.slug, Cooperative.name, Cooperative.name_en)
        .where(is_public_cooperative())
        .order_by(Cooperative.name, Cooperative.id)
    )


def vocabulary_rows() -> Select:
    """Folded names and context of every indexed product: the spelling vocabulary's source."""
    table = fts5_table if dialect_name() == "sqlite" else pg_table
    return select(table.c.name, table.c.name_en, table.c.context)
