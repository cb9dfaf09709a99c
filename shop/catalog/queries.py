"""Reads of the public catalogue: every helper returns a select() for views to run or paginate."""

import base64
import contextlib
import functools
import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import abort, current_app, has_app_context, request
from sqlalchemy import (
    Double,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalog.cards import card_of, card_select
from shop.catalog.models import (
    Category,
    CertificationKind,
    Product,
    ProductCertification,
    ProductImage,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    Unit,
)
from shop.cooperatives.models import Cooperative, Locality, Sector
from shop.cooperatives.queries import is_public_cooperative
from shop.extensions import db
from shop.text.folding import SLUG_RE
from shop.text.i18n import Bilingual

log = logging.getLogger(__name__)

#: Catalogue sort orders, by the value of the `sort` query argument.
SORTS = ("newest", "price_asc", "price_desc", "ocop")


def public_products() -> Select:
    """Products anyone may see: published, and sold by a verified cooperative.

    The one place this rule lives; every public page starts from it.
    """
    return (
        select(Product)
        .join(Product.cooperative)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            is_public_cooperative(),
        )
    )


def with_card_data(stmt: Select) -> Select:
    """Load what a product card shows: unit, category, sector, cooperative, commune, cover."""
    return stmt.options(*card_options())


@functools.cache
def card_options() -> tuple:
    """with_card_data()'s loader options, made once (they are immutable; making them is not
    free, and every listing page uses them)."""
    return (
        contains_eager(Product.cooperative).joinedload(Cooperative.locality),
        joinedload(Product.unit),
        joinedload(Product.category),
        joinedload(Product.sector),
        joinedload(Product.cover).joinedload(ProductImage.image),
    )


@functools.lru_cache(maxsize=8)
def ocop_valid(day: date):
    """SQL condition: the product holds OCOP stars whose certificate has not expired on `day`.

    Made once per day (an expression is immutable; the OCOP listing uses it twice a page).
    """
    return (Product.ocop_stars > 0) & (
        Product.ocop_expires_on.is_(None) | (Product.ocop_expires_on >= day)
    )


def newest_first(stmt: Select) -> Select:
    """Newest published first: the order of index (status, published_at, id), read backwards.

    No NULLS LAST: a public product always has published_at, and PostgreSQL's backward index
    scan gives DESC NULLS FIRST, so spelling it out would cost a sort of every match.
    """
    return stmt.order_by(Product.published_at.desc(), Product.id.desc())


def sorted_products(stmt: Select, sort: str, day: date) -> Select:
    """Order products by `sort`'s key (see sort_key): a unique total order on every backend."""
    columns, descending = sort_key(sort, day)
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))


def featured_products(day: date, limit: int = 8) -> Select:
    """The newest public products with a valid OCOP rating."""
    return with_card_data(newest_first(public_products().where(ocop_valid(day)))).limit(limit)


# --------------------------------------------------------------------------- the catalogue

#: Stands in for a missing price ("Liên hệ") in the price sorts so those products come last
#: both ways: above every real price going up (int4's largest), below every one going down (0;
#: prices are positive). Literal SQL, not a parameter, so the expression indexes of 0008 match.
PRICE_ON_REQUEST_UP = 2**31 - 1
PRICE_ON_REQUEST_DOWN = 0

#: The price facet's bands, by the value of the `price` query argument: [low, high) in whole
#: VND, None for "Liên hệ". Chosen for the demo prices (3.000 ₫ to 185 triệu, median ≈ 80.000 ₫):
#: each band holds roughly a fifth of the priced products.
PRICE_BANDS: dict[str, tuple[int | None, int | None] | None] = {
    "duoi-50k": (None, 50_000),
    "50k-100k": (50_000, 100_000),
    "100k-200k": (100_000, 200_000),
    "200k-500k": (200_000, 500_000),
    "tren-500k": (500_000, None),
    "lien-he": None,
}

#: "x sao trở lên": the OCOP facet's levels.
OCOP_LEVELS = (3, 4, 5)


@dataclass
class Filters:
    """What the catalogue is narrowed to; every field but `cooperative` is a facet."""

    sector: Sector | None = None
    category: Category | None = None
    locality: Locality | None = None
    ocop_min: int | None = None
    certifications: tuple[str, ...] = ()
    price: str | None = None
    in_season: bool = False
    cooperative: Cooperative | None = None
    #: A search query (shop.search.terms.ParsedQuery): narrows like a filter, ranks by relevance.
    query: object | None = None

    @property
    def chosen(self) -> int:
        """How many facet values are chosen (the n of "Bộ lọc (n)")."""
        singles = (self.sector, self.category, self.locality, self.ocop_min, self.price)
        return sum(v is not None for v in singles) + len(self.certifications) + self.in_season


def valid_stars(day: date):
    """SQL: the OCOP stars a product holds on `day`, 0 when it has none or they expired."""
    return case((ocop_valid(day), Product.ocop_stars), else_=0)


def price_band():
    """SQL: the key of PRICE_BANDS a product's price falls in."""
    whens = [(Product.price_vnd.is_(None), "lien-he")]
    for key, band in PRICE_BANDS.items():
        if band is not None and band[1] is not None:
            whens.append((Product.price_vnd < band[1], key))
    return case(*whens, else_="tren-500k")


def in_season(day: date):
    """SQL condition: `day`'s month is set in the product's season mask (bit m-1 = month m)."""
    return Product.season_months.op("&")(1 << (day.month - 1)) != 0


def price_in_band(key: str):
    band = PRICE_BANDS[key]
    if band is None:
        return Product.price_vnd.is_(None)
    low, high = band
    conditions = []
    if low is not None:
        conditions.append(Product.price_vnd >= low)
    if high is not None:
        conditions.append(Product.price_vnd < high)
    return and_(*conditions)


def filter_conditions(filters: Filters, day: date, skip: str | None = None) -> list:
    """SQL conditions of the chosen filters, but for facet `skip` (counts ignore their own)."""
    f = filters
    wanted = []
    if f.cooperative is not None:
        wanted.append(Product.cooperative_id == f.cooperative.id)
    if f.query:
        # Which products match, not how well: one pass through the index (the ranking's
        # tiers would read every match once per tier). Search reads the catalogue, not the
        # reverse, hence the import here.
        from shop.search.queries import matches

        wanted.append(Product.id.in_(matches(f.query)))
    if f.sector is not None and skip != "sector":
        wanted.append(Product.sector_id == f.sector.id)
    if f.category is not None and skip != "category":
        wanted.append(Product.category_id == f.category.id)
    if f.locality is not None and skip != "locality":
        wanted.append(Cooperative.locality_id == f.locality.id)
    if f.certifications and skip != "certification":
        holders = select(ProductCertification.product_id).where(
            ProductCertification.certification_code.in_(f.certifications)
        )
        wanted.append(Product.id.in_(holders))
    if skip != "small":
        # OCOP stars, price band and season are counted together in one grouped query.
        if f.ocop_min is not None:
            wanted.append(ocop_valid(day) & (Product.ocop_stars >= f.ocop_min))
        if f.price is not None:
            wanted.append(price_in_band(f.price))
        if f.in_season:
            wanted.append(in_season(day))
    return wanted


def filtered_products(filters: Filters, day: date) -> Select:
    """Public products narrowed by every chosen filter (unsorted, no card data)."""
    return public_products().where(*filter_conditions(filters, day))


def catalogue(day: date, *, sort: str = "newest", **filters) -> Select:
    """Public products narrowed by the catalogue's filters, sorted, with card data loaded.

    `filters` are the fields of Filters (sector=…, category=…, cooperative=…).
    """
    stmt = filtered_products(Filters(**filters), day)
    return with_card_data(sorted_products(stmt, sort, day))


@dataclass
class Facets:
    """Each facet's values with the number of products matching all the *other* filters."""

    sectors: list = field(default_factory=list)  # [(Term, n)] in menu order
    categories: list = field(default_factory=list)  # [(Term, n)]
    localities: list = field(default_factory=list)  # [(Term, n)]
    certifications: list = field(default_factory=list)  # [(Term with .code, n)]
    ocop: dict = field(default_factory=dict)  # {3: n at least 3 stars, 4: …, 5: …}
    price: dict = field(default_factory=dict)  # {band key: n}
    in_season: int = 0
    #: Products matching every filter (summed from the combination table: no COUNT query).
    total: int = 0


#: How old a combination table may grow before it is rebuilt, whatever the catalogue version
#: says: the bound on staleness for writes that do not move the version (raw SQL, an import that
#: only changes certifications, a worker whose clock lags). Writes through the services move it,
#: and every request reads it, so those start a rebuild on the next page load.
FACET_CACHE_SECONDS = 60
#: Combination tables kept per process (one per day × version; older versions are never read).
FACET_CACHE_SIZE = 4
#: Folded counts kept per table, by choice of filters: the common choices (none, one sector…)
#: and a walk through deep pages are then read, not folded again (a fold of a province-sized
#: table takes tens of milliseconds).
FOLDS_KEPT = 256
#: Narrowed tables (a search query's, a cooperative's) kept per process: a common word's is a
#: few megabytes.
NARROWED_KEPT = 16
#: How long one rebuild may hold the shared (Redis) lock: a worker that dies mid-rebuild frees
#: it then; the others wait at most this long for its table before building one themselves.
REBUILD_LOCK_SECONDS = 30
#: How long the newest table stays in Redis for workers that have none of their own yet.
LATEST_SECONDS = 86_400

#: One row of a combination table: (sector id, category id, commune id, valid OCOP stars,
#: price band, in season (0/1), certification codes (frozenset), number of products).
Combination = tuple


def catalogue_version() -> tuple:
    """What moves whenever a product, a cooperative or a facet's vocabulary changes, read in
    one statement.

    The newest updated_at of products and cooperatives, read off an index each (0008), and the
    size and newest key of the vocabularies (sectors, categories, communes, certification
    kinds: small tables that change by import only). Products are archived, never deleted, by
    the services; anything else (a renamed category) is bounded by FACET_CACHE_SECONDS.
    """
    row = db.session.connection().execute(version_statement()).one()
    return tuple(str(value) for value in row)


#: The part of catalogue_version() that moves with the vocabularies.
VOCABULARY_VERSION = slice(2, None)


@functools.cache
def version_statement() -> Select:
    """catalogue_version()'s statement, built once (it has no parameters)."""
    keys = (Sector.id, Category.id, Locality.id, CertificationKind.code)
    return select(
        select(func.max(Product.updated_at)).scalar_subquery(),
        select(func.max(Cooperative.updated_at)).scalar_subquery(),
        *(select(func.count(key)).scalar_subquery() for key in keys),
        *(select(func.max(key)).scalar_subquery() for key in keys),
    )


def combinations(day: date, conditions=(), kinds: list[str] | None = None) -> list[Combination]:
    """Count public products once per combination of facet values.

    One grouped query over the products (and one for the certification kinds unless `kinds`,
    their codes, are given). Every facet under any choice of filters is a sum over these rows
    (fold_facets): bounded by the facets' values, not the products (≈ 31.000 rows for the
    100.000 of bench/catalogue.py).
    """
    # Each product's certifications as one bit mask (a bit per kind): half the work of
    # aggregating the codes as text, on both backends.
    if kinds is None:
        kinds = list(db.session.scalars(select(CertificationKind.code)))
    kinds = sorted(kinds)
    whens = [(ProductCertification.certification_code == c, 1 << i) for i, c in enumerate(kinds)]
    bit = case(*whens, else_=0) if whens else literal(0)
    stmt = public_products()
    if db.session.get_bind().dialect.name == "sqlite":
        # Each product's mask read off the (product_id, certification_code) index: SQLite
        # groups this in about half the time of the join below, PostgreSQL in four times it.
        mask = (
            select(func.sum(bit))
            .where(ProductCertification.product_id == Product.id)
            .correlate(Product)
            .scalar_subquery()
        )
    else:
        masks = (
            select(ProductCertification.product_id, func.sum(bit).label("mask"))
            .group_by(ProductCertification.product_id)
            .subquery()
        )
        stmt = stmt.outerjoin(masks, masks.c.product_id == Product.id)
        mask = masks.c.mask
    keys = (
        Product.sector_id,
        Product.category_id,
        Cooperative.locality_id,
        valid_stars(day),
        price_band(),
        case((in_season(day), 1), else_=0),
        mask,
    )
    result = db.session.execute(
        stmt.with_only_columns(*keys, func.count(Product.id)).where(*conditions).group_by(*keys)
    )
    held_by_mask: dict[int, frozenset] = {}
    merged: dict[tuple, int] = {}
    # Read in chunks, and let other threads run between them: a rebuild in the background
    # shares the interpreter with requests, which a long stretch holding the GIL would stall.
    for rows in result.partitions(1000):
        for *values, mask, n in rows:
            mask = int(mask or 0)
            held = held_by_mask.get(mask)
            if held is None:
                held = frozenset(code for i, code in enumerate(kinds) if mask >> i & 1)
                held_by_mask[mask] = held
            key = (*values[:5], int(values[5]), held)
            merged[key] = merged.get(key, 0) + n
        time.sleep(0)
    return [(*key, n) for key, n in merged.items()]


@dataclass
class CountTable:
    """A combination table, when it was built (time.monotonic()), and its folds so far."""

    rows: list
    built: float
    folds: OrderedDict = field(default_factory=OrderedDict)

    def fold(self, filters: Filters, lock: threading.Lock) -> dict:
        """fold_facets() of `filters` over the rows, each choice of filters folded once (the
        latest FOLDS_KEPT kept); `lock` guards the folds of the cache holding the table."""
        state = filter_state(filters)
        with lock:
            counts = self.folds.get(state)
        if counts is None:
            counts = fold_facets(self.rows, filters)
            with lock:
                self.folds[state] = counts
                while len(self.folds) > FOLDS_KEPT:
                    self.folds.popitem(last=False)
        return counts


class NarrowedCounts:
    """Combination tables narrowed by a search query or a cooperative, the latest few kept.

    Unlike FacetCache's, a table is built on the request that first needs it and never served
    stale: its key holds the catalogue version, so a change makes the next page count again.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.tables: OrderedDict = OrderedDict()

    @classmethod
    def of(cls, app) -> "NarrowedCounts":
        cache = app.extensions.get("catalogue_narrowed_facets")
        if cache is None:
            cache = app.extensions.setdefault("catalogue_narrowed_facets", cls())
        return cache

    def counts(self, key: tuple, filters: Filters, compute) -> dict:
        with self.lock:
            table = self.tables.get(key)
            if table is not None:
                self.tables.move_to_end(key)
        if table is None:
            table = CountTable(compute(), time.monotonic())
            with self.lock:
                self.tables[key] = table
                while len(self.tables) > NARROWED_KEPT:
                    self.tables.popitem(last=False)
        return table.fold(filters, self.lock)


class FacetCache:
    """Combination tables by (day, catalogue version), in this process and in Redis if set.

    Stale while revalidate: when the key moves (a product or a cooperative changed, the day
    turned) or the table at hand is older than FACET_CACHE_SECONDS, the page is counted from the
    newest table at hand while one rebuild runs in a background thread with its own application
    context and session: one at a time per process (a lock), and one at a time per site when
    REDIS_URL is set (a Redis lock; the other workers take its table from Redis). So a member
    saving a product never makes the next buyer wait for the grouping query, and **counts may
    lag a change by the few seconds a rebuild takes** (about one at 100.000 products). Only a
    process with no table at all, here or in Redis, builds one on the request's path.

    With app.config["FACET_COUNTS_IN_BACKGROUND"] false (the tests' configuration: a test's data
    lives in a transaction no other connection sees) the request that needs a table builds it,
    and counts never lag.

    Kept on app.extensions, and keyed in Redis by the database URL: counts of one database
    are never served for another.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.tables: OrderedDict = OrderedDict()
        #: The table built last, whatever its key: served while the current key's is rebuilt.
        self.latest: CountTable | None = None
        self.rebuilding: threading.Thread | None = None
        self.background = bool(app.config.get("FACET_COUNTS_IN_BACKGROUND", True))
        database = app.config["SQLALCHEMY_DATABASE_URI"]
        self.prefix = "chohtx:facets:" + hashlib.sha256(database.encode()).hexdigest()[:16]
        self.redis = None
        if app.config.get("REDIS_URL"):
            import redis

            self.redis = redis.Redis.from_url(
                app.config["REDIS_URL"], socket_timeout=0.5, socket_connect_timeout=0.5
            )

    @classmethod
    def of(cls, app) -> "FacetCache":
        cache = app.extensions.get("catalogue_facets")
        if cache is None:
            cache = app.extensions.setdefault("catalogue_facets", cls(app))
        return cache

    def get(self, key: tuple, compute) -> list[Combination]:
        """The combination table to count with for `key` (see table())."""
        return self.table(key, compute).rows

    def counts(self, key: tuple, filters: Filters, compute) -> dict:
        """fold_facets() of `filters` over the table of `key`; each choice folded once."""
        return self.table(key, compute).fold(filters, self.lock)

    def table(self, key: tuple, compute) -> CountTable:
        """The table of `key` if fresh, else the newest at hand while `compute` runs elsewhere.

        `compute()` builds the table from the database; in the background it runs in an
        application context of its own. Without any table at hand it runs here.
        """
        now = time.monotonic()
        with self.lock:
            entry = self.tables.get(key)
            if entry is not None and now - entry.built < FACET_CACHE_SECONDS:
                self.tables.move_to_end(key)
                return entry
            stale = entry or self.latest
        rows = self._shared_get(key)
        if rows is not None:
            return self._keep(key, rows)
        if self.background and stale is None:
            rows = self._shared_get("latest")
            if rows is not None:
                stale = CountTable(rows, now - FACET_CACHE_SECONDS)
                with self.lock:
                    self.latest = self.latest or stale
        if not self.background or stale is None:
            rows = compute()
            self._shared_set(key, rows)
            return self._keep(key, rows)
        self._rebuild_later(key, compute)
        return stale

    def join(self, timeout: float | None = None) -> None:
        """Wait for the rebuild under way, if any (tests, benchmarks, a clean shutdown)."""
        thread = self.rebuilding
        if thread is not None:
            thread.join(timeout)

    def clear(self) -> None:
        with self.lock:
            self.tables.clear()
            self.latest = None

    def _keep(self, key: tuple, rows: list[Combination]) -> CountTable:
        table = CountTable(rows, time.monotonic())
        with self.lock:
            self.tables[key] = table
            self.tables.move_to_end(key)
            while len(self.tables) > FACET_CACHE_SIZE:
                self.tables.popitem(last=False)
            self.latest = table
        return table

    def _rebuild_later(self, key: tuple, compute) -> None:
        """Start one background rebuild of `key`'s table, unless one is under way already."""
        with self.lock:
            if self.rebuilding is not None and self.rebuilding.is_alive():
                return
            self.rebuilding = threading.Thread(
                target=self._rebuild, args=(key, compute), name="facet-counts", daemon=True
            )
            self.rebuilding.start()

    def _rebuild(self, key: tuple, compute) -> None:
        try:
            with self.app.app_context():
                try:
                    rows = self._build_once(key, compute)
                finally:
                    db.session.remove()
            if rows is not None:
                self._keep(key, rows)
        except Exception:  # a failed rebuild leaves the old counts; the next request retries
            log.exception("facet cache: rebuild failed")

    def _build_once(self, key: tuple, compute) -> list[Combination] | None:
        """Build `key`'s table, or take it from Redis when another worker holds the lock."""
        if self.redis is None:
            return compute()
        from redis.exceptions import LockError, RedisError

        lock = self.redis.lock(
            f"{self.prefix}:rebuilding", timeout=REBUILD_LOCK_SECONDS, thread_local=False
        )
        deadline = time.monotonic() + REBUILD_LOCK_SECONDS
        while time.monotonic() < deadline:
            try:
                held = lock.acquire(blocking=False)
            except RedisError as error:
                log.warning("facet cache: Redis lock failed: %s", error)
                return compute()
            if held:
                try:
                    rows = self._shared_get(key)  # built by another worker meanwhile?
                    if rows is None:
                        rows = compute()
                        self._shared_set(key, rows)
                    return rows
                finally:
                    with contextlib.suppress(LockError, RedisError):
                        lock.release()  # an expired lock is taken again by the next rebuild
            rows = self._shared_get(key)
            if rows is not None:
                return rows
            time.sleep(0.05)
        return None

    def _redis_key(self, key) -> str:
        if key == "latest":
            return f"{self.prefix}:latest"
        return f"{self.prefix}:{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}"

    def _shared_get(self, key) -> list[Combination] | None:
        if self.redis is None:
            return None
        try:
            raw = self.redis.get(self._redis_key(key))
        except Exception as error:  # an unreachable Redis slows the page, it does not break it
            log.warning("facet cache: Redis read failed: %s", error)
            return None
        if raw is None:
            return None
        return [(*row[:6], frozenset(row[6]), row[7]) for row in json.loads(raw)]

    def _shared_set(self, key: tuple, table: list[Combination]) -> None:
        if self.redis is None:
            return
        raw = json.dumps([(*row[:6], sorted(row[6]), row[7]) for row in table])
        try:
            with self.redis.pipeline() as pipe:
                pipe.set(self._redis_key(key), raw, ex=FACET_CACHE_SECONDS)
                pipe.set(self._redis_key("latest"), raw, ex=LATEST_SECONDS)
                pipe.execute()
        except Exception as error:
            log.warning("facet cache: Redis write failed: %s", error)


def filter_state(filters: Filters) -> tuple:
    """The facet choices of `filters` as a hashable value (what a fold depends on)."""
    f = filters
    return (
        f.sector.id if f.sector is not None else None,
        f.category.id if f.category is not None else None,
        f.locality.id if f.locality is not None else None,
        f.ocop_min,
        tuple(sorted(f.certifications)),
        f.price,
        f.in_season,
    )


def fold_facets(table: list[Combination], filters: Filters) -> dict:
    """Each facet's counts under the *other* filters, summed over a combination table.

    A row failing no filter counts in every facet; a row failing exactly one counts only in
    that one's facet (the "other filters" rule); a row failing two counts nowhere.
    """
    f = filters
    sector = f.sector.id if f.sector is not None else None
    category = f.category.id if f.category is not None else None
    locality = f.locality.id if f.locality is not None else None
    chosen = frozenset(f.certifications)
    ocop_min, price, season_only = f.ocop_min, f.price, f.in_season
    counts = {name: {} for name in ("sector", "category", "locality", "cert", "stars", "price")}
    by_sector, by_category, by_locality = counts["sector"], counts["category"], counts["locality"]
    by_cert, by_stars, by_price = counts["cert"], counts["stars"], counts["price"]
    seasonal_total = total = 0
    for s, c, loc, stars, band, seasonal, held, n in table:
        failed = None
        misses = 0
        if sector is not None and s != sector:
            failed, misses = "sector", misses + 1
        if category is not None and c != category:
            failed, misses = "category", misses + 1
        if locality is not None and loc != locality:
            failed, misses = "locality", misses + 1
        if chosen and not (held & chosen):
            failed, misses = "cert", misses + 1
        if ocop_min is not None and stars < ocop_min:
            failed, misses = "stars", misses + 1
        if price is not None and band != price:
            failed, misses = "price", misses + 1
        if season_only and not seasonal:
            failed, misses = "season", misses + 1
        if misses > 1:
            continue
        if failed is None or failed == "sector":
            by_sector[s] = by_sector.get(s, 0) + n
        if failed is None or failed == "category":
            by_category[c] = by_category.get(c, 0) + n
        if failed is None or failed == "locality":
            by_locality[loc] = by_locality.get(loc, 0) + n
        if failed is None or failed == "cert":
            for code in held:
                by_cert[code] = by_cert.get(code, 0) + n
        if failed is None or failed == "stars":
            by_stars[stars] = by_stars.get(stars, 0) + n
        if failed is None or failed == "price":
            by_price[band] = by_price.get(band, 0) + n
        if (failed is None or failed == "season") and seasonal:
            seasonal_total += n
        if failed is None:
            total += n
    counts["season"] = seasonal_total
    counts["total"] = total
    return counts


class Term(Bilingual):
    """One value of a facet: a sector, category, commune (id, slug) or certification (code).

    A plain record, not a model instance: a catalogue page lists about eighty of them.
    """

    __slots__ = ("id", "slug", "code", "name_vi", "name_en")

    def __init__(self, id, slug, code, name_vi, name_en):  # noqa: A002 (the column's name)
        self.id, self.slug, self.code = id, slug, code
        self.name_vi, self.name_en = name_vi, name_en

    def __repr__(self) -> str:
        return f"Term({self.slug or self.code!r})"


@dataclass
class Vocabularies:
    """The facets' values in menu order; the catalogue's arguments are looked up in them."""

    sectors: list[Term]
    categories: list[Term]
    localities: list[Term]
    certifications: list[Term]

    def by_slug(self, name: str, slug: str | None) -> Term | None:
        """The sector, category or locality (`name`) with this slug, or None."""
        rows = {"sector": self.sectors, "category": self.categories, "locality": self.localities}
        return next((row for row in rows[name] if row.slug == slug), None) if slug else None

    @property
    def certification_codes(self) -> list[str]:
        return [kind.code for kind in self.certifications]


#: The vocabularies' kinds, in the order the statement sorts them.
VOCABULARIES = ("1 sector", "2 category", "3 locality", "4 cert")


@functools.cache
def vocabulary_statement() -> Select:
    """The four vocabularies as one UNION ALL, sorted: (kind, id, slug, code, names, …).

    Built once: it has no parameters, and building it costs more than running it.
    """
    no_id, no_text = cast(null(), Integer), cast(null(), String)
    zero, empty = literal_column("0", Integer), literal_column("''", String)
    parts = [
        select(
            literal_column(f"'{kind}'", String).label("kind"),
            id_.label("id"),
            slug.label("slug"),
            code.label("code"),
            model.name_vi.label("name_vi"),
            model.name_en.label("name_en"),
            rank.label("rank"),
            label.label("label"),
        )
        for kind, model, id_, slug, code, rank, label in (
            (VOCABULARIES[0], Sector, Sector.id, Sector.slug, no_text, Sector.sort_order, empty),
            (
                VOCABULARIES[1],
                Category,
                Category.id,
                Category.slug,
                no_text,
                Category.sort_order,
                empty,
            ),
            (
                VOCABULARIES[2],
                Locality,
                Locality.id,
                Locality.slug,
                no_text,
                zero,
                Locality.short_name,
            ),
            (
                VOCABULARIES[3],
                CertificationKind,
                no_id,
                no_text,
                CertificationKind.code,
                zero,
                CertificationKind.name_vi,
            ),
        )
    ]
    terms = union_all(*parts).subquery("terms")
    c = terms.c
    return select(c.kind, c.id, c.slug, c.code, c.name_vi, c.name_en).order_by(
        c.kind, c.rank, c.label, c.id, c.code
    )


def vocabularies(version: tuple | None = None) -> Vocabularies:
    """Sectors, categories, communes and certification kinds in menu order, in one statement.

    The menus' orders: sectors and categories by sort_order, communes by short name,
    certification kinds by Vietnamese name (each then by its key), as the database sorts text.
    With `version` (catalogue_version(), which the page reads anyway) they are read once per
    version and process, for at most FACET_CACHE_SECONDS: a catalogue page then runs one
    statement less.
    """
    if version is not None and has_app_context():
        key = version[VOCABULARY_VERSION]  # not the products': they change all day
        cache = current_app.extensions.setdefault("catalogue_vocabularies", {})
        kept = cache.get("kept")
        now = time.monotonic()
        if kept is not None and kept[0] == key and now - kept[1] < FACET_CACHE_SECONDS:
            return kept[2]
        found = vocabularies()
        cache["kept"] = (key, now, found)
        return found
    found: dict[str, list[Term]] = {kind: [] for kind in VOCABULARIES}
    for kind, *values in db.session.execute(vocabulary_statement()):
        found[kind].append(Term(*values))
    return Vocabularies(*(found[kind] for kind in VOCABULARIES))


def cached_counts(
    filters: Filters, day: date, kinds: list[str] | None = None, version: tuple | None = None
) -> dict:
    """fold_facets() of `filters`, over the cached combination table (FacetCache).

    Counts may lag a product or cooperative change by the seconds a background rebuild takes
    (see FacetCache). A search query or a cooperative narrows the table, which is then built
    for this request alone; so is a table read outside an application context (scripts, tests).
    `kinds`, the certification codes when the caller has them, saves a statement; so does
    `version`, catalogue_version() when the caller has read it.
    """
    if has_app_context() and version is None:
        version = catalogue_version()
    f = filters
    if f.query or f.cooperative is not None:
        narrowing = filter_conditions(Filters(query=f.query, cooperative=f.cooperative), day)
        if not has_app_context():
            return fold_facets(combinations(day, narrowing, kinds), f)
        # A common word matches a quarter of the catalogue, whose grouping takes as long as
        # the whole one's: kept for the next buyers of the same words (and their next pages).
        key = (
            day.isoformat(),
            *version,
            f.query.tsquery() if f.query else None,
            f.query.fts5() if f.query else None,
            f.cooperative.id if f.cooperative is not None else None,
        )
        narrowed = NarrowedCounts.of(current_app._get_current_object())
        return narrowed.counts(key, f, lambda: combinations(day, narrowing, kinds))
    if not has_app_context():
        return fold_facets(combinations(day, kinds=kinds), f)
    app = current_app._get_current_object()
    key = (day.isoformat(), *version)
    return FacetCache.of(app).counts(key, f, lambda: combinations(day, kinds=kinds))


def facet_counts(
    filters: Filters,
    day: date,
    vocab: Vocabularies | None = None,
    version: tuple | None = None,
) -> Facets:
    """Count every facet's values under the other filters (cached_counts), in menu order.

    Three statements at most without a search query: the vocabularies (unless given), the
    catalogue version (unless given), and only when no table is at hand here the grouped query.
    """
    vocab = vocab or vocabularies()
    counts = cached_counts(filters, day, vocab.certification_codes, version)

    def listed(rows, by, key="id"):
        return [(row, by.get(getattr(row, key), 0)) for row in rows]

    facets = Facets(in_season=counts["season"], total=counts["total"])
    facets.sectors = listed(vocab.sectors, counts["sector"])
    facets.categories = listed(vocab.categories, counts["category"])
    facets.localities = listed(vocab.localities, counts["locality"])
    facets.certifications = listed(vocab.certifications, counts["cert"], "code")
    by_stars = counts["stars"]
    facets.ocop = {
        level: sum(n for stars, n in by_stars.items() if stars >= level) for level in OCOP_LEVELS
    }
    facets.price = {key: counts["price"].get(key, 0) for key in PRICE_BANDS}
    return facets


def sectors_with_cached_counts(day: date) -> list[tuple]:
    """[(Sector, number of public products)] in menu order, counted from the cached table."""
    by_sector = cached_counts(Filters(), day)["sector"]
    sectors = db.session.scalars(select(Sector).order_by(Sector.sort_order, Sector.id))
    return [(sector, by_sector.get(sector.id, 0)) for sector in sectors]


# --------------------------------------------------------------------------- keyset pages


def sort_key(sort: str, day: date, found=None) -> tuple[list, bool]:
    """(columns, descending) of a sort: a unique total order, the id breaking ties.

    Every column runs the same way so a page boundary is one row comparison, which both
    backends answer from an index (0008) for the newest and price orders. "relevance" needs
    `found`, the search's hits subquery joined to the products (shop.search.queries.hits).
    """
    if sort == "relevance" and found is not None:
        # PostgreSQL's ts_rank is a float4, which reaches Python rounded through its text form;
        # as a float8 it round-trips exactly, so a cursor finds its row again.
        ranking = [found.c.exact, found.c.phrase, cast(found.c.rank, Double)]
        return [*ranking, Product.published_at, Product.id], True
    if sort == "price_asc":
        up = func.coalesce(Product.price_vnd, literal_column(str(PRICE_ON_REQUEST_UP)))
        return [up, Product.id], False
    if sort == "price_desc":
        down = func.coalesce(Product.price_vnd, literal_column(str(PRICE_ON_REQUEST_DOWN)))
        return [down, Product.id], True
    if sort == "ocop":
        return [valid_stars(day), Product.published_at, Product.id], True
    return [Product.published_at, Product.id], True


def key_of(product: Product, sort: str, day: date) -> tuple:
    """The values of sort_key's columns for one product (the same rule in Python)."""
    if sort == "relevance":
        return (*product.search_ranking, product.published_at, product.id)
    if sort == "price_asc":
        price = product.price_vnd
        return (PRICE_ON_REQUEST_UP if price is None else price, product.id)
    if sort == "price_desc":
        return (product.price_vnd or PRICE_ON_REQUEST_DOWN, product.id)
    if sort == "ocop":
        stars = product.ocop_stars if product.ocop_valid_on(day) else 0
        return (stars, product.published_at, product.id)
    return (product.published_at, product.id)


#: The type of each value of a sort's key, to read a cursor back.
KEY_TYPES = {
    "newest": (datetime, int),
    "price_asc": (int, int),
    "price_desc": (int, int),
    "ocop": (int, datetime, int),
    "relevance": (int, int, float, datetime, int),
}
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (or, going back, before) the row with key `key`."""

    sort: str
    number: int
    key: tuple
    before: bool = False

    def encode(self) -> str:
        values = [v.isoformat() if isinstance(v, datetime) else v for v in self.key]
        payload = [self.sort, self.number, "b" if self.before else "a", *values]
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str | None, sort: str) -> "Cursor":
        """Read a cursor of `sort`; raise ValueError for anything else (garbage, tampering)."""
        if not text or len(text) > 200:
            raise ValueError("cursor length")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError("cursor encoding") from error
        types = KEY_TYPES.get(sort)
        if not isinstance(payload, list) or types is None or len(payload) != 3 + len(types):
            raise ValueError("cursor shape")
        name, number, direction, *values = payload
        if name != sort or direction not in ("a", "b"):
            raise ValueError("cursor sort")
        if type(number) is not int or not 1 < number <= MAX_PAGE:
            raise ValueError("cursor page")
        key = []
        for kind, value in zip(types, values, strict=True):
            if kind is int:
                if type(value) is not int or not 0 <= value <= MAX_ROW_ID:
                    raise ValueError("cursor value")
                key.append(value)
            elif kind is float:
                if type(value) not in (int, float) or not math.isfinite(value):
                    raise ValueError("cursor value")
                key.append(float(value))
            else:
                if not isinstance(value, str) or len(value) > 40:
                    raise ValueError("cursor value")
                key.append(datetime.fromisoformat(value))
        return cls(sort, number, tuple(key), direction == "b")


@dataclass
class KeysetPage:
    """One page of a keyset listing, with the cursors of its neighbours."""

    items: list
    total: int
    number: int
    per_page: int
    next_cursor: Cursor | None = None
    #: None on page 2 (the previous page is the first, which has no cursor).
    prev_cursor: Cursor | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page_rows(
    stmt: Select,
    sort: str,
    day: date,
    cursor: Cursor | None,
    limit: int,
    offset=0,
    query=None,
):
    found = None
    if sort == "relevance":
        from shop.search.queries import hits

        found = hits(query)
        stmt = stmt.join(found, found.c.id == Product.id)
    backwards = cursor is not None and cursor.before
    if sort == "ocop":
        # Stars first, descending (sort_key), read from the window's columns.
        down = not backwards
        window = ocop_window(stmt, day, cursor, down, limit + (offset or 0))
        w = window.c
        columns = [w.stars, w.published_at, w.id]
        # Only the window's rows, which passed the filters already: join, do not filter again.
        stmt = select(Product).select_from(window).join(Product, Product.id == w.id)
        stmt = stmt.join(Product.cooperative)
        cursor = None
    else:
        columns, descending = sort_key(sort, day, found)
        down = descending != backwards
    if cursor is not None:
        values = [literal(v, c.type) for c, v in zip(columns, cursor.key, strict=True)]
        row, key = tuple_(*columns), tuple_(*values)
        # The row comparison is the rule; the bound on the first column alone is what lets
        # SQLite start its index range there (it does not for a row value on an expression).
        first, start = columns[0], values[0]
        stmt = (
            stmt.where(first <= start, row < key) if down else stmt.where(first >= start, row > key)
        )
    stmt = stmt.order_by(*(c.desc() if down else c.asc() for c in columns))
    if found is not None:
        return _relevance_rows(stmt, columns, down, limit, offset)
    stmt = card_select(stmt).limit(limit).offset(offset or None)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(JOINS_AS_WRITTEN)
    # Plain rows: run on the session's connection, past the ORM's handling of results.
    return [card_of(row) for row in db.session.connection().execute(stmt)]


def _relevance_rows(stmt: Select, columns: list, down: bool, limit: int, offset) -> list:
    """A page in the search's order: its keys first, then its products with their card data.

    `stmt` holds the filters, the hits and the order. Cut to the page before the card data is
    joined: joined first, the photos and names of every match were read and then sorted
    (27,000 rows for "banh": most of a second on PostgreSQL).
    """
    labels = [f"key{n}" for n in range(len(columns))]
    page = (
        stmt.with_only_columns(*(c.label(label) for c, label in zip(columns, labels, strict=True)))
        .limit(limit)
        .offset(offset or None)
        .subquery("page")
    )
    keys = [page.c[label] for label in labels]
    rows = (
        select(Product)
        .select_from(page)
        .join(Product, Product.id == keys[-1])
        .join(Product.cooperative)
        .order_by(*(key.desc() if down else key.asc() for key in keys))
    )
    # The ranking rides along for key_of: the cursor carries it.
    page_rows = card_select(rows, extra=keys[:3])
    return [card_of(row) for row in db.session.connection().execute(page_rows)]


#: A listing's joins are lookups by key from the rows the sort's index gives, in the order they
#: are written; PostgreSQL's search for a better order among eight tables took about 20 ms
#: of planning for a 1 ms query. For the rest of the request's transaction (a listing is the
#: last query of its page), so not for relevance, whose search hits are better joined first.
JOINS_AS_WRITTEN = text("SET LOCAL join_collapse_limit = 1")


def ocop_window(stmt: Select, day: date, cursor: Cursor | None, down: bool, n: int):
    """The first `n` rows of `stmt` in the OCOP order after `cursor`: (id, stars, published_at).

    The order's first key, the stars a product holds *on `day`*, cannot be indexed (it depends
    on the day), so the order is read as two index ranges, merged: the products with valid
    stars from (status, ocop_stars, published_at, id) (0010), read backwards, which is their
    order already; then the rest (no stars, or expired ones, all worth 0) from
    (status, published_at, id) (0008). Each range stops after `n` rows; a range wholly before
    the cursor is left out. One statement, whatever the page.
    """
    start = cursor.key if cursor is not None else None
    parts = []
    if start is None or start[0] > 0 or not down:
        # Valid stars. The bound on ocop_stars alone lets SQLite start its range there.
        part = stmt.with_only_columns(
            Product.id.label("id"),
            Product.ocop_stars.label("stars"),
            Product.published_at.label("published_at"),
        ).where(ocop_valid(day))
        columns = (Product.ocop_stars, Product.published_at, Product.id)
        if start is not None and start[0] > 0:
            stars = literal(start[0], Product.ocop_stars.type)
            at = literal(start[1], Product.published_at.type)
            row, key = tuple_(*columns), tuple_(stars, at, literal(start[2]))
            part = (
                part.where(Product.ocop_stars <= stars, row < key)
                if down
                else part.where(Product.ocop_stars >= stars, row > key)
            )
        order = (c.desc() if down else c.asc() for c in columns)
        parts.append(select(part.order_by(*order).limit(n).subquery()))
    if start is None or start[0] == 0 or down:
        # No stars, or expired ones: all worth 0, newest first.
        part = stmt.with_only_columns(
            Product.id.label("id"),
            literal_column("0", Integer).label("stars"),
            Product.published_at.label("published_at"),
        ).where(~ocop_valid(day))
        columns = (Product.published_at, Product.id)
        if start is not None and start[0] == 0:
            at = literal(start[1], Product.published_at.type)
            row, key = tuple_(*columns), tuple_(at, literal(start[2]))
            part = (
                part.where(Product.published_at <= at, row < key)
                if down
                else part.where(Product.published_at >= at, row > key)
            )
        order = (c.desc() if down else c.asc() for c in columns)
        parts.append(select(part.order_by(*order).limit(n).subquery()))
    return union_all(*parts).subquery("ocop_window")


def keyset_page(
    stmt: Select,
    sort: str,
    day: date,
    total: int,
    cursor: Cursor | None = None,
    number: int = 1,
    per_page: int | None = None,
    query=None,
) -> KeysetPage:
    """Run one page of `stmt` (filtered public products) after or before `cursor`.

    Without a cursor, page `number` is read with OFFSET: old `?page=N` addresses keep working;
    the links they show carry cursors.
    """
    per_page = per_page or current_app.config["PRODUCTS_PER_PAGE"]
    if cursor is not None and cursor.before:
        rows = _page_rows(stmt, sort, day, cursor, per_page + 1, query=query)
        if len(rows) <= per_page:
            # Nothing before these rows: this is the first page.
            return keyset_page(stmt, sort, day, total, per_page=per_page, query=query)
        items = rows[:per_page][::-1]
        number, more = max(cursor.number, 2), True
    elif cursor is not None:
        rows = _page_rows(stmt, sort, day, cursor, per_page + 1, query=query)
        items, more, number = rows[:per_page], len(rows) > per_page, max(cursor.number, 2)
    else:
        offset = (number - 1) * per_page
        rows = _page_rows(stmt, sort, day, None, per_page + 1, offset, query)
        items, more = rows[:per_page], len(rows) > per_page
    page = KeysetPage(items, total, number, per_page)
    if more and items:
        page.next_cursor = Cursor(sort, number + 1, key_of(items[-1], sort, day))
    if number > 2 and items:
        page.prev_cursor = Cursor(sort, number - 1, key_of(items[0], sort, day), before=True)
    return page


def product_page(slug: str) -> Select:
    """One public product with everything its page shows."""
    return (
        public_products()
        .where(Product.slug == slug)
        .options(
            contains_eager(Product.cooperative).joinedload(Cooperative.locality),
            contains_eager(Product.cooperative).joinedload(Cooperative.logo_image),
            joinedload(Product.unit),
            joinedload(Product.sector),
            joinedload(Product.category).joinedload(Category.ocop_group),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            # The live photos (ProductImage rows), never a pending revision's.
            selectinload(Product.images).joinedload(ProductImage.image),
        )
    )


def related_products(product: Product, limit: int = 4) -> Select:
    """Other public products of the same category, newest first."""
    stmt = public_products().where(
        Product.category_id == product.category_id, Product.id != product.id
    )
    return with_card_data(newest_first(stmt)).limit(limit)


def product_counts_by_cooperative(cooperative_ids) -> Select:
    """(cooperative id, number of public products) for the given cooperatives."""
    return (
        public_products()
        .with_only_columns(Product.cooperative_id, func.count(Product.id))
        .where(Product.cooperative_id.in_(list(cooperative_ids)))
        .group_by(Product.cooperative_id)
    )


def localities_with_products() -> Select:
    """Communes and wards where at least one public product is made."""
    having = public_products().with_only_columns(Cooperative.locality_id).distinct()
    return (
        select(Locality).where(Locality.id.in_(having)).order_by(Locality.short_name, Locality.id)
    )


# --------------------------------------------------------------------------- request arguments


#: The largest id an integer primary key holds (SQLite raises on bigger ones, PostgreSQL's is int4).
MAX_ROW_ID = 2**31 - 1


def is_row_id(value) -> bool:
    """Only ids a table can hold reach the database (a URL's <int:id> has no upper bound)."""
    return isinstance(value, int) and 0 < value <= MAX_ROW_ID


def is_slug(value: str | None) -> bool:
    """Only well-formed slugs reach the database (PostgreSQL rejects NUL bytes with a 500)."""
    return bool(value) and len(value) <= 160 and SLUG_RE.match(value) is not None


def by_slug(model, slug: str | None):
    """The row of `model` with this slug, or None for an empty, malformed or unknown slug."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(model).where(model.slug == slug))


def first_or_404(stmt: Select, slug: str):
    """Run a page's query for `slug`; a malformed slug or no row is a 404."""
    if not is_slug(slug):
        abort(404)
    row = db.session.scalar(stmt)
    if row is None:
        abort(404)
    return row


# --------------------------------------------------------------------------- pagination


def page_number() -> int:
    """The `page` query argument; anything but a positive whole number is a 404."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    # isdecimal() alone would let "٣" or "²" through to int() or make it raise.
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 6 or int(raw) < 1:
        abort(404)
    return int(raw)


def paginate(stmt: Select, per_page: int | None = None, total: int | None = None):
    """Run one page of `stmt`; a page past the last one is a 404 (page 1 may be empty).

    With `total` known (e.g. from facet counts) no COUNT query is run.
    """
    page = page_number()
    per_page = per_page or current_app.config["PRODUCTS_PER_PAGE"]
    pagination = db.paginate(
        stmt, page=page, per_page=per_page, error_out=False, count=total is None
    )
    if total is not None:
        pagination.total = total
    if page > 1 and page > (pagination.pages or 1):
        abort(404)
    return pagination


# --------------------------------------------------------------------------- dashboard and console


def categories_in_order() -> Select:
    return select(Category).order_by(Category.sort_order, Category.id)


def units_in_order() -> Select:
    return select(Unit).order_by(Unit.name_vi, Unit.code)


def certification_kinds_in_order() -> Select:
    return select(CertificationKind).order_by(CertificationKind.name_vi, CertificationKind.code)


def cooperative_products(cooperative_id: int, *, archived: bool = False) -> Select:
    """A cooperative's own products (archived ones, or all the others), last changed first."""
    stmt = select(Product).where(Product.cooperative_id == cooperative_id)
    if archived:
        stmt = stmt.where(Product.status == ProductStatus.ARCHIVED)
    else:
        stmt = stmt.where(Product.status != ProductStatus.ARCHIVED)
    return stmt.options(joinedload(Product.unit), joinedload(Product.category)).order_by(
        Product.updated_at.desc(), Product.id.desc()
    )


def cooperative_product_counts(cooperative_id: int) -> Select:
    """(archived?, number of products) of a cooperative: the counts on the list's tabs."""
    archived = Product.status == ProductStatus.ARCHIVED
    return (
        select(archived.label("archived"), func.count(Product.id))
        .where(Product.cooperative_id == cooperative_id)
        .group_by(archived)
    )


def own_product(cooperative_id: int, product_id: int) -> Select:
    """One product of this cooperative only: another cooperative's id finds nothing."""
    return (
        select(Product)
        .where(Product.id == product_id, Product.cooperative_id == cooperative_id)
        .options(
            joinedload(Product.unit),
            joinedload(Product.category),
            joinedload(Product.sector),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            selectinload(Product.links),
        )
    )


def product_for_staff(product_id: int) -> Select:
    """Any product, with its cooperative and everything the console's product page shows."""
    return (
        select(Product)
        .where(Product.id == product_id)
        .options(
            joinedload(Product.cooperative).joinedload(Cooperative.locality),
            joinedload(Product.unit),
            joinedload(Product.category),
            joinedload(Product.sector),
            selectinload(Product.certifications).joinedload(ProductCertification.kind),
            selectinload(Product.links),
        )
    )


def pending_revision(product_id: int) -> Select:
    return select(ProductRevision).where(
        ProductRevision.product_id == product_id,
        ProductRevision.status == RevisionStatus.PENDING,
    )


def latest_revisions(product_ids) -> Select:
    """The newest revision of each given product (pending or decided)."""
    ids = list(product_ids)
    newest = (
        select(func.max(ProductRevision.id))
        .where(ProductRevision.product_id.in_(ids))
        .group_by(ProductRevision.product_id)
    )
    return select(ProductRevision).where(ProductRevision.id.in_(newest))


def photo_ids(product_id: int) -> Select:
    """The stored image ids of a product's live photos, cover first."""
    return (
        select(ProductImage.image_id)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position)
    )


def photo_counts(product_ids) -> Select:
    """(product id, number of live photos) for the given products."""
    return (
        select(ProductImage.product_id, func.count(ProductImage.id))
        .where(ProductImage.product_id.in_(list(product_ids)))
        .group_by(ProductImage.product_id)
    )


def ocop_expiring(day: date, until: date) -> Select:
    """Published products whose OCOP certificate is still valid on `day` and expires by `until`,
    soonest first, with their cooperative."""
    return (
        select(Product)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Product.ocop_stars > 0,
            Product.ocop_expires_on >= day,
            Product.ocop_expires_on <= until,
        )
        .options(joinedload(Product.cooperative))
        .order_by(Product.ocop_expires_on, Product.id)
    )


def ocop_expired(day: date) -> Select:
    """Published products whose OCOP certificate expired before `day`, the latest first."""
    return (
        select(Product)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Product.ocop_stars > 0,
            Product.ocop_expires_on < day,
        )
        .options(joinedload(Product.cooperative))
        .order_by(Product.ocop_expires_on.desc(), Product.id)
    )


def ocop_reminders_sent(product_ids) -> Select:
    """(product id, audit `after`) of the OCOP reminders already sent for these products."""
    from shop.audit.models import AuditEntry

    return select(AuditEntry.target_id, AuditEntry.after).where(
        AuditEntry.target_type == Product.__tablename__,
        AuditEntry.target_id.in_(list(product_ids)),
        AuditEntry.action == "product.ocop_reminder_sent",
    )


def review_queue() -> Select:
    """(product, waiting since) of products sent for review, the longest waiting first.

    A product waits since its last "product.submitted" audit entry (an edit while it waits
    does not send it to the back); one imported as submitted has none and waits since its
    last change.
    """
    from shop.audit.models import AuditEntry

    submitted_at = (
        select(func.max(AuditEntry.created_at))
        .where(
            AuditEntry.target_type == Product.__tablename__,
            AuditEntry.target_id == Product.id,
            AuditEntry.action == "product.submitted",
        )
        .correlate(Product)
        .scalar_subquery()
    )
    waiting_since = func.coalesce(submitted_at, Product.updated_at)
    return (
        select(Product, waiting_since.label("waiting_since"))
        .where(Product.status == ProductStatus.SUBMITTED)
        .options(
            joinedload(Product.cooperative), joinedload(Product.category), joinedload(Product.unit)
        )
        .order_by(waiting_since, Product.id)
    )


def revision_queue() -> Select:
    """Pending revisions of products, the longest waiting first, with their product."""
    return (
        select(ProductRevision)
        .join(ProductRevision.product)
        .where(ProductRevision.status == RevisionStatus.PENDING)
        .options(
            contains_eager(ProductRevision.product).joinedload(Product.cooperative),
        )
        .order_by(ProductRevision.created_at, ProductRevision.id)
    )


def review_counts() -> dict[str, int]:
    """How many products and revisions wait for staff: {'products': n, 'revisions': n}."""
    products = db.session.scalar(
        select(func.count(Product.id)).where(Product.status == ProductStatus.SUBMITTED)
    )
    revisions = db.session.scalar(
        select(func.count(ProductRevision.id)).where(
            ProductRevision.status == RevisionStatus.PENDING
        )
    )
    return {"products": products or 0, "revisions": revisions or 0}


def product_history(product_id: int) -> Select:
    """(entry, actor email) of everything recorded about a product, newest first."""
    from shop.accounts.models import User
    from shop.audit.models import AuditEntry

    return (
        select(AuditEntry, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.target_type == Product.__tablename__)
        .where(AuditEntry.target_id == product_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )


def display_names() -> dict:
    """The vocabularies a product's values refer to, by key: what labels them on a page."""
    return {
        "category": {c.id: c for c in db.session.scalars(categories_in_order())},
        "unit": {u.code: u for u in db.session.scalars(units_in_order())},
        "certification": {k.code: k for k in db.session.scalars(certification_kinds_in_order())},
    }


def same_value(old, new) -> bool:
    """Whether two editable values mean the same ('' and None and [] alike; 1 and 1.000 alike)."""
    if old in (None, "", []) and new in (None, "", []):
        return True
    numbers = (Decimal, int)
    if isinstance(old, numbers) and isinstance(new, numbers) and bool not in (type(old), type(new)):
        return Decimal(old) == Decimal(new)
    return old == new


def revision_changes(product: Product, revision: ProductRevision) -> dict:
    """What a pending revision would change on the live product.

    Returns {'fields': [(field, live value, proposed value), …] in form order, 'photos': None
    when the photos stay as they are, else {'added': ids, 'removed': ids, 'reordered': bool,
    'cover_changed': bool, 'described': ids whose alt text changes, 'count': n}}.
    """
    from shop.catalog.services import EDITABLE_FIELDS, current_values, from_json

    live = current_values(product)
    proposed = from_json(revision.data or {})
    fields = [
        (key, live.get(key), proposed[key])
        for key in EDITABLE_FIELDS
        if key in proposed and not same_value(live.get(key), proposed[key])
    ]
    photos = None
    if revision.images is not None:
        rows = db.session.execute(
            select(ProductImage.image_id, ProductImage.alt_vi, ProductImage.alt_en)
            .where(ProductImage.product_id == product.id)
            .order_by(ProductImage.position)
        ).all()
        old = [row.image_id for row in rows]
        new = [item["image_id"] for item in revision.images]
        old_alt = {row.image_id: (row.alt_vi or "", row.alt_en or "") for row in rows}
        described = [
            item["image_id"]
            for item in revision.images
            if item["image_id"] in old_alt
            and old_alt[item["image_id"]] != (item.get("alt_vi") or "", item.get("alt_en") or "")
        ]
        kept_old = [i for i in old if i in new]
        kept_new = [i for i in new if i in old]
        if old != new or described:
            photos = {
                "added": [i for i in new if i not in old],
                "removed": [i for i in old if i not in new],
                "reordered": kept_old != kept_new,
                "cover_changed": old[:1] != new[:1],
                "described": described,
                "count": len(new),
            }
    return {"fields": fields, "photos": photos}
