"""Wire language choice, formatting filters and bilingual helpers into Flask and Jinja."""

from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import gettext

from shop import clock
from shop.extensions import babel
from shop.text.formatting import format_date, format_quantity, format_vnd
from shop.text.i18n import current_lang, install_template_gettext


def select_locale() -> str:
    if not has_request_context():  # CLI commands and emails: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    remembered = session.get("lang")
    if remembered in languages:
        return remembered
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language() -> None:
    """`?lang=en` switches the interface language and keeps it for the visit."""
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"] and session.get("lang") != asked:
        session["lang"] = asked


def url_with_lang(lang: str) -> str:
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def price_label(price_vnd: int | None, unit=None) -> str:
    """'120.000 ₫ / kg', or 'Liên hệ' when the cooperative quotes on request."""
    lang = current_lang()
    if price_vnd is None:
        return gettext("Liên hệ")
    text = format_vnd(price_vnd, lang)
    if unit is not None:
        text = f"{text} / {unit.t('name')}"
    return text


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app.jinja_env)
    app.before_request(remember_language)
    app.jinja_env.filters.update(
        vnd=lambda amount: format_vnd(amount, current_lang()),
        qty=lambda value: format_quantity(value, current_lang()),
        date_vn=format_date,
        slug_and_name=lambda row: (row.slug, row.t("name")),
    )
    app.jinja_env.globals.update(price_label=price_label, url_with_lang=url_with_lang)

    @app.context_processor
    def inject_language():
        return {"lang": current_lang(), "today": clock.today()}
