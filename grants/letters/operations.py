"""The verbs of decision letters: queue, issue, store, verify; settings and annexes. They flush."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pikepdf
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from grants.applications.models import Application
from grants.applications.storage import UploadError, check_upload, new_stored_file, stored_path
from grants.auth.models import User
from grants.core import audit
from grants.core.models import LOCAL_TIMEZONE, utcnow
from grants.core.outbox import OutboxMessage, queue_task
from grants.core.urls import external_url
from grants.extensions import db
from grants.letters import rendering
from grants.letters.models import Letter, LetterSettings, ProgrammeAnnex, ProgrammeLetterSettings
from grants.notifications.events import notify
from grants.programmes.catalogue import COST_CATEGORIES, label
from grants.programmes.models import Programme
from grants.reviews.models import Decision
from grants.reviews.operations import admitted_amount, latest_decision

RENDER_TASK = "letters.render"
LETTER_DIR = "letters"
ANNEX_DIR = "annexes"
LOGO_DIR = "logos"
# Crockford's base32 without the look-alikes I, L, O, U.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
SUMMARY_LIMIT = 1500  # characters of the project summary quoted in the letter

FINANCING_TYPES_DE = {
    "shortfall": "Fehlbedarfsfinanzierung",
    "share": "Anteilfinanzierung",
    "fixed": "Festbetragsfinanzierung",
    "full": "Vollfinanzierung",
}

# Every text an administrator may change, with the default used while a field is empty.
DEFAULTS: dict[str, str] = {
    "authority_name": "Stadt Leverkusen",
    "authority_unit": "Kommunales Integrationszentrum",
    "authority_address": "Friedrich-Ebert-Platz 1\n51373 Leverkusen",
    "return_address": "Stadt Leverkusen · KI · Friedrich-Ebert-Platz 1 · 51373 Leverkusen",
    "contact_name": "Sachgebiet Integrationsförderung",
    "contact_phone": "0214 406-0",
    "contact_email": "integrationszentrum@leverkusen.example",
    "signatory_name": "Leitung des Kommunalen Integrationszentrums",
    "signatory_title": "Im Auftrag",
    "payout_text": (
        "Die Zuwendung wird auf Anforderung (Mittelabruf) ausgezahlt. Sie darf nur insoweit und "
        "nicht eher angefordert werden, als sie innerhalb von zwei Monaten nach der Auszahlung "
        "für fällige Zahlungen benötigt wird (Nr. 1.4 ANBest-P). Der Mittelabruf ist über das "
        "Förderportal einzureichen."
    ),
    "conditions_text": (
        "Die Allgemeinen Nebenbestimmungen für Zuwendungen zur Projektförderung (ANBest-P) sind "
        "Bestandteil dieses Bescheides. Die Zuwendung ist wirtschaftlich und sparsam zu "
        "verwenden. Änderungen des Vorhabens, des Finanzierungsplans oder des "
        "Bewilligungszeitraums sind unverzüglich schriftlich mitzuteilen."
    ),
    "proof_of_use_text": (
        "Der Verwendungsnachweis besteht aus einem Sachbericht und einem zahlenmäßigen Nachweis "
        "mit einer Belegliste (Datum, Empfänger, Zweck, Betrag)."
    ),
    "rejection_text": (
        "Auf die Gewährung einer Zuwendung besteht kein Rechtsanspruch. Die Bewilligungsbehörde "
        "entscheidet aufgrund ihres pflichtgemäßen Ermessens im Rahmen der verfügbaren "
        "Haushaltsmittel."
    ),
    "remedy_text": (
        "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Klage erhoben "
        "werden. Die Klage ist schriftlich beim Verwaltungsgericht Köln, Appellhofplatz, "
        "50667 Köln, einzureichen oder zur Niederschrift der Urkundsbeamtin oder des "
        "Urkundsbeamten der Geschäftsstelle dieses Gerichts zu erklären. Die Klage kann auch "
        "durch Übertragung eines elektronischen Dokuments an die elektronische Poststelle des "
        "Gerichts erhoben werden."
    ),
    "closing_text": "Mit freundlichen Grüßen",
    "footer_text": (
        "Stadt Leverkusen · Kommunales Integrationszentrum · Friedrich-Ebert-Platz 1 · "
        "51373 Leverkusen · www.leverkusen.de"
    ),
}


class LetterError(Exception):
    """A letter action that cannot be done; `code` names the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- settings --------------------------------------------------------------------------------


def letter_settings() -> LetterSettings:
    """The settings row (created empty on first use, flushed)."""
    settings = db.session.get(LetterSettings, 1)
    if settings is None:
        settings = LetterSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def effective_settings() -> dict[str, str]:
    """Every setting with its default where the administrator left it empty."""
    return _with_defaults(db.session.get(LetterSettings, 1))


def _with_defaults(settings: LetterSettings | None) -> dict[str, str]:
    values = dict(DEFAULTS)
    if settings is not None:
        for name in DEFAULTS:
            value = getattr(settings, name)
            if value and value.strip():
                values[name] = value.strip()
    return values


def update_settings(values: dict[str, str | None], actor: User) -> LetterSettings:
    """Store the administrator's texts (empty: back to the default)."""
    settings = letter_settings()
    changed = []
    for name in DEFAULTS:
        if name in values:
            value = (values[name] or "").strip() or None
            if value != getattr(settings, name):
                setattr(settings, name, value)
                changed.append(name)
    settings.updated_by_id = actor.id
    db.session.flush()
    audit.record("letters.settings_updated", settings, actor=actor, fields=changed)
    return settings


def set_logo(upload: FileStorage, actor: User) -> LetterSettings:
    """Store an uploaded PNG or JPEG as the letterhead logo (checked by content)."""
    checked = check_upload(upload.stream, upload.filename)
    if checked.content_type not in ("image/png", "image/jpeg"):
        raise UploadError("type")
    settings = letter_settings()
    with new_stored_file(checked.data, LOGO_DIR) as stored_name:
        settings.logo_stored_name = stored_name
        settings.logo_content_type = checked.content_type
        settings.updated_by_id = actor.id
        db.session.flush()
    audit.record("letters.logo_set", settings, actor=actor, sha256=checked.sha256)
    return settings


def remove_logo(actor: User) -> None:
    """Go back to the bundled letterhead without a picture."""
    settings = letter_settings()
    settings.logo_stored_name = None
    settings.logo_content_type = None
    settings.updated_by_id = actor.id
    db.session.flush()
    audit.record("letters.logo_removed", settings, actor=actor)


def programme_settings(programme: Programme) -> ProgrammeLetterSettings:
    """The programme's letter settings row (created empty on first use)."""
    row = db.session.get(ProgrammeLetterSettings, programme.id)
    if row is None:
        row = ProgrammeLetterSettings(programme_id=programme.id)
        db.session.add(row)
        db.session.flush()
    return row


def update_programme_settings(
    programme: Programme, values: dict[str, str | None], actor: User
) -> ProgrammeLetterSettings:
    """The programme's budget item and its own signatory (empty: the general one)."""
    row = programme_settings(programme)
    for name in ("budget_item", "signatory_name", "signatory_title"):
        setattr(row, name, (values.get(name) or "").strip() or None)
    db.session.flush()
    audit.record(
        "letters.programme_settings_updated",
        programme,
        actor=actor,
        budget_item=row.budget_item,
        signatory_name=row.signatory_name,
    )
    return row


def add_annex(programme: Programme, title: str, upload: FileStorage, actor: User) -> ProgrammeAnnex:
    """Store an uploaded PDF (checked by content, readable, no encryption) as an annex."""
    checked = check_upload(upload.stream, upload.filename)
    if checked.content_type != "application/pdf":
        raise UploadError("type")
    try:
        with pikepdf.open(io.BytesIO(checked.data)) as pdf:
            if pdf.is_encrypted:
                raise LetterError("annex_encrypted")
            page_count = len(pdf.pages)
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                pdfa = bool(meta.pdfa_status)
    except pikepdf.PdfError as error:
        raise UploadError("type") from error
    if page_count == 0:
        raise UploadError("type")
    with new_stored_file(checked.data, ANNEX_DIR) as stored_name:
        annex = ProgrammeAnnex(
            programme_id=programme.id,
            title=title.strip(),
            filename=checked.filename,
            stored_name=stored_name,
            size=checked.size,
            sha256=checked.sha256,
            page_count=page_count,
            pdfa=pdfa,
            uploaded_by_id=actor.id,
        )
        db.session.add(annex)
        db.session.flush()
    audit.record(
        "letters.annex_added",
        programme,
        actor=actor,
        annex_id=annex.id,
        title=annex.title,
        sha256=annex.sha256,
    )
    return annex


def remove_annex(annex: ProgrammeAnnex, actor: User) -> None:
    """Stop appending the annex to new letters (issued letters keep their copy)."""
    programme = annex.programme
    details = {"annex_id": annex.id, "title": annex.title, "sha256": annex.sha256}
    db.session.delete(annex)
    db.session.flush()
    audit.record("letters.annex_removed", programme, actor=actor, **details)


# --- issuing ---------------------------------------------------------------------------------


def signed_off_decision(application: Application) -> Decision | None:
    """The application's latest signed-off decision, if any."""
    return latest_decision(application, "signed_off")


def queue_letter(application: Application, actor: User) -> OutboxMessage:
    """Ask the document worker (after commit) to issue the letter of the signed-off decision."""
    decision = signed_off_decision(application)
    if decision is None:
        raise LetterError("no_decision")
    db.session.flush()
    message = queue_task(RENDER_TASK, {"decision_id": decision.id, "actor_id": actor.id})
    audit.record("letters.queued", application, actor=actor, decision_id=decision.id)
    return message


def new_verification_code() -> str:
    """A short random code, e.g. 'K7M2Q-9XH4T' (about 50 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(text: str | None) -> str | None:
    """A typed code in its stored form (case, blanks and look-alike letters forgiven)."""
    raw = re.sub(r"[\s\-]", "", (text or "").upper()).translate(str.maketrans("ILO", "110"))
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"


def add_months(day: date, months: int) -> date:
    """The same day some months later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | datetime | None) -> str | None:
    """An ISO date; a moment counts on its day in Europe/Berlin."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TIMEZONE).date()
    return value.isoformat()


def _shorten(text: str | None, limit: int) -> tuple[str, bool]:
    text = (text or "").strip()
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + " …", True


def build_snapshot(
    decision: Decision,
    version: int,
    code: str,
    annexes: list[ProgrammeAnnex],
    settings: LetterSettings | None,
) -> dict[str, Any]:
    """Everything the letter shows, as JSON-ready values: the letter is made from this alone."""
    application = decision.application
    organisation = application.organisation
    call = application.call
    programme = call.programme
    texts = _with_defaults(settings)
    own = db.session.get(ProgrammeLetterSettings, programme.id)
    if own is not None and own.signatory_name:
        texts["signatory_name"] = own.signatory_name
        texts["signatory_title"] = own.signatory_title or texts["signatory_title"]
    issued_at = utcnow()
    summary, shortened = _shorten(application.summary, SUMMARY_LIMIT)
    costs = []
    for line in application.cost_lines:
        admitted = admitted_amount(line)
        costs.append(
            {
                "category": label(COST_CATEGORIES, line.category),
                "description": line.description,
                "requested": str(line.amount),
                "admitted": str(admitted),
                "reason": line.review.reason if line.review and admitted < line.amount else None,
            }
        )
    proof_due = (
        add_months(decision.period_end, programme.proof_of_use_months)
        if decision.period_end
        else None
    )
    snapshot: dict[str, Any] = {
        "format": 1,
        "kind": decision.kind,
        "reference": application.reference,
        "version": version,
        "issued_at": issued_at.isoformat(),
        "issued_on": _day(issued_at),
        "verification_code": code,
        "verify_url": external_url("letters.verify", code=code),
        "authority": {
            "name": texts["authority_name"],
            "unit": texts["authority_unit"],
            "address": texts["authority_address"],
            "return_address": texts["return_address"],
            "contact_name": texts["contact_name"],
            "contact_phone": texts["contact_phone"],
            "contact_email": texts["contact_email"],
            "signatory_name": texts["signatory_name"],
            "signatory_title": texts["signatory_title"],
            "footer": texts["footer_text"],
            "has_logo": bool(settings and settings.logo_stored_name),
        },
        "texts": {
            name: texts[name]
            for name in (
                "payout_text",
                "conditions_text",
                "proof_of_use_text",
                "rejection_text",
                "remedy_text",
                "closing_text",
            )
        },
        "recipient": {
            "name": organisation.name,
            "contact_name": organisation.contact_name,
            "street": organisation.street,
            "postcode": organisation.postcode,
            "city": organisation.city,
        },
        "payment": {
            "iban": organisation.iban,
            "account_holder": organisation.account_holder,
        },
        "application": {
            "title": application.title,
            "summary": summary,
            "summary_shortened": shortened,
            "submitted_on": _day(application.submitted_at),
            "start_date": _day(application.start_date),
            "end_date": _day(application.end_date),
            "requested_grant": _money(application.requested_grant),
            "total_costs": str(application.total_costs),
        },
        "programme": {
            "name": programme.name,
            "code": programme.code,
            "legal_basis": programme.legal_basis,
            "financing_type": programme.financing_type,
            "financing_type_label": FINANCING_TYPES_DE.get(
                programme.financing_type, programme.financing_type
            ),
            "share_rate": _money(programme.share_rate),
            "max_grant": _money(programme.max_grant),
            "proof_of_use_months": programme.proof_of_use_months,
        },
        "call": {"title": call.title},
        "decision": {
            "id": decision.id,
            "amount": _money(decision.amount),
            "amount_words": rendering.euro_words(decision.amount)
            if decision.amount is not None
            else None,
            "period_start": _day(decision.period_start),
            "period_end": _day(decision.period_end),
            "reasons": decision.reasons,
            "conditions": decision.conditions,
            "computed_grant": _money(decision.computed_grant),
            "admitted_costs": decision.calculation.get("admitted_costs"),
            "signed_off_on": _day(decision.signed_off_at),
        },
        "costs": costs,
        "proof_of_use_due": _day(proof_due),
        "annexes": [
            {"title": annex.title, "pages": annex.page_count, "sha256": annex.sha256}
            for annex in annexes
        ],
        "template_version": rendering.template_version(),
    }
    return snapshot


def _logo(settings: LetterSettings | None) -> tuple[bytes, str] | None:
    if settings is None or not settings.logo_stored_name:
        return None
    path = stored_path(settings.logo_stored_name, LOGO_DIR)
    return path.read_bytes(), settings.logo_content_type or "image/png"


def issue_letter(decision: Decision, actor: User | None) -> Letter:
    """Render, store and record the next version of the decision's letter (flushed)."""
    if decision.state != "signed_off":
        raise LetterError("not_signed_off")
    application = decision.application
    # Versions per application are counted under a lock of the application row.
    db.session.execute(
        select(Application.id).where(Application.id == application.id).with_for_update()
    )
    version = (
        db.session.scalar(
            select(func.max(Letter.version)).where(Letter.application_id == application.id)
        )
        or 0
    ) + 1
    annexes = list(application.call.programme.annexes) if decision.kind != "rejection" else []
    code = new_verification_code()
    while db.session.scalar(select(Letter.id).where(Letter.verification_code == code)):
        code = new_verification_code()  # pragma: no cover - 2^50 codes
    settings = db.session.get(LetterSettings, 1)  # read once for the texts and the logo
    snapshot = build_snapshot(decision, version, code, annexes, settings)
    rendered = rendering.render_letter(
        snapshot,
        logo=_logo(settings),
        annexes=[stored_path(annex.stored_name, ANNEX_DIR) for annex in annexes],
    )
    with new_stored_file(rendered.pdf, LETTER_DIR) as stored_name:
        letter = Letter(
            application_id=application.id,
            decision_id=decision.id,
            version=version,
            kind=decision.kind,
            reference=application.reference,
            issued_at=datetime.fromisoformat(snapshot["issued_at"]),
            issued_by_id=actor.id if actor else None,
            verification_code=code,
            stored_name=stored_name,
            size=len(rendered.pdf),
            sha256=rendered.sha256,
            page_count=rendered.page_count,
            template_version=snapshot["template_version"],
            snapshot=snapshot,
        )
        db.session.add(letter)
        db.session.flush()
    audit.record(
        "letters.issued",
        application,
        actor=actor,
        letter_id=letter.id,
        version=version,
        sha256=letter.sha256,
        template_version=letter.template_version,
    )
    return letter


def issue_from_outbox(message_id: int) -> Letter | None:
    """Issue the letter an outbox row asks for, once; the applicant and finance are told."""
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != "pending":
        return None  # done already (a second delivery of the task) or gone
    message.attempts += 1
    decision = db.session.get(Decision, message.payload["decision_id"])
    actor = db.session.get(User, message.payload.get("actor_id") or 0)
    if decision is None:
        raise LetterError("no_decision")
    letter = issue_letter(decision, actor)
    message.status = "done"
    message.processed_at = utcnow()
    message.last_error = None
    notify("letter_issued", decision.application, actor)
    db.session.flush()
    return letter


def letter_path(letter: Letter) -> Path:
    """The stored PDF of a letter."""
    return stored_path(letter.stored_name, LETTER_DIR)


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What the public verification page may tell: only reference, date and kind."""

    reference: str
    issued_at: Any
    kind: str
    version: int


def _public(letter: Letter | None) -> Verification | None:
    if letter is None:
        return None
    return Verification(letter.reference, letter.issued_at, letter.kind, letter.version)


def verify_code(text: str | None) -> Verification | None:
    """The letter with this verification code, if any."""
    code = normalise_code(text)
    if code is None:
        return None
    return _public(db.session.scalar(select(Letter).where(Letter.verification_code == code)))


def verify_file(stream: IO[bytes], limit: int) -> Verification | None:
    """The letter whose stored PDF is byte for byte this file (SHA-256), if any.

    LetterError('too_large' | 'empty' | 'type') when the upload cannot be a letter.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := stream.read(64 * 1024):
        if not head:
            head = chunk[:8]
        size += len(chunk)
        if size > limit:
            raise LetterError("too_large")
        digest.update(chunk)
    if size == 0:
        raise LetterError("empty")
    if not head.startswith(b"%PDF-"):
        raise LetterError("type")
    return _public(db.session.scalar(select(Letter).where(Letter.sha256 == digest.hexdigest())))
