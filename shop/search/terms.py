"""Words of documents and queries: folded the same way for every backend, and highlighting.

A document and a query go through the same `words()` then `fold()`, so "Bánh phu thê" (NFC or
NFD), "BANH PHU THE" and "bánh phu thê" all become the terms ("banh", "phu", "the"). User text
never reaches FTS5's MATCH or PostgreSQL's to_tsquery as it is: only these alphanumeric terms
do, each quoted, so operators (`"`, `*`, `OR`, `NEAR(`, `-`, `:`, `^`) are just separators.
"""

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from shop.text.folding import fold, nfc

#: Characters of the query that are read; the rest of a pasted essay is ignored.
MAX_INPUT = 200
#: Words of the query that are used (all are required, so more would only find less).
MAX_TERMS = 8
#: Longer "words" are cut: no product name has one, and FTS5 tokens stay small.
MAX_TERM_LENGTH = 40
#: FTS5 and tsquery operator words: dropped, so "gạo OR nếp" means "gạo nếp".
OPERATORS = frozenset({"and", "or", "not", "near"})
#: A word is a run of letters and digits (as FTS5's unicode61 and PostgreSQL's parser see it).
WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    """The words of `text` in lower case, diacritics kept (NFC)."""
    return WORD.findall(nfc(text or "").lower())


def terms(text: str | None) -> list[str]:
    """The folded words of `text`: what the index stores and what a query looks for."""
    return [fold(word) for word in words(text)]


def document(*texts: str | None) -> str:
    """Folded words of the texts joined by single spaces: one column of the index."""
    return " ".join(term for text in texts for term in terms(text))


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query made safe: folded terms (the last one is a prefix) and the words typed."""

    text: str
    terms: tuple[str, ...]
    #: The same words with their diacritics, lower case: an exact match ranks first.
    typed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def phrase(self) -> str:
        return " ".join(self.terms)

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every term quoted, all required, the last one a prefix."""
        quoted = ['"' + term.replace('"', '""') + '"' for term in self.terms]
        quoted[-1] += "*"
        return " ".join(quoted)

    def tsquery(self) -> str:
        """A to_tsquery('simple', …) expression: quoted lexemes ANDed, the last one a prefix."""
        quoted = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in self.terms]
        quoted[-1] += ":*"
        return " & ".join(quoted)

    def matches(self, term: str) -> bool:
        """Whether a folded word of a document is one the query found."""
        return term in self.terms[:-1] or term.startswith(self.terms[-1])


def parse_query(raw: str | None) -> ParsedQuery:
    """Turn anything a visitor types (or pastes) into a safe query; may be empty."""
    text = " ".join(nfc(str(raw or ""))[:MAX_INPUT].split())
    typed, folded = [], []
    for word in words(text):
        term = fold(word)[:MAX_TERM_LENGTH]
        if not term or term in OPERATORS:
            continue
        typed.append(word[:MAX_TERM_LENGTH])
        folded.append(term)
        if len(folded) == MAX_TERMS:
            break
    return ParsedQuery(text=text, terms=tuple(folded), typed=tuple(typed))


def highlight(text: str | None, query: ParsedQuery) -> Markup:
    """`text` escaped, with the words the query found wrapped in <mark>.

    Matching is done on folded words while the text shown keeps its diacritics, so "banh"
    marks "Bánh". Everything else is escaped: a name containing "<b>" stays literal.
    """
    text = nfc(text or "")
    if not query:
        return escape(text)
    out, last = [], 0
    for match in WORD.finditer(text):
        if query.matches(fold(match.group())):
            out.append(escape(text[last : match.start()]))
            out.append(Markup("<mark>%s</mark>") % match.group())
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
