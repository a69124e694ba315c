"""Page language: Japanese by default; English with ?lang=en or Accept-Language: en."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

LANGUAGES = ("ja", "en")
babel = Babel()


def select_locale() -> str:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        return lang
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    default = current_app.extensions["idp.settings"].default_locale
    return request.accept_languages.best_match(LANGUAGES, default=default) or default


def switch_url(lang: str) -> str:
    """This page in another language, keeping its other query parameters.

    A query-only relative reference (RFC 3986 §4.2): the browser keeps the
    page's own path. The path is never echoed, since a path such as
    ``/\\evil.example/x`` would be read by browsers as another host."""
    args = request.args.to_dict()
    args["lang"] = lang
    return "?" + urlencode(args)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals.update(get_locale=get_locale, switch_url=switch_url)
