"""Locale and timezone selection: the visitor's choice, then the account's, else German."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, session
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context


def select_locale() -> str:
    """Pick the UI language for this request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and workers: German unless force_locale says otherwise
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Every date is shown in Europe/Berlin."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def install_template_translations(app: Flask) -> None:
    """Let `_()` in templates use the catalogue looked up once per render.

    Flask-Babel's template gettext finds the locale and the catalogue again for every string
    (about a third of the time a long page takes to render). The catalogue in force when the
    template context is made – also under force_locale, for e-mails – goes into the context;
    macros imported without context fall back to the lookup.
    """

    @app.context_processor
    def translations() -> dict:
        return {"_translations": get_translations()}

    def catalogue(context: Context):
        return context.get("_translations") or get_translations()

    @pass_context
    def gettext(context: Context, message: str) -> str:
        return catalogue(context).ugettext(message)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, number: int) -> str:
        return catalogue(context).ungettext(singular, plural, number)

    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)
