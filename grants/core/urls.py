"""Helpers for URLs: safe redirects, links in e-mails, links in long lists."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, url_for

# An id no row will have: url_pattern builds the URL with it once and cuts it out.
_MARKER = 2_147_483_647


def safe_next(target: str | None) -> str | None:
    """Return target when it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def site_path(endpoint: str, **values) -> str:
    """The path of an endpoint on this site, valid outside a request too."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute_url(path: str) -> str:
    """A path on this site as an absolute URL for e-mails (based on PUBLIC_URL)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for e-mails, valid outside a request too (based on PUBLIC_URL)."""
    return absolute_url(site_path(endpoint, **values))


def url_pattern(endpoint: str, key: str) -> Callable[[int], str]:
    """url_for for one integer argument, routed once: for a link in every row of a table.

    url_pattern("reviews.show", "application_id")(12) == url_for("reviews.show",
    application_id=12), without matching the URL map again for each row.
    """
    head, tail = url_for(endpoint, **{key: _MARKER}).split(str(_MARKER))
    return lambda value: f"{head}{int(value)}{tail}"
