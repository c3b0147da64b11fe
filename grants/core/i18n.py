"""Locale and timezone selection: the visitor's choice, then the account's, else German."""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_login import current_user


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
