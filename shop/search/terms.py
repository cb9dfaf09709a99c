"""Words of documents and queries: folded the same way for every backend, and highlighting.

A document and a query go through the same `words()` then `fold()`, so "Bánh phu thê" (NFC or
NFD), "BANH PHU THE" and "bánh phu thê" all become the terms ("banh", "phu", "the"). User text
never reaches FTS5's MATCH or PostgreSQL's tsquery as it is: only these alphanumeric terms
do, each quoted, so operators (`"`, `*`, `OR`, `NEAR(`, `-`, `:`, `^`) are just separators.

Besides the plain folded words, an entry holds *marked* words, each mark a vocabulary of its
own, so that "where does the query match" is a question the index answers, not a scan:
NAME + folded word of the product's names, CONTEXT + folded word of its category, cooperative
and commune names, EXACT + word of its names as written (lower case, diacritics kept).
On PostgreSQL each word also gives its first 1 to 3 or 4 letters + PREFIX as lexemes: a GIN
prefix search (`:*`) over the many words starting with one or two letters costs tens of
milliseconds, one lexeme's posting list almost nothing (FTS5's `prefix='1 2 3 4'` does the same).
"""

import functools
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
#: Marks of the index's vocabularies (never part of a word, see WORD).
NAME, CONTEXT, EXACT = "=", "@", "^"
#: PostgreSQL: a word's first letters + PREFIX is a lexeme, for these lengths (by mark).
#: A longer last word is sought with `:*`, which few words share. Plain words go one letter
#: further: the count and the last tier read them, and four-letter syllables are common.
PREFIX = "~"
PREFIX_LENGTHS = {"": (1, 2, 3, 4), NAME: (1, 2, 3), CONTEXT: (1, 2, 3), EXACT: (1, 2, 3)}


def words(text: str | None) -> list[str]:
    """The words of `text` in lower case, diacritics kept (NFC)."""
    return WORD.findall(nfc(text or "").lower())


@functools.lru_cache(maxsize=1 << 16)
def fold_word(word: str) -> str:
    """fold() of one word, remembered: a catalogue has a few thousand distinct words."""
    return fold(word)


def terms(text: str | None) -> list[str]:
    """The folded words of `text`: what the index stores and what a query looks for."""
    return [fold_word(word) for word in words(text)]


def document(*texts: str | None) -> str:
    """Folded words of the texts joined by single spaces: one column of the index."""
    return " ".join(term for text in texts for term in terms(text))


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query made safe: folded terms (the last one is a prefix) and the words typed."""

    text: str
    terms: tuple[str, ...]
    #: The same words as typed, lower case: those with diacritics rank exact matches first.
    typed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def phrase(self) -> str:
        return " ".join(self.terms)

    @property
    def accented(self) -> bool:
        """Whether some word was typed with diacritics (or đ): then exact matches rank first."""
        return self.typed != self.terms

    def _words(self, mark: str) -> list[str]:
        """The words to look for in one vocabulary: the typed ones for EXACT, else the terms."""
        return [mark + word for word in (self.typed if mark == EXACT else self.terms)]

    def fts5(self, mark: str = "", phrase: bool = False) -> str:
        """An FTS5 MATCH expression: every word quoted, all required, the last one a prefix.

        With `phrase`, the words must follow each other (one quoted string), the last one
        still a prefix; with `mark`, the words are looked for in that vocabulary.
        """
        words = [word.replace('"', '""') for word in self._words(mark)]
        if phrase:
            return '"' + " ".join(words) + '"*'
        return " ".join(f'"{word}"' for word in words) + "*"

    def tsquery(self, mark: str = "") -> str:
        """A tsquery (to cast, not to_tsquery: lexemes are taken as they are), words ANDed.

        The last word is a prefix: its PREFIX lexeme when it is short, else `:*`.
        """
        *words, last = self._words(mark)
        quoted = [tsquery_lexeme(word) for word in words]
        if len(last) - len(mark) in PREFIX_LENGTHS[mark]:
            quoted.append(tsquery_lexeme(last + PREFIX))
        else:
            quoted.append(tsquery_lexeme(last) + ":*")
        return " & ".join(quoted)

    def matches(self, term: str) -> bool:
        """Whether a folded word of a document is one the query found."""
        return term in self.terms[:-1] or term.startswith(self.terms[-1])


def tsquery_lexeme(lexeme: str) -> str:
    """A lexeme quoted for the text form of a tsquery or a tsvector."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@functools.lru_cache(maxsize=1 << 16)
def prefixes(word: str) -> tuple[str, ...]:
    """The PREFIX lexemes of a (marked) word: its first letters (PREFIX_LENGTHS), marked."""
    mark = word[0] if word[:1] in (NAME, CONTEXT, EXACT) else ""
    letters = word[len(mark) :]
    return tuple(mark + letters[:n] + PREFIX for n in PREFIX_LENGTHS[mark] if len(letters) >= n)


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
        if query.matches(fold_word(match.group())):
            out.append(escape(text[last : match.start()]))
            out.append(Markup("<mark>%s</mark>") % match.group())
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
