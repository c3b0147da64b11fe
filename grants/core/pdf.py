"""PDF rendering with WeasyPrint: the renderer loads bundled static files and nothing else."""

from __future__ import annotations

import mimetypes
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from flask import render_template
from flask_babel import force_locale
from weasyprint import HTML, Document
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

from grants.core.models import LOCAL_TIMEZONE

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# The trailing slash makes url(vendor/...) resolve inside the folder.
BASE_URL = path2url(str(STATIC_DIR) + "/")
LOCALE = "de_DE"


class FetchRefused(ValueError):
    """The document asked for a resource that is not a bundled static file."""


class StaticFilesFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files below one folder and refuses everything else.

    No network (http, https, ftp), no data: URLs, no file outside the folder; symbolic links
    are followed and must end inside it too. Refusals raise FetchRefused; WeasyPrint logs them
    and renders without the resource.
    """

    def __init__(self, root: Path = STATIC_DIR):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.root = root.resolve()

    def resolve(self, url: str) -> Path:
        """The file a URL names, if it is one of the served files; FetchRefused otherwise."""
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                raise FetchRefused(f"not a local file: {url[:200]}")
            path = Path(url2pathname(parts.path)).resolve()
        except FetchRefused:
            raise
        except ValueError as error:  # e.g. an embedded NUL byte
            raise FetchRefused(f"malformed URL: {url[:200]}") from error
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused(f"not a bundled static file: {url[:200]}")
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Return the bundled file the URL names."""
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path2url(str(path)), path.read_bytes(), {"Content-Type": content_type}
        )


def render_document(
    html: str,
    title: str | None = None,
    lang: str = "de",
    url_fetcher: StaticFilesFetcher | None = None,
) -> Document:
    """Lay out the HTML (title and language from the page unless given) into pages."""
    fetcher = url_fetcher or StaticFilesFetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    if title:
        document.metadata.title = title
    document.metadata.lang = document.metadata.lang or lang
    return document


def render_pdf(html: str, title: str | None = None, lang: str = "de") -> bytes:
    """Render HTML to PDF bytes; only files under grants/static/ may be loaded."""
    return render_document(html, title=title, lang=lang).write_pdf()


def _decimal(value: Decimal | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def euro(value: Decimal | int | str | None) -> str:
    """An amount in German format, e.g. '1.234,56 €'; '' for None."""
    if value is None or value == "":
        return ""
    return format_currency(_decimal(value), "EUR", locale=LOCALE)


def number(value: Decimal | int | str | None) -> str:
    """A quantity in German format without needless decimals, e.g. '2' or '1,5'."""
    if value is None or value == "":
        return ""
    return format_decimal(_decimal(value), locale=LOCALE)


def total(values: list[Decimal | int | str | None]) -> Decimal:
    """The exact sum of amounts given as Decimal or strings; None counts as nothing."""
    return sum((_decimal(v) for v in values if v not in (None, "")), Decimal("0.00"))


def _berlin(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime; store and pass UTC-aware values")
    return value.astimezone(LOCAL_TIMEZONE)


def day(value: date | datetime | str | None) -> str:
    """A date as 01.03.2026 (datetimes in Europe/Berlin; ISO strings accepted); '' for None."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _berlin(value).date()
    return format_date(value, "dd.MM.yyyy", locale=LOCALE)


def day_time(value: datetime | str | None) -> str:
    """A moment as '01.03.2026, 14:05' in Europe/Berlin; '' for None."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(_berlin(value), "dd.MM.yyyy, HH:mm", locale=LOCALE)


PDF_HELPERS = {"euro": euro, "number": number, "total": total, "day": day, "day_time": day_time}


def render_pdf_html(template: str, **context: Any) -> str:
    """Render a PDF template in German, with the formatting helpers of PDF_HELPERS."""
    with force_locale("de"):
        return render_template(template, **PDF_HELPERS, **context)


def render_pdf_template(template: str, **context: Any) -> bytes:
    """Render a PDF template (German, with PDF_HELPERS) straight to PDF bytes."""
    return render_pdf(render_pdf_html(template, **context))
