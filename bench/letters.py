"""Benchmarks of the decision letters: rendering speed and the memory of the ZIP download.

    .venv/bin/python -m bench.letters render [--runs 15]
    .venv/bin/python -m bench.letters zip [--letters 1000]

`render` lays out a typical three-page approval (12 cost lines, conditions, annex list)
through the project's code (template, locked-down fetcher, PDF/A-3b, tags, JSON attachment,
SHA-256) and the same HTML straight through WeasyPrint, alternating, and prints the medians and
their ratio (goal: at most 1.2×). For reference it also times plain WeasyPrint with the same
PDF/A options, which shows what the archive format itself costs.

`zip` writes N letter files (copies of one letter rendered in a child process, each made
distinct), and in a process that has loaded the app but rendered nothing (like a web worker)
streams them through grants.finance.operations.stream_zip into a sink that only hashes, and
prints the process's peak resident memory (getrusage) before and after, and the peak of Python
allocations (tracemalloc). Goal: under 200 MB. No database is needed for either.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from weasyprint import HTML

from config import DevConfig
from grants import create_app
from grants.core.pdf import BASE_URL
from grants.letters import rendering
from grants.letters.operations import DEFAULTS


def typical_snapshot() -> dict:
    """The data of a typical approval that fills three pages."""
    costs = [
        {
            "category": "Honorare für Freiberufliche und Referierende" if n % 2 else "Sachausgaben",
            "description": f"Posten {n + 1}: Workshop „Vielfalt im Verein“, Materialpaket {n + 1}",
            "requested": f"{100 + n * 15}.00",
            "admitted": f"{100 + n * 15}.00",
            "reason": None,
        }
        for n in range(12)
    ]
    issued = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    return {
        "format": 1,
        "kind": "approval",
        "reference": "IKOE-2026-0042",
        "version": 1,
        "issued_at": issued.isoformat(),
        "issued_on": "2026-11-25",
        "verification_code": "K7M2Q-9XH4T",
        "verify_url": "https://foerderung.leverkusen.example/verify?code=K7M2Q-9XH4T",
        "authority": {
            "name": DEFAULTS["authority_name"],
            "unit": DEFAULTS["authority_unit"],
            "address": DEFAULTS["authority_address"],
            "return_address": DEFAULTS["return_address"],
            "contact_name": DEFAULTS["contact_name"],
            "contact_phone": DEFAULTS["contact_phone"],
            "contact_email": DEFAULTS["contact_email"],
            "signatory_name": DEFAULTS["signatory_name"],
            "signatory_title": DEFAULTS["signatory_title"],
            "footer": "Stadt Leverkusen · Kommunales Integrationszentrum · 51373 Leverkusen",
            "has_logo": False,
        },
        "texts": {
            "payout_text": "Die Zuwendung wird auf Anforderung ausgezahlt (Nr. 1.4 ANBest-P). " * 3,
            "conditions_text": "Die ANBest-P sind Bestandteil dieses Bescheides. " * 6,
            "proof_of_use_text": "Der Verwendungsnachweis besteht aus Sachbericht und Belegliste.",
            "rejection_text": "",
            "remedy_text": "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe "
            "Klage beim Verwaltungsgericht Köln erhoben werden. " * 3,
            "closing_text": "Mit freundlichen Grüßen",
        },
        "recipient": {
            "name": "Demo-Verein e.V.",
            "contact_name": "Amira Yilmaz",
            "street": "Friedrich-Ebert-Platz 1",
            "postcode": "51373",
            "city": "Leverkusen",
        },
        "payment": {"iban": "DE89370400440532013000", "account_holder": "Demo-Verein e.V."},
        "application": {
            "title": "Begegnungswochen gegen Rassismus",
            "summary": "Eine Reihe von Workshops, Lesungen und Begegnungsfesten. " * 12,
            "summary_shortened": False,
            "submitted_on": "2026-03-02",
            "start_date": "2026-04-01",
            "end_date": "2026-12-31",
            "requested_grant": "4500.00",
            "total_costs": "5000.00",
        },
        "programme": {
            "name": "Kleinförderung Interkulturelle Öffnung",
            "code": "IKOE",
            "legal_basis": "Nr. 12 VVG zu § 44 LHO",
            "financing_type": "share",
            "financing_type_label": "Anteilfinanzierung",
            "share_rate": "90.00",
            "max_grant": "5000.00",
            "proof_of_use_months": 6,
        },
        "call": {"title": "Kleinförderung 2026"},
        "decision": {
            "id": 42,
            "amount": "4500.00",
            "amount_words": rendering.euro_words(Decimal("4500.00")),
            "period_start": "2026-04-01",
            "period_end": "2026-12-31",
            "reasons": None,
            "conditions": "Bitte nennen Sie die Förderung auf allen Veröffentlichungen.\n" * 4,
            "computed_grant": "4500.00",
            "admitted_costs": "5000.00",
            "signed_off_on": "2026-11-25",
        },
        "costs": costs,
        "proof_of_use_due": date(2027, 6, 30).isoformat(),
        "annexes": [{"title": "ANBest-P", "pages": 4, "sha256": "0" * 64}],
        "template_version": rendering.template_version(),
    }


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def bench_render(runs: int) -> None:
    app = create_app(DevConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        snapshot = typical_snapshot()
        html = rendering.letter_html(snapshot)
        rendered = rendering.render_letter(snapshot)
        print(f"letter: {rendered.page_count} pages, {len(rendered.pdf) / 1024:.0f} KiB")

        def project():
            rendering.render_letter(snapshot)

        def plain():
            HTML(string=html, base_url=BASE_URL).write_pdf()

        def plain_pdfa():
            HTML(string=html, base_url=BASE_URL).write_pdf(pdf_variant="pdf/a-3b", pdf_tags=True)

        for function in (project, plain, plain_pdfa):  # warm-up: fonts, caches
            function()
        times: dict[str, list[float]] = {"project": [], "plain": [], "plain_pdfa": []}
        for _ in range(runs):
            times["project"].append(_timed(project))
            times["plain"].append(_timed(plain))
            times["plain_pdfa"].append(_timed(plain_pdfa))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"runs per variant: {runs} (alternating, after one warm-up each)")
    print(f"project (render_letter, PDF/A-3b + tags + JSON): median {medians['project']:.0f} ms")
    print(f"plain WeasyPrint, same HTML, default options:     median {medians['plain']:.0f} ms")
    print(
        f"plain WeasyPrint, same HTML, PDF/A-3b + tags:     median {medians['plain_pdfa']:.0f} ms"
    )
    print(f"ratio project / plain:          {medians['project'] / medians['plain']:.2f}×")
    print(f"ratio project / plain PDF/A-3b: {medians['project'] / medians['plain_pdfa']:.2f}×")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sample_pdf() -> bytes:
    app = create_app(DevConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        return rendering.render_letter(typical_snapshot()).pdf


def bench_zip(count: int) -> None:
    from grants.finance.operations import stream_zip

    # The sample letter is rendered in a child process, so this process is shaped like a web
    # worker that serves the download: the app loaded, no PDF rendered.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pdf = pool.apply(_sample_pdf)
    create_app(DevConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for number in range(count):
            path = Path(folder) / f"{number:04d}.pdf"
            path.write_bytes(pdf + f"%{number}\n".encode())
            files.append((f"Bescheid-IKOE-2026-{number:04d}-v1.pdf", str(path)))
        total = sum(Path(path).stat().st_size for _name, path in files)
        before = _peak_rss_mb()
        tracemalloc.start()
        digest = hashlib.sha256()
        size = 0
        started = time.perf_counter()
        for piece in stream_zip(files):
            digest.update(piece)
            size += len(piece)
        elapsed = time.perf_counter() - started
        _current, peak_python = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = _peak_rss_mb()
    mib = 1024 * 1024
    print(f"{count} letters, {total / mib:.1f} MiB of PDFs -> ZIP {size / mib:.1f} MiB")
    print(f"streamed in {elapsed:.2f} s ({size / 1024 / 1024 / elapsed:.0f} MiB/s)")
    print(f"peak RSS of the process: {before:.0f} MB before streaming, {after:.0f} MB after")
    print(f"peak Python allocations while streaming (tracemalloc): {peak_python / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render")
    render.add_argument("--runs", type=int, default=15)
    zip_ = sub.add_parser("zip")
    zip_.add_argument("--letters", type=int, default=1000)
    args = parser.parse_args()
    if args.command == "render":
        bench_render(args.runs)
    else:
        bench_zip(args.letters)


if __name__ == "__main__":
    main()
