"""Vietnamese-aware text normalisation: NFC, tone folding and slugs."""

import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def clean(value: str | None) -> str | None:
    """NFC-normalise and strip a piece of user text; empty becomes None."""
    if value is None:
        return None
    value = nfc(str(value)).strip()
    return value or None


def fold(value: str) -> str:
    """Fold Vietnamese text for matching: lower-case, no tone or vowel marks, đ → d."""
    value = unicodedata.normalize("NFC", value).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


_NOT_WORD = re.compile(r"[^\w]+")


def fold_words(value: str | None) -> str:
    """fold(), punctuation as spaces, spaces collapsed: "Xã/Phường  Từ Sơn" → "xa phuong tu son".

    How a name typed in a spreadsheet is compared with the names the site knows.
    """
    return " ".join(_NOT_WORD.sub(" ", fold(value or "")).split())


def slugify(value: str, max_length: int = 150) -> str:
    """Make an ASCII slug; đ/Đ becomes d before marks are stripped."""
    slug = _NON_SLUG.sub("-", fold(value)).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rstrip("-")
    return slug or "x"


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
