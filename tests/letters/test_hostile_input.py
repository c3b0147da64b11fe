"""Does applicant and staff text stay text in the letter, with nothing fetched or embedded?"""

from __future__ import annotations

import io
import time

import pikepdf

from grants.letters import rendering
from grants.letters.operations import letter_path
from tests.letters.support import issued
from tests.letters.test_letters import pdf_text
from tests.reviews.test_decisions import submitted_application
from workers.tasks import LETTER_SOFT_TIME_LIMIT, LETTER_TIME_LIMIT, render_letter

HOSTILE = (
    '<img src="file:///etc/passwd"> '
    '<link rel=attachment href="file:///etc/passwd"> '
    '<link rel="stylesheet" href="http://127.0.0.1:6379/x.css"> '
    "<style>@import url(http://127.0.0.1:6379/); "
    "body { background: url(http://127.0.0.1:6379/) }</style> "
    '<div style="background-image: url(http://127.0.0.1:6379/)">x</div> '
    "{{ 7*7 }} ]]> %PDF-"
)
LONG = "Langer Text ohne Ende " * 9_091  # 200,002 characters


def hostile_application():
    application = submitted_application()
    application.summary = HOSTILE + LONG
    application.cost_lines[1].description = HOSTILE[:290]
    return application


def test_hostile_text_is_printed_as_text_and_nothing_is_fetched_or_embedded(monkeypatch):
    requested: list[str] = []
    original = rendering.LetterFetcher.fetch

    def recording_fetch(self, url, headers=None):
        requested.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(rendering.LetterFetcher, "fetch", recording_fetch)
    application = hostile_application()
    assert len(application.summary) > 200_000
    started = time.monotonic()
    _application, _decision, letter = issued(
        "partial_approval", application=application, reasons_prefix=HOSTILE
    )
    elapsed = time.monotonic() - started
    data = letter_path(letter).read_bytes()

    # Only the bundled fonts were asked for: no file:///etc/passwd, no Redis, no attachment.
    assert requested, "the fonts come through the fetcher"
    assert all(url.startswith("file://") and "/grants/static/letters/" in url for url in requested)
    assert not any("passwd" in url or "6379" in url for url in requested)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert list(pdf.attachments.keys()) == [rendering.DATA_FILENAME]
        images = [name for page in pdf.pages for name in (page.Resources.get("/XObject") or {})]
    assert images == []  # no <img> became an image
    text = pdf_text(data)
    assert '<img src="file:///etc/passwd">' in text  # shown as the text it is
    assert "root:x:0:0" not in text
    assert "{{ 7*7 }}" in text  # never evaluated as a template
    assert "(Beschreibung gekürzt" in text  # 200,000 characters are not printed in full
    assert letter.page_count <= 4
    assert elapsed < LETTER_SOFT_TIME_LIMIT


def test_the_render_task_has_a_time_limit_below_the_broker_visibility_timeout(app):
    assert render_letter.soft_time_limit == LETTER_SOFT_TIME_LIMIT
    assert render_letter.time_limit == LETTER_TIME_LIMIT
    assert LETTER_SOFT_TIME_LIMIT < LETTER_TIME_LIMIT
    visibility = app.extensions["celery"].conf.broker_transport_options["visibility_timeout"]
    assert visibility > LETTER_TIME_LIMIT


def test_a_fetch_outside_the_static_folder_is_refused():
    fetcher = rendering.LetterFetcher()
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:6379/",
        "data:text/plain,hello",
        rendering.LOGO_URL,  # not registered: no logo uploaded
    ):
        try:
            fetcher.fetch(url)
        except ValueError:
            continue
        raise AssertionError(f"{url} was fetched")
