"""Turn a letter's data snapshot into a PDF/A-3b: German template, bundled fonts, nothing fetched.

The snapshot is the only input of the template, so a stored letter can always be explained by
the data stored beside it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
import segno
from markupsafe import Markup
from num2words import num2words
from weasyprint import Attachment
from weasyprint.urls import URLFetcherResponse

from grants.core.pdf import StaticFilesFetcher, render_document, render_pdf_html

# Raise when the layout or the meaning of the templates changes; the file digest is added.
LAYOUT_VERSION = "1"
TEMPLATES = {
    "approval": "letters/approval.html",
    "partial_approval": "letters/partial_approval.html",
    "rejection": "letters/rejection.html",
}
TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "letters"
LOGO_URL = "letter-asset:logo"
DATA_FILENAME = "bescheid-daten.json"
PDF_VARIANT = "pdf/a-3b"
TITLES = {
    "approval": "Zuwendungsbescheid",
    "partial_approval": "Zuwendungsbescheid (Teilbewilligung)",
    "rejection": "Ablehnungsbescheid",
}


@cache
def template_version() -> str:
    """LAYOUT_VERSION plus a digest of the letter templates, e.g. '1+3f9a0c1b2d4e'."""
    digest = hashlib.sha256()
    names = sorted({"base.html", *(Path(name).name for name in TEMPLATES.values())})
    for name in names:  # the letter's own templates, not the web pages beside them
        digest.update(name.encode() + b"\0" + (TEMPLATE_DIR / name).read_bytes())
    return f"{LAYOUT_VERSION}+{digest.hexdigest()[:12]}"


class LetterFetcher(StaticFilesFetcher):
    """The static-files fetcher plus the letter's own in-memory assets (the uploaded logo)."""

    def __init__(self, assets: dict[str, tuple[bytes, str]] | None = None):
        super().__init__()
        self.assets = assets or {}

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve a registered asset, or a bundled static file; refuse everything else."""
        if url in self.assets:
            data, content_type = self.assets[url]
            return URLFetcherResponse(url, data, {"Content-Type": content_type})
        return super().fetch(url, headers)


def euro_words(amount: Decimal) -> str:
    """An amount in German words, e.g. 'achthundertfünfzig Euro' or '… Euro und fünf Cent'."""
    euros = int(amount)
    cents = int((amount - euros) * 100)
    words = "ein" if euros == 1 else num2words(euros, lang="de")
    text = f"{words} Euro"
    if cents:
        text += f" und {'ein' if cents == 1 else num2words(cents, lang='de')} Cent"
    return text


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (no file, no fetch)."""
    svg = segno.make(url, error="m").svg_inline(scale=2, border=0, omitsize=False)
    return Markup(svg)  # noqa: S704 - generated here from our own URL, no user markup


@dataclass(frozen=True)
class RenderedLetter:
    """The finished PDF bytes and facts about them."""

    pdf: bytes
    page_count: int
    letter_pages: int
    sha256: str


def letter_html(snapshot: dict[str, Any]) -> str:
    """The letter's HTML for a snapshot (German, autoescaped)."""
    return render_pdf_html(
        TEMPLATES[snapshot["kind"]],
        letter=snapshot,
        qr=qr_svg(snapshot["verify_url"]),
        logo_url=LOGO_URL if snapshot["authority"].get("has_logo") else None,
    )


def render_letter(
    snapshot: dict[str, Any],
    logo: tuple[bytes, str] | None = None,
    annexes: list[Path] | None = None,
) -> RenderedLetter:
    """Render the snapshot to PDF/A-3b with the data attached as JSON, then append annexes."""
    html = letter_html(snapshot)
    fetcher = LetterFetcher({LOGO_URL: logo} if logo else None)
    issued = datetime.fromisoformat(snapshot["issued_at"])
    data = json.dumps(snapshot, ensure_ascii=False, indent=2, sort_keys=True).encode()
    attachment = Attachment(
        string=data,
        name=DATA_FILENAME,
        description="Daten des Bescheids (JSON)",
        created=issued,
        modified=issued,
        relationship="Data",
    )
    document = render_document(
        html, title=f"{TITLES[snapshot['kind']]} {snapshot['reference']}", url_fetcher=fetcher
    )
    document.metadata.authors = [snapshot["authority"]["name"]]
    document.metadata.created = issued.astimezone(UTC).isoformat()
    document.metadata.modified = document.metadata.created
    letter_pages = len(document.pages)
    # A stable identifier: the same letter (code) always gets the same /ID.
    identifier = hashlib.sha256(snapshot["verification_code"].encode()).hexdigest()[:32].encode()
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        pdf_identifier=identifier,
        pdf_tags=True,
        attachments=[attachment],
    )
    page_count = letter_pages
    if annexes:
        pdf, page_count = append_annexes(pdf, annexes)
    return RenderedLetter(pdf, page_count, letter_pages, hashlib.sha256(pdf).hexdigest())


def append_annexes(pdf: bytes, annexes: list[Path]) -> tuple[bytes, int]:
    """Append the annexes' pages behind the letter; the letter's catalogue stays in charge."""
    with pikepdf.open(io.BytesIO(pdf)) as letter:
        for path in annexes:
            with pikepdf.open(path) as annex:
                letter.pages.extend(annex.pages)
        out = io.BytesIO()
        letter.save(out, deterministic_id=True)  # keeps the first /ID element of the letter
        return out.getvalue(), len(letter.pages)


def attachment_names(pdf: bytes) -> list[str]:
    """The names of the files embedded in a PDF."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return sorted(document.attachments.keys())


def embedded_data(pdf: bytes) -> dict[str, Any] | None:
    """The decision data a letter carries as its JSON attachment, if any."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        spec = document.attachments.get(DATA_FILENAME)
        if spec is None:
            return None
        return json.loads(spec.get_file().read_bytes())
