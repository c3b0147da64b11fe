"""Are decision letters issued after sign-off as immutable, archivable PDF/A-3b records?"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from decimal import Decimal

import pdfplumber
import pikepdf
import pytest
from flask import current_app

from grants.core.celery import init_celery  # noqa: F401 - the route table lives there
from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.letters import operations as letters
from grants.letters import rendering
from grants.letters.models import Letter
from grants.letters.operations import RENDER_TASK
from tests.factories import UserFactory
from tests.helpers import queued_mails
from tests.letters.support import CUT_REASON, REASONS, issued, render_queued, signed_off

MM = 72 / 25.4  # PDF points per millimetre


def pdf_text(data: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (lines joined by blanks)."""
    result = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


def stored_bytes(letter: Letter) -> bytes:
    return letters.letter_path(letter).read_bytes()


def test_sign_off_queues_the_letter_on_the_documents_queue_and_mails_nothing_yet():
    application, decision, _approver = signed_off("approval")
    member = application.organisation.memberships[0].user
    messages = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.task == RENDER_TASK)
    ).all()
    assert [m.payload["decision_id"] for m in messages] == [decision.id]
    templates = [mail["template"] for mail in queued_mails(member.email)]
    assert templates == ["applications/submitted"]  # told once, when the letter exists
    celery = current_app.extensions["celery"]
    assert celery.amqp.router.route({}, RENDER_TASK)["queue"].name == "documents"


def test_issuing_stores_the_pdf_with_snapshot_template_version_checksum_and_tells_once():
    finance = UserFactory(roles=["finance"])
    application, decision, letter = issued("approval")
    member = application.organisation.memberships[0].user
    data = stored_bytes(letter)
    assert letter.version == 1 and letter.kind == "approval"
    assert letter.reference == application.reference
    assert letter.size == len(data)
    assert letter.sha256 == hashlib.sha256(data).hexdigest()
    assert letter.template_version == rendering.template_version()
    assert letter.snapshot["decision"]["amount"] == "1080.00"
    assert letter.snapshot["verification_code"] == letter.verification_code
    mails = [m for m in queued_mails(member.email) if m["template"] != "applications/submitted"]
    assert [m["template"] for m in mails] == ["letters/issued"]
    assert application.reference in mails[0]["subject"]
    assert f"/applications/{application.id}" in mails[0]["body"]
    assert [m["template"] for m in queued_mails(finance.email)] == ["letters/issued"]


def test_the_letter_is_pdfa_3b_tagged_with_title_language_identifier_and_the_json_data():
    _application, _decision, letter = issued("partial_approval")
    data = stored_bytes(letter)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        assert "Teilbewilligung" in meta["dc:title"] and letter.reference in meta["dc:title"]
        assert str(pdf.Root.Lang) == "de"
        assert pdf.Root.MarkInfo.Marked  # tagged
        assert "/StructTreeRoot" in pdf.Root
        assert "/OutputIntents" in pdf.Root
        assert len(pdf.trailer.ID) == 2
        assert len(pdf.pages) == letter.page_count
        assert list(pdf.attachments.keys()) == [rendering.DATA_FILENAME]
        spec = pdf.attachments[rendering.DATA_FILENAME]
        assert str(spec.obj.AFRelationship) == "/Data"
        embedded = json.loads(spec.get_file().read_bytes())
        fonts = [font for page in pdf.pages for font in page.Resources.Font.values()]
        names = {str(font.BaseFont) for font in fonts}
        embedded_fonts = all(
            "/FontFile2" in descendant.FontDescriptor
            for font in fonts
            for descendant in font.get("/DescendantFonts", [font])
        )
    assert embedded == letter.snapshot
    assert embedded["costs"][0]["reason"] == CUT_REASON
    # Only the bundled font, embedded (subset names look like ABCDEF+Letter-Sans).
    assert {name.split("+")[-1] for name in names} == {"Letter-Sans", "Letter-Sans-Bold"}
    assert embedded_fonts


def test_the_text_holds_reference_amount_in_figures_and_words_period_and_legal_remedy():
    application, _decision, letter = issued("partial_approval")
    text = pdf_text(stored_bytes(letter))
    assert "Zuwendungsbescheid (Teilbewilligung)" in text
    assert application.reference in text
    assert "850,00 €" in text and "achthundertfünfzig Euro" in text
    assert "Rechtsbehelfsbelehrung" in text and "Verwaltungsgericht Köln" in text
    assert CUT_REASON in text and REASONS in text
    assert "Seite 1 von 2" in text and "Seite 2 von 2" in text
    assert letter.verification_code in text
    assert application.organisation.iban in text


def test_a_rejection_letter_names_the_reasons_and_has_no_amount():
    application, _decision, letter = issued("rejection")
    text = pdf_text(stored_bytes(letter))
    assert "Ablehnungsbescheid" in text and REASONS in text
    assert "wird abgelehnt" in text and "in Worten" not in text
    assert letter.page_count >= 1


def test_the_address_field_and_information_block_sit_at_their_din_5008_positions():
    application, _decision, letter = issued("approval")
    name = application.organisation.name.split()[0]  # "Verein"
    with pdfplumber.open(io.BytesIO(stored_bytes(letter))) as pdf:
        page = pdf.pages[0]
        assert (round(page.width / MM), round(page.height / MM)) == (210, 297)
        words = page.extract_words()
    recipient = next(w for w in words if w["text"] == name and w["top"] > 45 * MM)
    sender_line = next(w for w in words if w["text"] == "Stadt" and 45 * MM < w["top"] < 63 * MM)
    reference_label = next(w for w in words if w["text"] == "Aktenzeichen")
    # The address field starts 20 mm from the left; its text 5 mm further in.
    assert 24 * MM <= recipient["x0"] <= 26 * MM
    assert 24 * MM <= sender_line["x0"] <= 26 * MM
    # Return-address zone: 45–62.7 mm from the top; recipient zone: 62.7–90 mm.
    assert sender_line["top"] >= 45 * MM and sender_line["bottom"] <= 62.7 * MM
    assert recipient["top"] >= 62.7 * MM and recipient["bottom"] <= 90 * MM
    # The information block starts 125 mm from the left, 50 mm from the top.
    assert 124 * MM <= reference_label["x0"] <= 126 * MM
    assert 49 * MM <= reference_label["top"] <= 53 * MM


def test_an_issued_letter_never_changes_and_issuing_again_adds_a_version():
    application, decision, first = issued("approval")
    first_bytes = stored_bytes(first)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        first.kind = "rejection"
        db.session.flush()
    db.session.refresh(first)
    assert first.kind == "approval"

    approver = UserFactory(roles=["approver"])
    letters.queue_letter(application, approver)
    (second,) = render_queued()
    assert [letter.version for letter in application.letters] == [1, 2]
    assert second.verification_code != first.verification_code
    assert second.sha256 != first.sha256
    assert stored_bytes(first) == first_bytes
    assert "Ausfertigung 2" in pdf_text(stored_bytes(second))


def test_the_task_is_safe_to_run_twice():
    signed_off("approval")
    message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.task == RENDER_TASK))
    assert letters.issue_from_outbox(message.id) is not None
    assert letters.issue_from_outbox(message.id) is None
    assert db.session.scalar(db.select(db.func.count(Letter.id))) == 1


def test_settings_change_new_letters_but_never_issued_ones():
    admin = UserFactory(roles=["admin"])
    application, _decision, first = issued("approval")
    letters.update_settings(
        {"remedy_text": "Gegen diesen Bescheid ist die Klage beim VG Testhausen zulässig."}, admin
    )
    letters.queue_letter(application, admin)
    (second,) = render_queued()
    assert "VG Testhausen" in pdf_text(stored_bytes(second))
    assert "VG Testhausen" not in pdf_text(stored_bytes(first))
    assert "Verwaltungsgericht Köln" in first.snapshot["texts"]["remedy_text"]


def test_euro_words_say_the_amount_in_german():
    assert rendering.euro_words(Decimal("850.00")) == "achthundertfünfzig Euro"
    assert rendering.euro_words(Decimal("1.00")) == "ein Euro"
    assert rendering.euro_words(Decimal("1234.05")) == (
        "eintausendzweihundertvierunddreißig Euro und fünf Cent"
    )


def test_verification_codes_are_forgiving_when_typed():
    code = letters.new_verification_code()
    assert letters.normalise_code(code.lower().replace("-", " ")) == code
    assert letters.normalise_code("O0O0O-IIIII") == "00000-11111"
    assert letters.normalise_code("too short") is None


def test_fold_and_hole_marks_sit_at_105_148_5_and_210_mm():
    _application, _decision, letter = issued("approval")
    with pdfplumber.open(io.BytesIO(stored_bytes(letter))) as pdf:
        page = pdf.pages[0]
        marks = sorted(
            {
                round(edge["top"] / MM * 2) / 2  # to half a millimetre (the line has a width)
                for edge in page.edges
                if edge["orientation"] == "h" and edge["x1"] <= 12 * MM
            }
        )
    assert marks == [105.0, 148.5, 210.0]
