"""The search index tables, one shape per backend (made by migrations 0007 and 0011).

They live in their own MetaData, outside the models' Base.metadata: an FTS5 virtual table is
not something Alembic's autogenerate can compare (migrations/env.py skips `product_search*`).

Each public product has one entry (shop.search.index), made of the folded words of its names,
context (category, cooperative and commune names) and descriptions, and of *marked* words that
say where a word stands (shop.search.terms: NAME, CONTEXT, EXACT).
SQLite: an FTS5 table whose rowid is the product id: `body` holds the folded words, `marks` the
marked ones; prefix indexes of 1-4 characters (a mark counts as one) answer a short last word
without merging the lists of every word it begins.
PostgreSQL: a table keyed by product_id whose `document` tsvector holds both, plus the short
prefixes as lexemes (no positions: no query needs them), with a GIN index; `name`, `name_en` and
`context` keep the folded texts, for the phrase tiers, and `names` the names as written.
"""

from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import TSVECTOR

TABLE = "product_search"

fts5_table = Table(
    TABLE,
    MetaData(),
    Column("rowid", Integer, primary_key=True),
    Column("body", Text),
    Column("marks", Text),
)

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
