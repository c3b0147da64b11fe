"""Attachment files: checked by content and size, stored outside the web root.

Files and rows must not drift apart, so file operations follow the transaction of the session:

- a new file is written before its row is flushed; if the flush fails the file is removed at
  once, and if the transaction later ends without a commit (rollback, or the session is closed)
  the file is removed then;
- a deleted attachment's file is removed only after the commit that deleted its row. A crash
  between commit and unlink leaves an orphaned file, which is harmless; the opposite order
  could leave a row whose file is gone.

Whenever the outcome is unclear (savepoints), the file is kept: an orphan costs disk space,
a missing file loses a document.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from grants.applications.models import Application, Attachment
from grants.auth.models import User
from grants.core import audit
from grants.core.transactions import on_commit, on_rollback
from grants.extensions import db
from grants.programmes.catalogue import ATTACHMENT_KINDS

MIB = 1024 * 1024
FILE_MODE = 0o640
DIR_MODE = 0o750
FALLBACK_STEM = "anhang"
STORED_NAME = re.compile(r"[0-9a-f]{64}")

# Detected type -> (content type, accepted file-name extensions, the first one is canonical).
TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg", ".jpe")),
    "png": ("image/png", (".png",)),
}
KNOWN_EXTENSIONS = {ext for _type, exts in TYPES.values() for ext in exts}
# Pillow's names; phone cameras often write JPEGs that Pillow opens as MPO (multi-picture).
PILLOW_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png"}

# Session.info keys: files written in / to be removed after the current transaction.


def _limit_message() -> str:
    limit = Decimal(current_app.config["UPLOAD_MAX_BYTES"]) / MIB
    return gettext(
        "The file is larger than %(limit)s MB.", limit=format_decimal(limit, format="#,##0.#")
    )


UPLOAD_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": LazyString(_limit_message),
    "type": _l("Only PDF, JPEG and PNG files are allowed. The file's content is not one of these."),
}


class UploadError(Exception):
    """An upload that is refused; `code` is a key of UPLOAD_MESSAGES."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CheckedFile:
    """An upload whose content was checked: type, size, digest, bytes and a safe file name."""

    content_type: str
    size: int
    sha256: str
    data: bytes
    filename: str


def _detect_type(data: bytes) -> str | None:
    """'pdf', 'jpeg' or 'png' judged by the bytes alone; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf" if b"%%EOF" in data[-1024:] else None
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            detected = PILLOW_FORMATS.get(image.format or "")
            image.verify()
    except Exception:  # Pillow raises many kinds of errors for broken files
        return None
    return detected


def safe_filename(filename: str | None, detected: str) -> str:
    """The uploaded name made safe for headers and disks, with an extension matching the type."""
    _content_type, extensions = TYPES[detected]
    # Some browsers send a full Windows path.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = os.path.splitext(name)
    if ext.lower() not in KNOWN_EXTENSIONS:
        stem, ext = name, ""  # "Satzung v1.2" keeps its ".2"
    stem = secure_filename(stem)[:200] or FALLBACK_STEM
    ext = ext.lower() if ext.lower() in extensions else extensions[0]
    return stem + ext


def check_upload(stream: IO[bytes], filename: str | None) -> CheckedFile:
    """Read and check an upload by its content; raise UploadError('empty'|'too_large'|'type')."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if stream.seekable():
        stream.seek(0)
    data = stream.read(limit + 1)
    if not data:
        raise UploadError("empty")
    if len(data) > limit:
        raise UploadError("too_large")
    detected = _detect_type(data)
    if detected is None:
        raise UploadError("type")
    return CheckedFile(
        content_type=TYPES[detected][0],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        filename=safe_filename(filename, detected),
    )


def upload_dir() -> Path:
    """The folder attachments are stored in (UPLOAD_DIR), resolved."""
    return Path(current_app.config["UPLOAD_DIR"]).resolve()


def attachment_path(attachment: Attachment) -> Path:
    """Where the attachment's file lives; never outside UPLOAD_DIR (ValueError otherwise)."""
    if not STORED_NAME.fullmatch(attachment.stored_name or ""):
        raise ValueError(f"invalid stored name for attachment {attachment.id}")
    root = upload_dir()
    path = (root / attachment.stored_name).resolve()
    if path.parent != root:
        raise ValueError(f"attachment {attachment.id} points outside the upload folder")
    return path


def _write_file(path: Path, data: bytes) -> None:
    """Create path exclusively with mode 0o640 and write data to disk."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), FILE_MODE)  # whatever the umask says
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def stored_path(stored_name: str, folder: str = "") -> Path:
    """Where a stored file lives (in UPLOAD_DIR or a folder of it); ValueError for a bad name."""
    if not STORED_NAME.fullmatch(stored_name or ""):
        raise ValueError("invalid stored name")
    return upload_dir() / folder / stored_name


@contextmanager
def new_stored_file(data: bytes, folder: str = "") -> Iterator[str]:
    """Write data under a new random name and yield the name for the row the block flushes.

    If the block fails the file is removed at once; if the transaction later ends without a
    commit, it is removed then.
    """
    stored_name = secrets.token_hex(32)
    path = stored_path(stored_name, folder)
    _write_file(path, data)
    try:
        yield stored_name
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    on_rollback(lambda: path.unlink(missing_ok=True))  # no row, no file


def store_attachment(
    application: Application, kind: str, upload: FileStorage, user: User
) -> Attachment:
    """Check the upload, store it under a random name and add the attachment row (flushed)."""
    if kind not in ATTACHMENT_KINDS:
        raise ValueError(f"unknown attachment kind {kind!r}")
    checked = check_upload(upload.stream, upload.filename)
    with new_stored_file(checked.data) as stored_name:
        attachment = Attachment(
            kind=kind,
            filename=checked.filename,
            stored_name=stored_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by_id=user.id,
        )
        application.attachments.append(attachment)
        db.session.flush()
        audit.record(
            "application.attachment_added",
            application,
            actor=user,
            attachment_id=attachment.id,
            kind=kind,
            filename=checked.filename,
            size=checked.size,
            sha256=checked.sha256,
        )
    return attachment


def delete_attachment(attachment: Attachment, user: User) -> None:
    """Delete the attachment row (flushed); its file is removed after the commit."""
    path = attachment_path(attachment)
    application = attachment.application
    details = {
        "attachment_id": attachment.id,
        "kind": attachment.kind,
        "filename": attachment.filename,
        "sha256": attachment.sha256,
    }
    application.attachments.remove(attachment)  # delete-orphan: the row goes on flush
    db.session.flush()
    audit.record("application.attachment_removed", application, actor=user, **details)
    on_commit(lambda: path.unlink(missing_ok=True))  # the row may come back on a rollback
