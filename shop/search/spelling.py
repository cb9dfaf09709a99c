"""When a query finds nothing: spelling-tolerant alternatives and the closest sectors/categories.

The vocabulary is the folded words of every indexed product's names and context plus the
taxonomy's names, with how often each occurs. It is built in Python from the index table and
kept per process for VOCABULARY_TTL seconds (or until this process changes the index); at
100,000 products that is about ten thousand distinct words. A misspelt term is compared only
with the words it shares a deletion with (each word is indexed under every string one or two
deleted letters make of it; two words within two edits always share one), then by
optimal-string-alignment distance (a swap of two letters counts as one edit), and an
alternative is offered only if it finds products (one statement for all of them).
"""

import bisect
import threading
import time
from collections import Counter, defaultdict
from itertools import product as combinations

from shop.extensions import db
from shop.search import index
from shop.search.queries import any_matches, vocabulary_rows, vocabulary_words
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


#: The most edits allowed_edits() ever allows.
MAX_EDITS = 2


def deletions(word: str, depth: int) -> set[str]:
    """`word` and every string made by deleting up to `depth` of its letters."""
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def within_one_edit(a: str, b: str) -> bool:
    """Whether a and b are at most one edit apart (a swap of neighbours counts as one)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one letter replaced
        swapped = a[start : start + 2] == b[start : start + 2][::-1]
        return swapped and a[start + 2 :] == b[start + 2 :]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[start:] == longer[start + 1 :]


class Vocabulary:
    def __init__(self, counts: Counter):
        self.counts = counts
        self.sorted = sorted(counts)
        self.by_deletion: dict[str, list[str]] = defaultdict(list)
        for word in counts:
            if len(word) < MAX_TERM_LENGTH:
                for deleted in deletions(word, MAX_EDITS):
                    self.by_deletion[deleted].append(word)

    def knows(self, term: str, prefix: bool = False) -> bool:
        if term in self.counts:
            return True
        if not prefix:
            return False
        at = bisect.bisect_left(self.sorted, term)
        return at < len(self.sorted) and self.sorted[at].startswith(term)

    def closest(self, term: str, limit: int = 3) -> list[str]:
        """Known words within a few edits of `term`, the nearest and most common first."""
        edits = allowed_edits(term)
        candidates = set()
        for deleted in deletions(term, edits):
            candidates.update(self.by_deletion.get(deleted, ()))
        scored = []
        for word in candidates:
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
        counts.update(vocabulary_words(row))
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
    candidates = [
        ParsedQuery(text=" ".join(choice), terms=choice, typed=choice)
        for choice in list(combinations(*options))[: ALTERNATIVES * 3]
        if choice != query.terms
    ]
    if not candidates:
        return []
    # One statement asks which of them find products; the nearest ones come first.
    finding = set(db.session.scalars(any_matches(candidates)))
    return [c for position, c in enumerate(candidates) if position in finding][:ALTERNATIVES]


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
        any(word.startswith(term) or within_one_edit(term, word) for word in name_terms)
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
