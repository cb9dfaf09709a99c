"""search speed: marked words in the search index, prefix indexes, tiers read from the index

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 07:00:00

The search page now reads its ranking tiers (exact diacritics, phrase in a name, phrase in
the context, every word in the names, the rest) straight from the index, newest first, instead
of ranking every match (shop.search.queries). For that an entry holds, besides the folded
words, words marked with where they stand (shop.search.terms: NAME, CONTEXT, EXACT).

- SQLite: product_search is made again as FTS5 (body, marks), with a tokenizer that keeps
  diacritics (the EXACT words need theirs; the others are folded already) and the marks
  inside words, and prefix indexes of 1-4 characters, a mark counting as one (a short last
  word would otherwise merge the lists of every word it begins).
- PostgreSQL: same table; `document` now holds the folded and marked words and their first
  1-4 letters (marked words: 1-3) as lexemes of their own (shop.search.terms.PREFIX), no
  positions or weights. Because a tier is read
  either through the GIN index or newest first along the primary key, whichever the planner
  finds cheaper:
  - the GIN index stops using a pending list (fastupdate): every query would scan it, and
    products change rarely;
  - ANALYZE keeps the frequencies of 10,000 lexemes (statistics 1000), not 1,000: a word
    outside that list is taken as rare, so a rare tier is read through the index;
  - an entry (about 2 kB) stays in the table row, uncompressed (toast_tuple_target): reading
    entries newest first costs a lookup per row, not a decompression or a TOAST fetch.

Both are rebuilt here. A downgrade puts back the 0007 table shape, empty on SQLite: run
`flask search reindex` with the code of that revision.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FTS5_0011 = (
    "CREATE VIRTUAL TABLE product_search USING fts5(body, marks, "
    "tokenize = \"unicode61 remove_diacritics 0 tokenchars '=@^'\", prefix = '1 2 3 4')"
)
FTS5_0007 = (
    "CREATE VIRTUAL TABLE product_search USING fts5("
    "name, name_en, context, description, names UNINDEXED, tokenize = 'unicode61')"
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute("DROP TABLE product_search")
        op.execute(FTS5_0011)
    else:
        op.execute("ALTER INDEX ix_product_search_document SET (fastupdate = off)")
        op.execute("ALTER TABLE product_search ALTER COLUMN document SET STATISTICS 1000")
        op.execute("ALTER TABLE product_search SET (toast_tuple_target = 4080)")
    from shop.search.index import rebuild

    rebuild(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute("DROP TABLE product_search")
        op.execute(FTS5_0007)
    else:
        op.execute("ALTER INDEX ix_product_search_document RESET (fastupdate)")
        op.execute("ALTER TABLE product_search ALTER COLUMN document SET STATISTICS -1")
        op.execute("ALTER TABLE product_search RESET (toast_tuple_target)")
