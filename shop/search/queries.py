"""Reads of product search: they compose with shop.catalog.queries and return select()s.

The ranking rule, the same on SQLite and PostgreSQL, on the search page, in the suggestions, in
the catalogue's "relevance" sort and in the API:

1. A product matches when its entry holds every term of the query, the last one as a prefix
   (in its names, its context — category, cooperative and commune names — or descriptions).
2. Matches come in tiers, best first. First the *exact* ones, when the query was typed with
   diacritics: the product's names hold every word as typed ("đông hồ" puts Đông Hồ before
   Đồng hồ). Then, inside exact and inside the rest, by where the words stand: the folded
   phrase in a name (phrase 3), the phrase in the context (2), every word in the names but not
   as that phrase (1), the words spread over names, context and descriptions (0).
3. Inside a tier, the most recently listed product (highest id) first.

Each tier is one query the index answers in id order (TIERS, tiers()), so a page reads the
tiers in turn and stops once it has its rows (ranked()): what a page costs follows its depth
(at most MAX_RESULTS rows), not the number of matches, and the count stops at MAX_RESULTS + 1.

What this gives up, against the rule before it (exact, phrase, then FTS5's bm25 or
PostgreSQL's ts_rank over every match): the text rank inside a tier — how often and how
densely the words occur, the small weight of descriptions. Phrase 1 keeps what that rank
mostly did (a product whose names hold the words before one whose description does); the rest
is recency. An exact word is a whole word of the names (the last one a prefix), where any
substring used to count; and a query typed without diacritics has no exact tier (it used to
rank names that happened to hold its words unaccented first).

For other pages: `apply_search(select of Product, query)` narrows it to the matches and gives
the ranking clauses (exact, phrase, rank — the rank being the product id, i.e. rule 3).
"""

import functools

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from shop.catalog.cards import card_of, card_select
from shop.catalog.models import Category, Product
from shop.catalog.queries import newest_first, public_products, with_card_data
from shop.cooperatives.models import Cooperative, Sector
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.search.models import TABLE, fts5_table, pg_table
from shop.search.terms import CONTEXT, EXACT, NAME, ParsedQuery

#: The search page shows at most this many results (pages past it are not offered): nobody
#: reads result 1,001, and a capped count keeps common words cheap.
MAX_RESULTS = 1000
SUGGESTIONS = 8
#: Of the suggestions, at most this many are categories, sectors or cooperatives.
PLACE_SUGGESTIONS = 3
#: Suggestions start once the query holds this many letters.
MIN_SUGGEST_LENGTH = 2
#: PostgreSQL sorts all the matches of a query that has no more than this many (ranked()).
FEW_MATCHES = MAX_RESULTS
#: PostgreSQL reads a tier first among this many newest entries, in key order, and only for
#: the rows a page still needs then through the GIN index among the older ones (_pg_arm()).
RECENT_WINDOW = 1000
#: (exact, phrase) of the tiers, best first (see the module's docstring).
TIERS = ((1, 3), (1, 2), (1, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def _key(dialect: str):
    return fts5_table.c.rowid if dialect == "sqlite" else pg_table.c.product_id


def _constant(value: int):
    return literal_column(str(int(value)), Integer)


def _fts5_expression(required: list[str], excluded: list[str]) -> str:
    expression = " AND ".join(f"({part})" for part in required)
    if excluded:
        expression = f"({expression}) NOT (" + " OR ".join(f"({part})" for part in excluded) + ")"
    return expression


def _wanted_tiers(query: ParsedQuery) -> tuple:
    """The tiers that can hold matches of this query, whatever the data, best first."""
    empty = set() if query.accented else {(1, 3), (1, 2), (1, 1)}
    if len(query.terms) == 1:
        # "Every word in the names" is "the phrase in a name", which an exact match holds.
        empty.update({(1, 2), (1, 1), (0, 1)})
    return tuple(tier for tier in TIERS if tier not in empty)


def _tier_texts(query: ParsedQuery, dialect: str, wanted: tuple) -> list[str]:
    """The index query of each tier: an FTS5 MATCH expression, or a tsquery's text."""
    exact_words = query.fts5(EXACT) if dialect == "sqlite" else query.tsquery(EXACT)
    if dialect == "sqlite":
        every, names = query.fts5(), query.fts5(NAME)
        in_name, in_context = query.fts5(NAME, phrase=True), query.fts5(CONTEXT, phrase=True)
        exact = [exact_words] if query.accented else []
        parts = {
            (1, 3): ([*exact, in_name], []),
            (1, 2): ([*exact, in_context], [in_name]),
            (1, 1): ([*exact, names], [in_name, in_context]),
            (0, 3): ([in_name], exact),
            (0, 2): ([in_context], [in_name, *exact]),
            (0, 1): ([names], [in_name, in_context, *exact]),
            # An exact match holds every word in its names: "not in the names" leaves it out.
            (0, 0): ([every], [names, in_context]),
        }
        return [_fts5_expression(*parts[tier]) for tier in wanted]
    # PostgreSQL: only the words go through the index; the phrases are read from the texts.
    every, names, context = query.tsquery(), query.tsquery(NAME), query.tsquery(CONTEXT)
    exact = f" & ({exact_words})" if query.accented else ""
    not_exact = f" & !({exact_words})" if query.accented else ""
    texts = {
        (1, 3): f"({names}){exact}",
        (1, 2): f"({context}){exact}",
        (1, 1): f"({names}){exact}",
        (0, 3): f"({names}){not_exact}",
        (0, 2): f"({context}){not_exact}",
        (0, 1): f"({names}){not_exact}",
        (0, 0): f"({every}) & !({names})",
    }
    return [texts[tier] for tier in wanted]


def _tier_conditions(dialect: str, tier: tuple, search, phrase, t=pg_table) -> list:
    """WHERE conditions of a tier, given its index query and (PostgreSQL) the phrase sought.

    `t`: on PostgreSQL, the index table or a subquery of it with the same columns.
    """
    if dialect == "sqlite":
        return [literal_column(TABLE).op("MATCH")(search)]
    # `phrase` is " " + the folded terms: letters, digits and spaces, nothing LIKE reads.
    in_name = or_(
        (literal(" ") + t.c.name).contains(phrase), (literal(" ") + t.c.name_en).contains(phrase)
    )
    in_context = (literal(" ") + t.c.context).contains(phrase)
    found = t.c.document.op("@@")(cast(search, TSQUERY))
    return {
        3: [found, in_name],
        2: [found, in_context, not_(in_name)],
        1: [found, not_(in_name), not_(in_context)],
        0: [found, not_(in_context)],
    }[tier[1]]


def _tier_selects(dialect: str, wanted: tuple, searches: list, phrase) -> list:
    """(exact, phrase, select of the index's key) of each wanted tier."""
    key = _key(dialect)
    return [
        (exact, in_, select(key).where(*_tier_conditions(dialect, (exact, in_), search, phrase)))
        for (exact, in_), search in zip(wanted, searches, strict=True)
    ]


def tiers(query: ParsedQuery, dialect: str | None = None) -> list[tuple[int, int, Select]]:
    """(exact, phrase, select of the index's key) of each tier that can hold matches, best first.

    The tiers do not overlap, and together they are exactly the matches.
    """
    dialect = dialect or dialect_name()
    wanted = _wanted_tiers(query)
    texts = [literal(text) for text in _tier_texts(query, dialect, wanted)]
    return _tier_selects(dialect, wanted, texts, literal(" " + query.phrase))


def matches(query: ParsedQuery, dialect: str | None = None) -> Select:
    """The index's key of every match, in no particular order."""
    dialect = dialect or dialect_name()
    if dialect == "sqlite":
        return select(fts5_table.c.rowid).where(literal_column(TABLE).op("MATCH")(query.fts5()))
    return select(pg_table.c.product_id).where(
        pg_table.c.document.op("@@")(cast(literal(query.tsquery()), TSQUERY))
    )


def hits(query: ParsedQuery, dialect: str | None = None):
    """A CTE of every match: (id, exact, phrase, rank), higher = better; rank is the id.

    For pages that sort or filter all matches (the catalogue, the API). The search page and
    the suggestions read only the rows they show (ranked()).
    """
    dialect = dialect or dialect_name()
    if dialect == "postgresql":
        return _pg_hits(query)
    key = _key(dialect)
    arms = [
        stmt.with_only_columns(
            key.label("id"),
            _constant(exact).label("exact"),
            _constant(phrase).label("phrase"),
            key.label("rank"),
        )
        for exact, phrase, stmt in tiers(query, dialect)
    ]
    # Materialized, so the index drives the query: inlined, SQLite may scan products and run
    # the MATCH once per product (seconds at 100,000 products).
    return union_all(*arms).cte("hits").prefix_with("MATERIALIZED")


def _pg_hits(query: ParsedQuery):
    """hits() on PostgreSQL: every match read once through the GIN index and put in its tier.

    One pass: a tier per arm would read the rows of a common word once per tier (27,000
    matches of "banh" seven times over: over a second at 100,000 products).
    """
    wanted = _wanted_tiers(query)
    texts = _tier_texts(query, "postgresql", wanted)
    phrase = literal(" " + query.phrase)
    whens = [
        (and_(*_tier_conditions("postgresql", tier, literal(search), phrase)), position)
        for position, (tier, search) in enumerate(zip(wanted, texts, strict=True))
    ]
    t = pg_table
    found = (
        select(t.c.product_id.label("id"), case(*whens).label("tier"))
        .where(t.c.document.op("@@")(cast(literal(query.tsquery()), TSQUERY)))
        .subquery("found")
    )
    exact = case({n: tier[0] for n, tier in enumerate(wanted)}, value=found.c.tier)
    phrase_ = case({n: tier[1] for n, tier in enumerate(wanted)}, value=found.c.tier)
    return (
        select(
            found.c.id,
            exact.label("exact"),
            phrase_.label("phrase"),
            found.c.id.label("rank"),
        )
        .cte("hits")
        .prefix_with("MATERIALIZED")
    )


@functools.cache
def _ranked_template(dialect: str, wanted: tuple) -> Select:
    """(id, exact, phrase) of rows :offset+1 … :offset+:limit in the ranking's order.

    Built once per shape of query, with the tiers' queries as parameters (tier0, tier1, …,
    phrase): what a page runs is then one statement SQLAlchemy has compiled already.
    """
    key = _key(dialect)
    texts = [bindparam(f"tier{n}", type_=String) for n in range(len(wanted))]
    phrase_param = bindparam("phrase", type_=String)
    arms = []
    window = _pg_window() if dialect == "postgresql" else None
    for (exact, phrase, stmt), search in zip(
        _tier_selects(dialect, wanted, texts, phrase_param), texts, strict=True
    ):
        if dialect == "postgresql":
            ids = _pg_arm((exact, phrase), search, phrase_param, window)
        else:
            ids = stmt.order_by(key.desc()).limit(bindparam("end", type_=Integer)).subquery()
        arm = select(
            ids.c[0].label("id"),
            _constant(exact).label("exact"),
            _constant(phrase).label("phrase"),
        )
        arms.append(arm)
    found = union_all(*arms).subquery("tiers")
    return (
        select(found)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def _pg_window():
    """The newest RECENT_WINDOW entries (_pg_arm()) and the oldest key among them, as CTEs.

    Written once for every tier of a query: PostgreSQL plans them once (a CTE per tier made
    planning cost more than running), and reads the window once, when a tier first needs it.
    """
    t = pg_table
    window = bindparam("window", type_=Integer)
    recent = (
        select(t.c.product_id, t.c.document, t.c.name, t.c.name_en, t.c.context)
        .order_by(t.c.product_id.desc())
        .limit(window)
        .cte("recent_rows")
        .prefix_with("MATERIALIZED")
    )
    bound = select(func.min(recent.c.product_id).label("oldest")).cte("recent_bound")
    return recent, bound


def _pg_arm(tier: tuple, search, phrase, window):
    """PostgreSQL: the keys of a tier's first :end matches, newest first, read in two steps.

    The planner cannot tell how many entries a tier holds (the words of a product's name go
    together, so it takes their matches for far rarer than they are, and it cannot estimate a
    phrase at all), and guessing wrong costs either way: through the GIN index it reads every
    match of a common tier (10,000 rows for "dong ho", 90 ms), newest first along the key it
    reads the whole table for a rare one. So a tier is first read among the RECENT_WINDOW
    newest entries (`window`, from _pg_window()), which fills a page of a common tier; what
    the page still needs after that comes from the GIN index among the older entries, which a
    common tier never reaches (the Append runs its parts in turn, and the LIMIT stops it) and
    a rare one reads cheaply. The two parts do not overlap and keep the order: newest first.
    """
    recent_rows, bound = window
    t = pg_table
    end = bindparam("end", type_=Integer)
    recent = (
        select(recent_rows.c.product_id)
        .where(*_tier_conditions("postgresql", tier, search, phrase, recent_rows))
        .order_by(recent_rows.c.product_id.desc())
        .limit(end)
    )
    older = (
        select(t.c.product_id)
        .where(
            *_tier_conditions("postgresql", tier, search, phrase),
            t.c.product_id < select(bound.c.oldest).scalar_subquery(),
        )
        .order_by(t.c.product_id.desc())
        .limit(end)
    )
    both = union_all(recent.subquery().select(), older.subquery().select()).subquery()
    return select(both.c.product_id).limit(end).subquery()


@functools.cache
def _sorted_template(wanted: tuple) -> Select:
    """PostgreSQL, few matches: every match read once and put in its tier, then sorted.

    The same rows in the same order as _ranked_template(), for a query known to match at
    most FEW_MATCHES products: one pass through the GIN index instead of one per tier.
    """
    t = pg_table
    searches = [bindparam(f"tier{n}", type_=String) for n in range(len(wanted))]
    phrase = bindparam("phrase", type_=String)
    whens = [
        (and_(*_tier_conditions("postgresql", tier, search, phrase)), position)
        for position, (tier, search) in enumerate(zip(wanted, searches, strict=True))
    ]
    every = cast(bindparam("every", type_=String), TSQUERY)
    found = (
        select(t.c.product_id.label("id"), case(*whens).label("tier"))
        .where(t.c.document.op("@@")(every))
        .subquery("found")
    )
    exact = case({n: tier[0] for n, tier in enumerate(wanted)}, value=found.c.tier)
    phrase_ = case({n: tier[1] for n, tier in enumerate(wanted)}, value=found.c.tier)
    return (
        select(found.c.id, exact.label("exact"), phrase_.label("phrase"))
        .order_by(found.c.tier, found.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def ranked(
    query: ParsedQuery, limit: int, offset: int = 0, found: int | None = None
) -> tuple[Select, dict]:
    """(select, parameters) of the (id, exact, phrase) of matches offset+1 … offset+limit.

    The tiers are read in turn, each newest first and no further than this page's end, and
    reading stops once the page is full: SQLite and PostgreSQL run the arms of a UNION ALL one
    after the other, and the LIMIT stops them (tests/test_search_speed.py checks the order).
    With `found`, the number of matches when known to be at most FEW_MATCHES, PostgreSQL
    sorts them all instead (_sorted_template()).
    """
    dialect = dialect_name()
    wanted = _wanted_tiers(query)
    texts = _tier_texts(query, dialect, wanted)
    params = {f"tier{n}": search for n, search in enumerate(texts)}
    params.update(phrase=" " + query.phrase, end=offset + limit, limit=limit, offset=offset)
    if dialect == "postgresql" and found is not None and found <= FEW_MATCHES:
        params["every"] = query.tsquery()
        return _sorted_template(wanted), params
    if dialect == "postgresql":
        params["window"] = RECENT_WINDOW
    return _ranked_template(dialect, wanted), params


@functools.cache
def _page_template(ranking: Select, columns: tuple | None) -> Select:
    """The page's products, joined in the order written: the page's few rows first.

    PostgreSQL runs it with join_collapse_limit 1 (run_page()): searching the best order of
    these nine tables takes it 10-30 ms, for a query that looks up 24 rows by key.
    """
    page = ranking.subquery("page")
    entities = [getattr(Product, name) for name in columns] if columns else [Product]
    stmt = (
        select(*entities)
        .select_from(page)
        .join(Product, Product.id == page.c.id)
        .join(Product.cooperative)
        # The public rule is shop.catalog.queries.public_products()'s, applied as it says.
        .where(public_products().whereclause)
        .order_by(page.c.exact.desc(), page.c.phrase.desc(), Product.id.desc())
    )
    return stmt if columns else card_select(stmt)


def page_products(
    query: ParsedQuery,
    limit: int,
    offset: int = 0,
    columns: tuple | None = None,
    found: int | None = None,
):
    """(select, parameters): public products offset+1 … offset+limit of the ranking, as card
    rows (shop.catalog.cards.card_of()), or only these `columns` of Product. Run it with
    run_page()."""
    ranking, params = ranked(query, limit, offset, found)
    return _page_template(ranking, columns), params


def run_page(stmt: Select, params: dict):
    """Execute a page_products() select (on PostgreSQL, with its joins in the written order).

    The setting lasts until the end of the transaction: the page's rows are the request's last
    read (the catalogue does the same, shop.catalog.queries.JOINS_AS_WRITTEN).
    """
    if dialect_name() == "postgresql":
        db.session.execute(text("SET LOCAL join_collapse_limit = 1"))
    return db.session.connection().execute(stmt, params)


def apply_search(stmt: Select, query: ParsedQuery) -> tuple[Select, list]:
    """Narrow a select of Product to the query's matches; returns (select, ranking clauses).

    An empty query matches nothing.
    """
    if not query:
        return stmt.where(false()), []
    found = hits(query)
    stmt = stmt.join(found, found.c.id == Product.id)
    return stmt, [found.c.exact.desc(), found.c.phrase.desc(), found.c.rank.desc()]


def search_products(query: ParsedQuery) -> Select:
    """Every public product matching the query, best first, with card data loaded."""
    stmt, ranking = apply_search(public_products(), query)
    return with_card_data(newest_first(stmt.order_by(*ranking)))


def count_matches(query: ParsedQuery, cap: int) -> Select:
    """How many products match, counting no further than `cap`."""
    return select(func.count()).select_from(matches(query).limit(cap).subquery())


class SearchPage(Pagination):
    """One page of results, of at most MAX_RESULTS; `more` says whether there were more.

    The count comes first, from the index, which holds exactly the public products
    (shop.search.index keeps it so in the same transaction as every change); a page past
    the results, or a query that finds nothing, reads no rows.
    """

    def _query_items(self) -> list:
        query = self._query_args["query"]
        found = db.session.scalar(count_matches(query, MAX_RESULTS + 1))
        self.more = found > MAX_RESULTS
        self.found = min(found, MAX_RESULTS)
        offset = (self.page - 1) * self.per_page
        if offset >= self.found:
            return []
        limit = min(self.per_page, self.found - offset)
        stmt, params = page_products(query, limit, offset, found=found)
        return [card_of(row) for row in run_page(stmt, params)]

    def _query_count(self) -> int:
        return self.found


def search_page(query: ParsedQuery, page: int, per_page: int) -> SearchPage:
    """One page of results; pages past the cap hold nothing (the view answers 404)."""
    return SearchPage(
        page=page, per_page=per_page, max_per_page=per_page, error_out=False, query=query
    )


def product_suggestions(query: ParsedQuery, limit: int = SUGGESTIONS) -> tuple[Select, dict]:
    """(select, parameters): (name_vi, name_en, slug) of the first results."""
    return page_products(query, limit, columns=("name_vi", "name_en", "slug"))


def any_matches(queries: list[ParsedQuery]) -> Select:
    """One row per query that finds something, holding its position in `queries`."""
    arms = [
        select(literal_column(str(position), Integer).label("position")).where(
            matches(query).exists()
        )
        for position, query in enumerate(queries)
    ]
    return union_all(*arms) if len(arms) > 1 else arms[0]


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
    """The folded names and context of every indexed product: the spelling vocabulary's source.

    Read the words of a row with vocabulary_words().
    """
    if dialect_name() == "sqlite":
        return select(fts5_table.c.marks)
    return select(pg_table.c.name, pg_table.c.name_en, pg_table.c.context)


def vocabulary_words(row) -> list[str]:
    """The folded words of a row of vocabulary_rows() (SQLite: its NAME and CONTEXT words)."""
    if len(row) == 1:
        marked = (row[0] or "").split()
        return [w[1:] for w in marked if len(w) > 1 and w[0] in (NAME, CONTEXT)]
    return [word for text in row for word in (text or "").split()]
