"""Does the summary PDF show the submitted application, and does the renderer fetch nothing?"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from grants.applications import operations
from grants.applications.models import Application
from grants.core import pdf
from grants.core.models import utcnow
from grants.core.pdf import BASE_URL, STATIC_DIR, FetchRefused, StaticFilesFetcher
from grants.extensions import db
from grants.programmes.models import Call, Programme
from tests.factories import MembershipFactory

TEMPLATE = "applications/summary_pdf.html"
FIRA_REGULAR = STATIC_DIR / "vendor/kern/fonts/fira-sans/FiraSans-Regular.woff2"

IMG_PASSWD = '<img src="file:///etc/passwd">'
LINK_PASSWD = '<link rel="attachment" href="file:///etc/passwd">'
CSS_REDIS = "<style>p { background: url(http://127.0.0.1:6379/) }</style>"


def realistic_snapshot() -> dict:
    """A snapshot as operations.snapshot() writes it, with hostile text in the free fields."""
    return {
        "reference": "KOMMAN-2026-0042",
        "call": {
            "id": 3,
            "title": "Förderaufruf 2026",
            "programme": "KOMM-AN NRW, Programmteil II",
            "programme_code": "KOMMAN",
        },
        "organisation": {
            "name": "Begegnung Wiesdorf e.V.",
            "legal_form": "ev",
            "register_court": "Amtsgericht Köln",
            "register_number": "VR 1234",
            "street": "Hauptstraße 1",
            "postcode": "51373",
            "city": "Leverkusen",
            "contact_name": "Erika Mustermann",
            "contact_email": "kontakt@example.org",
            "contact_phone": "0214 123456",
            "iban": "DE89370400440532013000",
            "bic": None,
            "bank_name": "Sparkasse Leverkusen",
            "account_holder": "Begegnung Wiesdorf e.V.",
            "tax_exemption_date": "2024-05-02",
        },
        "project": {
            "title": f"Café International {IMG_PASSWD}",
            "summary": f"Ein offener Treffpunkt.\nJeden Dienstag. {LINK_PASSWD}",
            "goals": f"Ankommen erleichtern {CSS_REDIS}",
            "target_groups": "Geflüchtete und Nachbarschaft",
            "district": "1",
            "location": "Wiesdorf",
            "start_date": "2026-04-01",
            "end_date": "2026-12-31",
            "expected_participants": 40,
            "volunteers": 6,
        },
        "cost_lines": [
            {
                "category": "lump_sum",
                "description": "A1 Ausstattung Treffpunkt",
                "quantity": "2.00",
                "unit_price": "1000.00",
                "amount": "2000.00",
                "lump_sum": "A1",
            },
            {
                "category": "material",
                "description": "Moderationsmaterial url(http://127.0.0.1:6379/)",
                "quantity": "1.50",
                "unit_price": "1234.56",
                "amount": "1851.84",
                "lump_sum": None,
            },
        ],
        "total_costs": "3851.84",
        "financing": {
            "own_funds": "351.84",
            "participant_fees": None,
            "third_party_funds": [
                {"source": "Bürgerstiftung Leverkusen", "amount": "500.00", "approved": True}
            ],
            "requested_grant": "3000.00",
            "largest_possible_grant": "3000.00",
        },
        "attachments": [
            {"id": 1, "kind": "statutes", "filename": "Satzung.pdf", "size": 1234, "sha256": "0"}
        ],
        "declarations": {"not_started": True, "subsidy_relevant": True},
        "input_tax_deduction": False,
    }


VERSION = SimpleNamespace(number=2, submitted_at=datetime(2026, 3, 1, 13, 5, tzinfo=UTC))


def summary_html() -> str:
    return pdf.render_pdf_html(
        TEMPLATE,
        snapshot=realistic_snapshot(),
        version=VERSION,
        organisation_name="Begegnung Wiesdorf e.V.",
    )


def page_texts(document) -> list[str]:
    """The text WeasyPrint laid out on each page (margin boxes included), whitespace folded.

    Folding turns no-break spaces (as in '1.234,56 €') into plain ones.
    """

    def walk(box):
        if isinstance(getattr(box, "text", None), str):
            yield box.text
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    return [" ".join(" ".join(walk(page._page_box)).split()) for page in document.pages]


def pdf_contents(data: bytes) -> bytes:
    """The PDF with every Flate stream decompressed, to search embedded content."""
    parts = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            parts.append(stream)
    return b"\n".join(parts)


# --- the summary -------------------------------------------------------------------------------


def test_the_summary_is_an_a4_pdf_with_title_language_and_page_numbers():
    document = pdf.render_document(summary_html())
    data = document.write_pdf()

    assert data.startswith(b"%PDF-")
    assert document.metadata.title == "Antragsübersicht KOMMAN-2026-0042"
    assert document.metadata.lang == "de"
    assert len(document.pages) >= 1
    assert round(document.pages[0].width * 25.4 / 96) == 210  # CSS px to mm
    assert round(document.pages[0].height * 25.4 / 96) == 297
    texts = page_texts(document)
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"Seite {number} von {total}" in text
        assert "KOMMAN-2026-0042" in text  # in the footer of every page


def test_the_summary_shows_every_section_with_german_amounts_and_berlin_time():
    text = " ".join(page_texts(pdf.render_document(summary_html())))

    for expected in [
        "Kommunales Integrationszentrum Leverkusen",
        "Antragsübersicht",
        "Aktenzeichen KOMMAN-2026-0042",
        "Eingereicht am 01.03.2026, 14:05 Uhr",  # 13:05 UTC
        "Fassung 2",
        "Organisation",
        "Begegnung Wiesdorf e.V.",
        "DE89 3704 0044 0532 0130 00",
        "Projekt",
        "01.04.2026 bis 31.12.2026",
        "Kostenplan",
        "1,5 × 1.234,56\xa0€",
        "1.851,84\xa0€",
        "Gesamtkosten 3.851,84\xa0€",
        "Finanzierungsplan",
        "Bürgerstiftung Leverkusen Ja 500,00\xa0€",
        "Beantragte Zuwendung 3.000,00\xa0€",
        "Gesamtfinanzierung 3.851,84\xa0€",
        "Anlagen",
        "Satzung.pdf",
        "Erklärungen",
    ]:
        assert expected.replace("\xa0", " ") in text, expected


def test_hostile_text_in_the_snapshot_is_escaped_and_shown_as_text():
    html = summary_html()

    assert IMG_PASSWD not in html
    assert LINK_PASSWD not in html
    assert CSS_REDIS not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "&lt;style&gt;" in html
    document = pdf.render_document(html)
    text = " ".join(page_texts(document))
    assert IMG_PASSWD in text  # printed literally, not loaded
    assert document.metadata.attachments == []
    assert b"root:" not in pdf_contents(document.write_pdf())


def test_the_summary_is_german_even_when_the_visitor_reads_english(app):
    with app.test_request_context():
        from flask import session

        session["locale"] = "en"
        html = summary_html()
    assert '<html lang="de">' in html
    assert "Antragsübersicht" in html
    assert "3.851,84\xa0€" in html


def test_the_bundled_fira_sans_font_is_embedded():
    assert FIRA_REGULAR.exists(), "run `make assets`: the KERN fonts are missing"
    data = pdf.render_document(summary_html()).write_pdf(uncompressed_pdf=True)
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Fira-Sans", data)


def test_pdftotext_reads_the_summary(tmp_path):
    assert shutil.which("pdftotext"), "install poppler-utils (make test does)"
    target = tmp_path / "summary.pdf"
    target.write_bytes(pdf.render_pdf(summary_html()))
    text = subprocess.run(
        ["pdftotext", "-layout", str(target), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Antragsübersicht" in text
    assert "3.851,84 €" in text.replace("\xa0", " ")


def test_a_snapshot_written_by_the_operations_renders(app):
    """The template follows the real shape of operations.snapshot(), not only our example."""
    membership = MembershipFactory()
    programme = Programme(
        name="Interkulturelle Öffnung",
        code="IKOE",
        financing_type="share",
        share_rate=Decimal("90.00"),
        total_budget=Decimal("40000.00"),
        eligible_categories=["material", "rent"],
    )
    call = Call(
        programme=programme,
        title="Aufruf 2026",
        opens_at=utcnow() - timedelta(days=10),
        closes_at=utcnow() + timedelta(days=50),
        project_start=date(2026, 1, 1),
        project_end=date(2026, 12, 31),
    )
    application = Application(
        organisation=membership.organisation,
        call=call,
        created_by=membership.user,
        status="draft",
        reference="IKOE-2026-0007",
        organisation_data=operations.organisation_snapshot(membership.organisation),
        title="Woche gegen Rassismus",
        start_date=date(2026, 3, 16),
        end_date=date(2026, 3, 29),
        own_funds=Decimal("100.00"),
        requested_grant=Decimal("900.00"),
        declarations={"not_started": True},
        input_tax_deduction=True,
    )
    db.session.add(application)
    db.session.flush()
    operations.add_cost_line(
        application, "rent", "Saalmiete", Decimal("2"), Decimal("500.00"), membership.user
    )

    html = pdf.render_pdf_html(
        TEMPLATE,
        snapshot=operations.snapshot(application),
        version=SimpleNamespace(number=1, submitted_at=utcnow()),
        organisation_name=membership.organisation.name,
    )
    text = " ".join(page_texts(pdf.render_document(html)))

    assert "IKOE-2026-0007" in text
    assert membership.organisation.name in text
    assert "16.03.2026 bis 29.03.2026" in text
    assert "Gesamtkosten 1.000,00 €" in text
    assert "Gesamtfinanzierung 1.000,00 €" in text


# --- formatting helpers ------------------------------------------------------------------------


def test_amounts_dates_and_quantities_are_formatted_the_german_way():
    assert pdf.euro("1234.5") == "1.234,50\xa0€"
    assert pdf.euro(Decimal("0")) == "0,00\xa0€"
    assert pdf.euro(None) == ""
    assert pdf.number("2.00") == "2"
    assert pdf.number("1.50") == "1,5"
    assert pdf.total(["1.10", Decimal("2.20"), None]) == Decimal("3.30")
    assert pdf.day("2026-04-01") == "01.04.2026"
    assert pdf.day(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == "01.07.2026"  # Berlin: CEST
    assert pdf.day_time(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "01.07.2026, 12:00"
    assert pdf.day_time("2026-12-01T10:00:00+00:00") == "01.12.2026, 11:00"
    with pytest.raises(ValueError):
        pdf.day_time(datetime(2026, 7, 1, 10, 0))  # naive: which zone?


# --- the fetcher -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/etc/passwd",
        "http://127.0.0.1:6379/",
        "https://example.org/style.css",
        "ftp://example.org/file",
        "data:text/plain;base64,cm9vdDp4OjA6MA==",
        BASE_URL + "../../config.py",
        BASE_URL + "%2e%2e/%2e%2e/config.py",
        BASE_URL + "vendor/../../../../../../etc/passwd",
        BASE_URL + "css/app.css%00.png",
        BASE_URL,  # a folder, not a file
        BASE_URL + "does-not-exist.woff2",
    ],
)
def test_the_fetcher_refuses_everything_but_bundled_static_files(url):
    with pytest.raises(FetchRefused):
        StaticFilesFetcher()(url)


def test_the_fetcher_serves_a_bundled_static_file():
    response = StaticFilesFetcher()(BASE_URL + "css/app.css")
    try:
        assert response.read() == (STATIC_DIR / "css" / "app.css").read_bytes()
        assert response.content_type == "text/css"
    finally:
        response.close()


def test_the_fetcher_refuses_a_symbolic_link_that_points_outside(tmp_path: Path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "fine.css").write_text("p { color: red }")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (root / "link.css").symlink_to(secret)
    fetcher = StaticFilesFetcher(root)

    assert fetcher(root.as_uri() + "/fine.css").read() == b"p { color: red }"
    with pytest.raises(FetchRefused):
        fetcher(root.as_uri() + "/link.css")


HOSTILE_HTML = f"""<!DOCTYPE html>
<html><head><title>Angriff</title>
<link rel="stylesheet" href="http://127.0.0.1:6379/evil.css">
{LINK_PASSWD}
{CSS_REDIS}
<style>@font-face {{ font-family: X; src: url(file:///etc/passwd); }}
body {{ font-family: X }}</style>
</head><body>
<p>Hallo</p>
{IMG_PASSWD}
<img src="/etc/passwd">
<img src="../../../../../../etc/passwd">
<object data="file:///etc/passwd"></object>
<iframe src="file:///etc/passwd"></iframe>
<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>
</body></html>"""


def test_raw_hostile_html_renders_without_fetching_anything(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, addr: connections.append(addr))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda sock, addr: connections.append(addr))
    # Alembic's fileConfig() in the session fixture disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("weasyprint"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="weasyprint")

    executor = ThreadPoolExecutor(max_workers=1)
    try:
        data = executor.submit(pdf.render_pdf, HOSTILE_HTML).result(timeout=60)  # no hang
    finally:
        executor.shutdown(wait=False)

    assert data.startswith(b"%PDF-")
    assert connections == []
    contents = pdf_contents(data)
    assert b"root:" not in contents
    assert b"/EmbeddedFile" not in contents
    refused = " ".join(r.getMessage() for r in caplog.records)
    assert "FetchRefused" in refused
    assert "127.0.0.1:6379" in refused
    assert "/etc/passwd" in refused
