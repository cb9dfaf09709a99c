"""The search index tables, one shape per backend (made by migration 0007, not by create_all).

They live in their own MetaData, outside the models' Base.metadata: an FTS5 virtual table is
not something Alembic's autogenerate can compare (migrations/env.py skips `product_search*`).

Both hold, for each public product, folded text (shop.search.terms.document):
`name` (Vietnamese name), `name_en`, `context` (category, cooperative and commune names) and
`names` (the display names in lower case, diacritics kept: exact matches rank first).
SQLite: an FTS5 table whose rowid is the product id, plus `description`.
PostgreSQL: a table keyed by product_id whose `document` tsvector (weights A name, B English
name, C context, D descriptions) has a GIN index.
"""

from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import TSVECTOR

TABLE = "product_search"

fts5_table = Table(
    TABLE,
    MetaData(),
    Column("rowid", Integer, primary_key=True),
    Column("name", Text),
    Column("name_en", Text),
    Column("context", Text),
    Column("description", Text),
    Column("names", Text),
)

#: bm25() weights of the FTS5 columns, in order (names is UNINDEXED).
FTS5_WEIGHTS = (10.0, 6.0, 3.0, 1.0, 0.0)

pg_table = Table(
    TABLE,
    MetaData(),
    Column("product_id", Integer, primary_key=True),
    Column("document", TSVECTOR),
    Column("name", Text),
    Column("name_en", Text),
    Column("context", Text),
    Column("names", Text),
)
