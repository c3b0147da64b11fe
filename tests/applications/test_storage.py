"""Which uploads are accepted, and do files and rows stay together?"""

from __future__ import annotations

import hashlib
import io
import stat
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from weasyprint import HTML
from werkzeug.datastructures import FileStorage

from grants.applications import storage
from grants.applications.models import Application, Attachment
from grants.core.audit import AuditEvent
from grants.core.models import utcnow
from grants.extensions import db
from grants.programmes.models import Call, Programme
from tests.factories import MembershipFactory

# --- files -------------------------------------------------------------------------------------


def make_pdf() -> bytes:
    return HTML(string="<h1>Satzung</h1><p>§ 1 Name und Sitz</p>").write_pdf()


def make_image(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 90, 160)).save(buffer, fmt)
    return buffer.getvalue()


def upload(data: bytes, filename: str = "datei.pdf", content_type: str = "application/pdf"):
    """What the browser sends; its content type is deliberately wrong in several tests."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def upload_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh UPLOAD_DIR for this test (created on first upload)."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def application():
    """A draft application of an organisation, with its applicant as created_by."""
    membership = MembershipFactory()
    programme = Programme(
        name="KOMM-AN NRW, Programmteil II",
        code="KOMMAN",
        financing_type="fixed",
        total_budget=Decimal("40000.00"),
        eligible_categories=["lump_sum", "material"],
    )
    call = Call(
        programme=programme,
        title="Förderaufruf 2026",
        opens_at=utcnow() - timedelta(days=10),
        closes_at=utcnow() + timedelta(days=50),
        project_start=date(2026, 1, 1),
        project_end=date(2026, 12, 31),
    )
    draft = Application(
        organisation=membership.organisation,
        call=call,
        created_by=membership.user,
        status="draft",
        organisation_data={},
        declarations={},
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


# --- check_upload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (make_pdf(), "Satzung.pdf", "application/pdf"),
        (make_image("PNG"), "Plakat.png", "image/png"),
        (make_image("JPEG"), "Foto.jpg", "image/jpeg"),
    ],
    ids=["pdf", "png", "jpeg"],
)
def test_real_pdf_png_and_jpeg_files_are_accepted(data, filename, content_type):
    checked = storage.check_upload(io.BytesIO(data), filename)

    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.data == data
    assert checked.filename == filename


def test_the_type_is_judged_by_content_not_by_name_or_browser_content_type():
    png = make_image("PNG")
    checked = storage.check_upload(upload(png, "Scan.pdf", "application/pdf").stream, "Scan.pdf")

    assert checked.content_type == "image/png"
    assert checked.filename == "Scan.png"  # the name follows the content


REFUSED = {
    "html_saved_as_pdf": (b"<!DOCTYPE html><html><body><script>alert(1)</script>", "x.pdf"),
    "png_header_then_garbage": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 200, "bild.png"),
    "exe_renamed_png": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 500, "bild.png"),
    "pdf_without_end": (make_pdf()[:-2000], "abgeschnitten.pdf"),
    "svg_as_png": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "logo.png"),
}


@pytest.mark.parametrize(("data", "filename"), REFUSED.values(), ids=REFUSED.keys())
def test_files_whose_content_is_not_pdf_jpeg_or_png_are_refused(data, filename):
    with pytest.raises(storage.UploadError) as raised:
        storage.check_upload(io.BytesIO(data), filename)
    assert raised.value.code == "type"


def test_an_empty_file_is_refused():
    with pytest.raises(storage.UploadError) as raised:
        storage.check_upload(io.BytesIO(b""), "leer.pdf")
    assert raised.value.code == "empty"


def test_a_file_over_the_limit_is_refused_and_one_at_the_limit_accepted(app, monkeypatch):
    pdf = make_pdf()
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(pdf))
    assert storage.check_upload(io.BytesIO(pdf), "genau.pdf").size == len(pdf)

    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", len(pdf) - 1)
    with pytest.raises(storage.UploadError) as raised:
        storage.check_upload(io.BytesIO(pdf), "zu-gross.pdf")
    assert raised.value.code == "too_large"


def test_the_default_limit_is_ten_megabytes_and_the_message_says_so(app):
    assert app.config["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024
    with app.test_request_context():
        assert "10 MB" in str(storage.UPLOAD_MESSAGES["too_large"])
        assert set(storage.UPLOAD_MESSAGES) == {"empty", "too_large", "type"}
        assert all(str(message) for message in storage.UPLOAD_MESSAGES.values())


def test_a_stream_read_before_is_checked_from_its_start():
    stream = io.BytesIO(make_pdf())
    stream.read(100)  # e.g. a form validator peeked at it
    assert storage.check_upload(stream, "Satzung.pdf").content_type == "application/pdf"


@pytest.mark.parametrize(
    ("given", "detected", "expected"),
    [
        ("Satzung.pdf", "pdf", "Satzung.pdf"),
        ("Satzung Förderverein 2026.PDF", "pdf", "Satzung_Forderverein_2026.pdf"),
        ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
        ("C:\\Users\\erika\\Desktop\\Angebot.jpeg", "jpeg", "Angebot.jpeg"),
        ("Foto.png", "jpeg", "Foto.jpg"),
        ("Satzung v1.2", "pdf", "Satzung_v1.2.pdf"),
        ("تقرير.pdf", "pdf", "anhang.pdf"),
        ("", "png", "anhang.png"),
        (None, "pdf", "anhang.pdf"),
    ],
)
def test_file_names_are_made_safe_with_a_readable_fallback(given, detected, expected):
    assert storage.safe_filename(given, detected) == expected


# --- store_attachment --------------------------------------------------------------------------


def test_a_stored_attachment_lands_in_the_upload_folder_under_a_random_name(
    application, upload_dir
):
    user = application.created_by
    pdf = make_pdf()

    attachment = storage.store_attachment(application, "statutes", upload(pdf, "Satzung.pdf"), user)

    path = upload_dir / attachment.stored_name
    assert files_in(upload_dir) == [path]
    assert len(attachment.stored_name) == 64
    assert int(attachment.stored_name, 16) >= 0  # hex
    assert "Satzung" not in attachment.stored_name
    assert path.read_bytes() == pdf
    assert hashlib.sha256(path.read_bytes()).hexdigest() == attachment.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert storage.attachment_path(attachment) == path.resolve()
    assert (attachment.kind, attachment.filename, attachment.content_type, attachment.size) == (
        "statutes",
        "Satzung.pdf",
        "application/pdf",
        len(pdf),
    )
    assert attachment.uploaded_by_id == user.id
    assert attachment in application.attachments


def test_storing_writes_an_audit_row(application, upload_dir):
    user = application.created_by
    attachment = storage.store_attachment(
        application, "quote", upload(make_image("JPEG"), "Angebot.jpg", "image/jpeg"), user
    )

    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "application.attachment_added")
    )
    assert (event.object_type, event.object_id, event.actor_id) == (
        "application",
        application.id,
        user.id,
    )
    assert event.details["attachment_id"] == attachment.id
    assert event.details["sha256"] == attachment.sha256


def test_the_same_file_twice_gets_two_different_stored_names(application, upload_dir):
    user = application.created_by
    png = make_image("PNG")
    first = storage.store_attachment(application, "other", upload(png, "a.png"), user)
    second = storage.store_attachment(application, "other", upload(png, "a.png"), user)

    assert first.stored_name != second.stored_name
    assert len(files_in(upload_dir)) == 2


def test_a_refused_upload_writes_nothing(application, upload_dir):
    with pytest.raises(storage.UploadError):
        storage.store_attachment(
            application, "statutes", upload(b"<html></html>"), application.created_by
        )
    assert files_in(upload_dir) == []
    assert application.attachments == []


def test_an_unknown_kind_is_a_programming_error_and_writes_nothing(application, upload_dir):
    with pytest.raises(ValueError, match="unknown attachment kind"):
        storage.store_attachment(application, "selfie", upload(make_pdf()), application.created_by)
    assert files_in(upload_dir) == []


def test_when_the_flush_fails_the_written_file_is_removed(application, upload_dir):
    nobody = SimpleNamespace(id=2_000_000_000)  # violates the foreign key to user

    with pytest.raises(IntegrityError):
        storage.store_attachment(application, "statutes", upload(make_pdf()), nobody)

    assert files_in(upload_dir) == []
    db.session.rollback()


def test_a_rolled_back_upload_leaves_no_file(application, upload_dir):
    storage.store_attachment(application, "statutes", upload(make_pdf()), application.created_by)
    assert len(files_in(upload_dir)) == 1

    db.session.rollback()

    assert files_in(upload_dir) == []


def test_a_committed_upload_keeps_its_file(application, upload_dir):
    attachment = storage.store_attachment(
        application, "statutes", upload(make_pdf()), application.created_by
    )
    db.session.commit()  # in tests: releases the test's savepoint

    assert files_in(upload_dir) == [upload_dir / attachment.stored_name]


# --- delete_attachment -------------------------------------------------------------------------


def test_deleting_removes_the_row_at_once_and_the_file_after_the_commit(application, upload_dir):
    user = application.created_by
    attachment = storage.store_attachment(application, "statutes", upload(make_pdf()), user)
    db.session.commit()
    path = upload_dir / attachment.stored_name
    attachment_id = attachment.id

    storage.delete_attachment(attachment, user)

    assert db.session.get(Attachment, attachment_id) is None
    assert application.attachments == []
    assert path.exists()  # until the commit
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "application.attachment_removed")
    )
    assert event.object_id == application.id
    assert event.details["attachment_id"] == attachment_id

    db.session.commit()

    assert not path.exists()


def test_a_rolled_back_delete_keeps_the_file(application, upload_dir):
    user = application.created_by
    attachment = storage.store_attachment(application, "statutes", upload(make_pdf()), user)
    db.session.commit()
    path = upload_dir / attachment.stored_name

    storage.delete_attachment(attachment, user)
    db.session.rollback()

    assert path.exists()
    assert db.session.get(Attachment, attachment.id) is not None


# --- attachment_path ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stored_name",
    ["../../etc/passwd", "/etc/passwd", "..", "", "A" * 64, "a" * 63 + "/", "a" * 65],
)
def test_attachment_path_never_leaves_the_upload_folder(upload_dir, stored_name):
    with pytest.raises(ValueError):
        storage.attachment_path(Attachment(id=1, stored_name=stored_name))


def test_attachment_path_is_inside_the_upload_folder(upload_dir):
    name = "ab" * 32
    assert storage.attachment_path(Attachment(stored_name=name)) == upload_dir.resolve() / name
