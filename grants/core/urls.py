"""Helpers for redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def safe_next(target: str | None) -> str | None:
    """Return target when it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for e-mails, valid outside a request too (based on PUBLIC_URL)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
