"""Bilingual model fields: English falls back to Vietnamese where a translation is missing.

The request's language and its translations are looked up once per request and kept on the
request (`current_lang()`, `translations()`): a listing page asks for them a few hundred times
(every name, price and label), and Flask-Babel's own lookup walks Flask's context locals on
each call.
"""

from flask import has_request_context, request
from flask_babel import get_locale, get_translations


def _request():
    return request._get_current_object() if has_request_context() else None


def current_lang() -> str:
    current = _request()
    if current is None:
        return "vi"
    lang = current.__dict__.get("shop_lang")
    if lang is None:
        locale = get_locale()
        lang = current.shop_lang = locale.language if locale is not None else "vi"
    return lang


def translations():
    """The request's gettext translations (Flask-Babel's, looked up once per request)."""
    current = _request()
    if current is None:
        return get_translations()
    found = current.__dict__.get("shop_translations")
    if found is None:
        found = current.shop_translations = get_translations()
    return found


def install_template_gettext(env) -> None:
    """Templates' _(), gettext() and ngettext() read the request's translations().

    The same callables Flask-Babel installs (new-style: Jinja formats and escapes), without
    its per-call lookup of the locale and the domain.
    """
    env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


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
