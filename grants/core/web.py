"""Response headers, template globals and filters."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)


def install_web(app: Flask) -> None:
    """Security headers on every response and the helpers templates use."""

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.context_processor
    def layout_globals():
        return {
            "site_name": current_app.config["SITE_NAME"],
            "city_name": current_app.config["CITY_NAME"],
            "current_locale": str(get_locale()),
            "languages": current_app.config["LANGUAGES"],
        }

    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else ""
    )
    app.jinja_env.filters["decimal"] = lambda value: "" if value is None else format_decimal(value)
    app.jinja_env.filters["money"] = lambda value: (
        "" if value is None else format_currency(value, "EUR")
    )
