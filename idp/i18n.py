"""Page language: Japanese by default; English with ?lang=en or Accept-Language: en."""

from __future__ import annotations

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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["get_locale"] = get_locale
