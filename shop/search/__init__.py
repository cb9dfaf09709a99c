"""Product search: one folding function, FTS5 on SQLite, tsvector + GIN on PostgreSQL.

`terms` turns text into folded words (the same for documents and queries), `index` keeps the
index in step with products as they change, `queries` is the read API the pages build on.
"""
