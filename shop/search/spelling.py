"""When a query finds nothing: spelling-tolerant alternatives and the closest sectors/categories.

The vocabulary is the folded words of every indexed product's names and context plus the
taxonomy's names, with how often each occurs. It is built in Python from the index table and
kept per process for VOCABULARY_TTL seconds (or until this process changes the index); at
100,000 products that is a few thousand distinct words. A misspelt term is compared only with
words sharing enough character bigrams with it (an edit breaks at most three), then by
optimal-string-alignment distance (a swap of two letters counts as one edit), and an
alternative is offered only if it finds products.
"""

import threading
import time
from collections import Counter, defaultdict
from itertools import product as combinations

from sqlalchemy import exists, select

from shop.catalog.models import Product
from shop.catalog.queries import public_products
from shop.extensions import db
from shop.search import index
from shop.search.queries import apply_search, vocabulary_rows
from shop.search.terms import MAX_TERM_LENGTH, ParsedQuery, terms

VOCABULARY_TTL = 300
ALTERNATIVES = 3
CLOSEST = 4
#: A misspelling's second candidate must be at least this fraction as common as the best.
RARE_RATIO = 10

_lock = threading.Lock()
_cache: dict = {}


def bigrams(word: str) -> list[str]:
    padded = f"^{word}$"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of a and b, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(term: str) -> int:
    return 1 if len(term) <= 4 else 2


class Vocabulary:
    def __init__(self, counts: Counter):
        self.counts = counts
        self.by_bigram: dict[str, list[str]] = defaultdict(list)
        for word in counts:
            for gram in set(bigrams(word)):
                self.by_bigram[gram].append(word)

    def knows(self, term: str, prefix: bool = False) -> bool:
        if term in self.counts:
            return True
        return prefix and any(word.startswith(term) for word in self.counts)

    def closest(self, term: str, limit: int = 3) -> list[str]:
        """Known words within a few edits of `term`, the nearest and most common first."""
        edits = allowed_edits(term)
        grams = set(bigrams(term))
        shared = Counter()
        for gram in grams:
            shared.update(self.by_bigram.get(gram, ()))
        # An edit changes at most two bigrams, a swap of two letters three.
        needed = len(grams) - 3 * edits
        scored = []
        for word, common in shared.items():
            if common < needed:
                continue
            d = distance(term, word, edits)
            if d <= edits:
                scored.append((d, abs(len(word) - len(term)), -self.counts[word], word))
        scored.sort()
        if not scored:
            return []
        # A rare word is offered beside a common one only if it is as near.
        best = scored[0]
        return [s[-1] for s in scored if s[:2] == best[:2] or -s[2] * RARE_RATIO >= -best[2]][
            :limit
        ]


def _build() -> Vocabulary:
    from shop.search.queries import categories, sectors

    counts = Counter()
    for row in db.session.execute(vocabulary_rows()):
        for text in row:
            counts.update((text or "").split())
    for item in (*db.session.scalars(categories()), *db.session.scalars(sectors())):
        counts.update(terms(item.name_vi) + terms(item.name_en))
    return Vocabulary(counts)


def vocabulary() -> Vocabulary:
    """This database's vocabulary, from the cache while it is fresh."""
    key = str(db.session.get_bind().engine.url)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached and cached[0] == index.generation[0] and now - cached[1] < VOCABULARY_TTL:
        return cached[2]
    built = _build()
    with _lock:
        _cache[key] = (index.generation[0], now, built)
    return built


def finds_something(query: ParsedQuery) -> bool:
    stmt, _ = apply_search(public_products(), query)
    return bool(db.session.scalar(select(exists(stmt.with_only_columns(Product.id)))))


def alternatives(query: ParsedQuery) -> list[ParsedQuery]:
    """Queries one or two edits per word away from `query` that find products."""
    if not query:
        return []
    words = vocabulary()
    options = []
    for position, term in enumerate(query.terms):
        last = position == len(query.terms) - 1
        if len(term) < 2 or len(term) >= MAX_TERM_LENGTH or words.knows(term, prefix=last):
            options.append([term])
        else:
            options.append(words.closest(term) or [term])
    found = []
    for choice in list(combinations(*options))[: ALTERNATIVES * 3]:
        if choice == query.terms:
            continue
        alternative = ParsedQuery(text=" ".join(choice), terms=choice, typed=choice)
        if finds_something(alternative):
            found.append(alternative)
            if len(found) == ALTERNATIVES:
                break
    return found


def dice(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    return 2 * common / (len(a) + len(b))


def similarity(query: ParsedQuery, name_terms: list[str]) -> float:
    """How close a name is to the query: whole-phrase bigrams, or words nearly matching."""
    if not name_terms:
        return 0.0
    phrase = dice(bigrams(query.phrase), bigrams(" ".join(name_terms)))
    near = sum(
        any(
            word.startswith(term) or distance(term, word, allowed_edits(term)) <= 1
            for word in name_terms
        )
        for term in query.terms
    ) / len(query.terms)
    return max(phrase, near)


def closest(query: ParsedQuery, items, limit: int = CLOSEST, threshold: float = 0.3) -> list:
    """The taxonomy items (categories, sectors) whose names are closest to the query."""
    if not query:
        return []
    scored = []
    for position, item in enumerate(items):
        score = max(similarity(query, terms(item.name_vi)), similarity(query, terms(item.name_en)))
        if score >= threshold:
            scored.append((-score, position, item))
    return [item for _, _, item in sorted(scored, key=lambda s: s[:2])[:limit]]


def covers(query: ParsedQuery, name: str | None) -> bool:
    """Whether a name holds every term of the query (the last one as a prefix)."""
    name_terms = terms(name)
    if not query or not name_terms:
        return False
    return all(term in name_terms for term in query.terms[:-1]) and any(
        word.startswith(query.terms[-1]) for word in name_terms
    )
