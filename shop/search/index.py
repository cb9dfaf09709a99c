"""Keep the search index in step with products, in the same transaction as the change.

Two session events cover every write path without each service knowing about search:
- after_flush: inserted, changed or deleted Product rows, and Cooperative, Category and
  Locality rows whose indexed fields (or status) changed, re-index the products concerned;
- do_orm_execute: bulk UPDATE/DELETE statements on those tables (the services' conditional
  status changes such as approve, archive, suspend, lift) are followed by the same.

Re-indexing a product deletes its entry and writes it again if the product is public
(shop.catalog.queries.public_products), so unpublished, archived products and those of a
suspended cooperative drop out at once. `rebuild()` redoes everything (`flask search reindex`).
"""

import functools
import threading
import weakref

from sqlalchemy import bindparam, delete, event, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shop.catalog.models import Category, Product
from shop.cooperatives.models import Cooperative, Locality
from shop.search.models import TABLE, fts5_table, pg_table
from shop.search.terms import CONTEXT, EXACT, NAME, document, prefixes, tsquery_lexeme, words

#: Fields whose change alters a product's entry (or whether it has one).
WATCHED = {
    Cooperative: ("status", "name", "name_en", "locality_id"),
    Category: ("name_vi", "name_en"),
    Locality: ("name_vi", "name_en", "short_name"),
}
BATCH = 500
#: PostgreSQL's GIN index of the entries (migrations 0007 and 0011).
PG_INDEX = "ix_product_search_document"
#: The text columns of the FTS5 table.
FTS5_TEXT = ("body", "marks")

_known_indexes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
#: Bumped whenever the index changes in this process (the spelling vocabulary's cache reads it).
generation = [0]


def has_index(connection: Connection) -> bool:
    """Whether this database has the index table in this shape (remembered once seen).

    Migration 0007 builds the table in its first shape and calls rebuild() with today's code;
    on SQLite that shape has no `marks` column, so there is nothing to write until 0011.
    """
    engine = connection.engine
    if _known_indexes.get(engine):
        return True
    found = inspect(connection).has_table(TABLE)
    if found and connection.dialect.name == "sqlite":
        columns = {row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({TABLE})")}
        found = "marks" in columns
    if found:
        with _lock:
            _known_indexes[engine] = True
    return found


def _rows(connection: Connection, product_ids=None):
    """(id, names and texts) of the public products among `product_ids` (all when None)."""
    from shop.catalog.queries import public_products

    stmt = (
        public_products()
        .with_only_columns(
            Product.id,
            Product.name_vi,
            Product.name_en,
            Product.description_vi,
            Product.description_en,
            Cooperative.name.label("coop_name"),
            Cooperative.name_en.label("coop_name_en"),
            Category.name_vi.label("category_vi"),
            Category.name_en.label("category_en"),
            Locality.name_vi.label("locality_vi"),
            Locality.short_name.label("locality_short"),
        )
        .join(Category, Category.id == Product.category_id)
        .join(Locality, Locality.id == Cooperative.locality_id)
        .order_by(Product.id)
    )
    if product_ids is not None:
        stmt = stmt.where(Product.id.in_(list(product_ids)))
    return connection.execute(stmt)


@functools.lru_cache(maxsize=4096)
def _context(*names: str | None) -> str:
    """The folded context: shared by every product of a cooperative in a category."""
    return document(*names)


@functools.lru_cache(maxsize=1 << 16)
def _expanded(word: str) -> tuple[str, ...]:
    """A (marked) word and its PREFIX lexemes, quoted for tsvector's text form (PostgreSQL)."""
    return tuple(tsquery_lexeme(lexeme) for lexeme in (word, *prefixes(word)))


@functools.lru_cache(maxsize=4096)
def _context_lexemes(context: str) -> frozenset:
    """The lexemes a folded context gives, plain and CONTEXT-marked (PostgreSQL)."""
    lexemes = set()
    for word in context.split():
        lexemes.update(_expanded(word))
        lexemes.update(_expanded(CONTEXT + word))
    return frozenset(lexemes)


def _entry(row, dialect: str) -> dict:
    """One product's entry: its folded texts and marked words (see shop.search.terms)."""
    name, name_en = document(row.name_vi), document(row.name_en)
    context = _context(
        row.category_vi,
        row.category_en,
        row.coop_name,
        row.coop_name_en,
        row.locality_vi,
        row.locality_short,
    )
    description = document(row.description_vi, row.description_en)
    exact = [EXACT + word for name_ in (row.name_vi, row.name_en) for word in words(name_)]
    if dialect == "sqlite":
        # A lone NAME mark between the two names: a phrase never runs from one to the other.
        named = [NAME + word for word in name.split()]
        if name_en:
            named += [NAME, *(NAME + word for word in name_en.split())]
        marks = [*named, *(CONTEXT + word for word in context.split()), *exact]
        return {
            "id": row.id,
            "body": " ".join(text for text in (name, name_en, context, description) if text),
            "marks": " ".join(marks),
        }
    lexemes = set(_context_lexemes(context))
    named = set(name.split())
    named.update(name_en.split())
    for word in named.union(description.split()):
        lexemes.update(_expanded(word))
    for word in named:
        lexemes.update(_expanded(NAME + word))
    for word in exact:
        lexemes.update(_expanded(word))
    return {
        "id": row.id,
        # tsvector's text form: quoted lexemes, taken as they are (no parser, no dictionary).
        "lexemes": " ".join(lexemes),
        "name": name,
        "name_en": name_en,
        "context": context,
        "names": " | ".join(" ".join(words(n)) for n in (row.name_vi, row.name_en) if n),
    }


def _write(connection: Connection, entries: list[dict]) -> None:
    """Insert new entries."""
    if not entries:
        return
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.execute(insert(fts5_table), [_fts5_row(e) for e in entries])
        return
    connection.execute(
        text(
            "INSERT INTO product_search (product_id, document, name, name_en, context, names) "
            "VALUES (:id, CAST(:lexemes AS tsvector), "
            ":name, :name_en, :context, :names)"
        ),
        entries,
    )


def _fts5_row(entry: dict) -> dict:
    return {"rowid": entry["id"], **{key: entry[key] for key in FTS5_TEXT}}


def _blank(product_id: int) -> dict:
    return {"id": product_id, **{key: "" for key in FTS5_TEXT}}


def _sync_fts5(connection: Connection, ids: list[int], entries: list[dict]) -> None:
    """Update, insert or blank the FTS5 rows of `ids`: rows are never deleted.

    SQLite 3.40's FTS5 corrupts its pending data when a row is deleted, a prefix query runs
    and the same rowid is inserted again in one transaction ("database disk image is
    malformed"); updating rows in place does not. So a product that stops being public
    keeps an empty row, which no query matches.
    """
    table = fts5_table
    existing = set(connection.scalars(select(table.c.rowid).where(table.c.rowid.in_(ids))))
    fresh = {entry["id"]: entry for entry in entries}
    updates = [fresh.get(i) or _blank(i) for i in ids if i in existing]
    if updates:
        connection.execute(
            update(table)
            .where(table.c.rowid == bindparam("_id"))
            .values({key: bindparam(key) for key in FTS5_TEXT}),
            [{"_id": e["id"], **{key: e[key] for key in FTS5_TEXT}} for e in updates],
        )
    _write(connection, [e for i, e in fresh.items() if i not in existing])


def reindex(connection: Connection, product_ids) -> int:
    """Rewrite the entries of these products (dropping those no longer public)."""
    ids = sorted({int(i) for i in product_ids if i is not None})
    if not ids or not has_index(connection):
        return 0
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        entries = [_entry(row, connection.dialect.name) for row in _rows(connection, chunk)]
        if connection.dialect.name == "sqlite":
            _sync_fts5(connection, chunk, entries)
        else:
            connection.execute(delete(pg_table).where(pg_table.c.product_id.in_(chunk)))
            _write(connection, entries)
        written += len(entries)
    generation[0] += 1
    return written


def rebuild(connection: Connection) -> int:
    """Index every public product and drop every other entry; returns how many were indexed."""
    if connection.dialect.name == "sqlite":
        ids = set(connection.scalars(select(Product.id)))
        ids.update(connection.scalars(select(fts5_table.c.rowid)))
        written = reindex(connection, ids)
        if has_index(connection):
            # One b-tree per word instead of one per batch written: every query reads fewer.
            connection.exec_driver_sql(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')")
        return written
    # The GIN index is built once at the end: kept up to date row by row (it has no pending
    # list, see migration 0011) it would make a rebuild ten times as long.
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_INDEX}")
    # TRUNCATE, not DELETE: the table does not keep a dead copy of every entry.
    connection.exec_driver_sql(f"TRUNCATE {TABLE}")
    written, batch = 0, []
    for row in _rows(connection):
        batch.append(_entry(row, "postgresql"))
        if len(batch) == BATCH:
            _write(connection, batch)
            written, batch = written + len(batch), []
    _write(connection, batch)
    connection.exec_driver_sql(
        f"CREATE INDEX {PG_INDEX} ON {TABLE} USING gin (document) WITH (fastupdate = off)"
    )
    # The planner picks between the GIN index and reading the table newest first by the
    # words' frequencies: let it know them now rather than at the next autovacuum.
    connection.exec_driver_sql(f"ANALYZE {TABLE}")
    generation[0] += 1
    return written + len(batch)


def products_of(connection: Connection, column, ids) -> list[int]:
    """Ids of the products whose `column` (a Product or Cooperative column) is among `ids`."""
    if not ids:
        return []
    stmt = select(Product.id).join(Cooperative, Cooperative.id == Product.cooperative_id)
    return list(connection.scalars(stmt.where(column.in_(list(ids)))))


def _affected(connection: Connection, products=(), cooperatives=(), categories=(), localities=()):
    ids = set(products)
    ids.update(products_of(connection, Product.cooperative_id, cooperatives))
    ids.update(products_of(connection, Product.category_id, categories))
    ids.update(products_of(connection, Cooperative.locality_id, localities))
    return ids


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def after_flush(session: Session, flush_context) -> None:
    """Re-index what this flush changed."""
    found = {Product: set(), Cooperative: set(), Category: set(), Locality: set()}
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind not in found:
            continue
        whole = kind is Product or obj in session.new or obj in session.deleted
        if whole or _changed(obj, WATCHED[kind]):
            found[kind].add(obj.id)
    if not any(found.values()):
        return
    connection = session.connection()
    ids = _affected(
        connection, found[Product], found[Cooperative], found[Category], found[Locality]
    )
    reindex(connection, ids)


#: Tables whose bulk UPDATE/DELETE statements are followed, by name.
_BULK = {model.__tablename__: model for model in (Product, Cooperative, Category, Locality)}
#: The argument of _affected() that takes ids of each model.
_ARG = {Cooperative: "cooperatives", Category: "categories", Locality: "localities"}


def on_execute(state):
    """Follow bulk UPDATE/DELETE statements on products and what their entries show."""
    if not (state.is_update or state.is_delete):
        return None
    model = _BULK.get(getattr(getattr(state.statement, "table", None), "name", None))
    if model is None:
        return None
    connection = state.session.connection()
    if not has_index(connection):
        return None
    where = state.statement.whereclause
    key = model.__table__.primary_key.columns.values()[0]
    stmt = select(key) if where is None else select(key).where(where)
    targets = list(connection.scalars(stmt))
    result = state.invoke_statement()
    if model is Product:
        ids = set(targets)
    else:
        ids = _affected(connection, **{_ARG[model]: targets})
    reindex(connection, ids)
    return result


def listen() -> None:
    """Register the session events once per process (create_app may run many times)."""
    if not event.contains(Session, "after_flush", after_flush):
        event.listen(Session, "after_flush", after_flush)
        event.listen(Session, "do_orm_execute", on_execute)
