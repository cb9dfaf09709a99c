"""Bilingual model fields: English falls back to Vietnamese where a translation is missing."""

from flask import has_request_context
from flask_babel import get_locale


def current_lang() -> str:
    if not has_request_context():
        return "vi"
    locale = get_locale()
    return locale.language if locale is not None else "vi"


class Bilingual:
    """Give models a `t(field)` that reads `<field>_<lang>` and falls back to Vietnamese."""

    def t(self, field: str, lang: str | None = None) -> str:
        lang = lang or current_lang()
        if lang != "vi":
            value = getattr(self, f"{field}_{lang}", None)
            if value:
                return value
        value = getattr(self, f"{field}_vi", None)
        if value is None:
            value = getattr(self, field, None)
        return value or ""
