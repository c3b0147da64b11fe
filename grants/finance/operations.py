"""Decisions as finance sees them: filter, payment state, exports, payouts. They flush."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from sqlalchemy import Select, and_, func, literal, select
from sqlalchemy.orm import contains_eager

from grants.applications.models import Application, search_condition
from grants.auth.models import User
from grants.core import audit
from grants.core.models import LOCAL_TIMEZONE, to_utc
from grants.core.money import ZERO
from grants.extensions import db
from grants.finance.models import Payout
from grants.letters.models import Letter, ProgrammeLetterSettings
from grants.letters.operations import letter_path
from grants.notifications.events import notify
from grants.programmes.models import Call, Programme
from grants.reviews.models import Decision

PAYMENT_STATES = ("open", "partly", "paid")
PAGE_SIZE = 25
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class FinanceError(Exception):
    """A finance action that cannot be done; `code` names the reason, `details` the figures."""

    def __init__(self, code: str, **details: Any):
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class DecisionFilter:
    """The filters of the finance list, as given in the URL."""

    programme_id: int | None = None
    call_id: int | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    payment: str | None = None
    q: str | None = None


def _paid_sum() -> Select:
    """The sum of payouts (0 without any); add the decision's condition."""
    return select(func.coalesce(func.sum(Payout.amount), literal(ZERO)))


def paid_total_column():
    """The sum of a decision's payouts, as a correlated scalar subquery."""
    return (
        _paid_sum().where(Payout.decision_id == Decision.id).correlate(Decision).scalar_subquery()
    )


def _berlin_day_start(day: date) -> datetime:
    return to_utc(datetime.combine(day, time.min))


def decisions_query(filters: DecisionFilter) -> Select:
    """Signed-off decisions with their application, organisation, call, programme and paid sum."""
    paid = paid_total_column()
    query = (
        select(Decision, paid.label("paid"))
        .join(Decision.application)
        .join(Application.organisation)
        .join(Application.call)
        .join(Call.programme)
        .options(
            contains_eager(Decision.application).contains_eager(Application.organisation),
            contains_eager(Decision.application)
            .contains_eager(Application.call)
            .contains_eager(Call.programme),
        )
        .where(Decision.state == "signed_off")
    )
    if filters.programme_id:
        query = query.where(Call.programme_id == filters.programme_id)
    if filters.call_id:
        query = query.where(Application.call_id == filters.call_id)
    if filters.kind:
        query = query.where(Decision.kind == filters.kind)
    if filters.date_from:
        query = query.where(Decision.signed_off_at >= _berlin_day_start(filters.date_from))
    if filters.date_to:
        query = query.where(
            Decision.signed_off_at < _berlin_day_start(filters.date_to + timedelta(days=1))
        )
    if filters.payment:
        query = query.where(Decision.kind != "rejection")
        if filters.payment == "open":
            query = query.where(paid == 0)
        elif filters.payment == "partly":
            query = query.where(paid > 0, paid < Decision.amount)
        elif filters.payment == "paid":
            query = query.where(paid >= Decision.amount)
    if filters.q:
        query = query.where(search_condition(filters.q))
    return query.order_by(Decision.signed_off_at.desc(), Decision.id.desc())


@dataclass(frozen=True)
class DecisionRow:
    """One line of the finance list."""

    decision: Decision
    paid: Decimal

    @property
    def application(self) -> Application:
        return self.decision.application

    @property
    def open_amount(self) -> Decimal:
        return max((self.decision.amount or ZERO) - self.paid, ZERO)

    @property
    def payment_state(self) -> str | None:
        """'open', 'partly' or 'paid' for approvals; None for rejections."""
        return payment_state(self.decision, self.paid)


def payment_state(decision: Decision, paid: Decimal) -> str | None:
    """How much of an approval has been paid: 'open', 'partly' or 'paid' (None: rejection)."""
    if decision.kind == "rejection" or decision.amount is None:
        return None
    if paid <= ZERO:
        return "open"
    return "paid" if paid >= decision.amount else "partly"


@dataclass(frozen=True)
class DecisionPage:
    rows: list[DecisionRow]
    total: int
    page: int
    pages: int


def decision_page(
    filters: DecisionFilter, page: int = 1, per_page: int | None = None
) -> DecisionPage:
    """One page of the filtered decisions, newest sign-off first (PAGE_SIZE to a page)."""
    per_page = per_page or PAGE_SIZE
    query = decisions_query(filters)
    total = db.session.scalar(
        select(func.count()).select_from(query.with_only_columns(Decision.id).subquery())
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    rows = [DecisionRow(decision, paid) for decision, paid in result.unique()]
    return DecisionPage(rows, total, page, pages)


def _newest_letters(decision_ids: list[int] | Select) -> Select:
    """The newest letter of each of the decisions (ids as a list or a subquery)."""
    newest = (
        select(Letter.decision_id, func.max(Letter.version).label("version"))
        .where(Letter.decision_id.in_(decision_ids))
        .group_by(Letter.decision_id)
        .subquery()
    )
    return select(Letter).join(
        newest,
        and_(Letter.decision_id == newest.c.decision_id, Letter.version == newest.c.version),
    )


def latest_letters(decision_ids: Iterable[int]) -> dict[int, Letter]:
    """The newest letter of each decision (decisions without one are missing)."""
    ids = list(decision_ids)
    if not ids:
        return {}
    return {letter.decision_id: letter for letter in db.session.scalars(_newest_letters(ids))}


def letters_in_filter(filters: DecisionFilter) -> list[tuple[str, str]]:
    """(file name in the ZIP, stored path) of the newest letter of every filtered decision."""
    decisions = decisions_query(filters).with_only_columns(Decision.id).subquery()
    rows = db.session.scalars(
        _newest_letters(select(decisions.c.id)).order_by(Letter.reference, Letter.version)
    )
    return [(letter.filename, str(letter_path(letter))) for letter in rows]


# --- exports ---------------------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are collected and handed out by the ZIP generator."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


ZIP_CHUNK = 256 * 1024


def stream_zip(files: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """A ZIP of the files, produced piece by piece: memory stays flat however many files.

    PDFs are compressed already, so entries are stored; every file is read in chunks.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        # Names are unique: they carry the reference and the version (unique per application).
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=datetime.now(LOCAL_TIMEZONE).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with open(path, "rb") as source, zf.open(info, mode="w", force_zip64=True) as entry:
                while chunk := source.read(ZIP_CHUNK):
                    entry.write(chunk)
                    if pipe.chunks:
                        yield pipe.drain()
            if pipe.chunks:
                yield pipe.drain()
    if pipe.chunks:  # the central directory, written on close
        yield pipe.drain()


EXPORT_COLUMNS = (
    "Aktenzeichen",
    "Organisation",
    "IBAN",
    "Betrag",
    "Bewilligungsdatum",
    "Förderprogramm",
    "Haushaltsstelle",
)


def export_rows(filters: DecisionFilter) -> Iterator[tuple]:
    """The filtered approvals for payment: reference, organisation, IBAN, amount, date, ..."""
    query = (
        decisions_query(filters)
        .where(Decision.kind != "rejection")
        .add_columns(ProgrammeLetterSettings.budget_item)
        .outerjoin(ProgrammeLetterSettings, ProgrammeLetterSettings.programme_id == Programme.id)
    )
    for decision, _paid, budget_item in db.session.execute(query).unique():
        application = decision.application
        yield (
            application.reference,
            application.organisation.name,
            application.organisation.iban,
            decision.amount,
            decision.signed_off_at.astimezone(LOCAL_TIMEZONE).date(),
            application.call.programme.name,
            budget_item or "",
        )


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(neutralise(value))


def export_csv(filters: DecisionFilter) -> Iterator[str]:
    """The export as CSV for German spreadsheets: semicolons, decimal comma, UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for row in export_rows(filters):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_value(value) for value in row])
        yield buffer.getvalue()


def export_xlsx(filters: DecisionFilter) -> IO[bytes]:
    """The export as an XLSX workbook (written row by row), in a temporary file."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "in_memory": False}
    )
    sheet = workbook.add_worksheet("Auszahlungen")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00 [$€-407]"})
    day = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 28)
    sheet.set_column(3, 4, 14)
    sheet.set_column(5, 6, 30)
    sheet.write_row(0, 0, EXPORT_COLUMNS, bold)
    for number, row in enumerate(export_rows(filters), start=1):
        reference, organisation, iban, amount, approved_on, programme, budget_item = row
        sheet.write_string(number, 0, reference)
        sheet.write_string(number, 1, neutralise(organisation))
        sheet.write_string(number, 2, iban)
        sheet.write_number(number, 3, float(amount), money)  # a number cell for the sheet
        sheet.write_datetime(number, 4, datetime.combine(approved_on, time.min), day)
        sheet.write_string(number, 5, neutralise(programme))
        sheet.write_string(number, 6, neutralise(budget_item))
    workbook.close()
    target.seek(0)
    return target


# --- payouts ---------------------------------------------------------------------------------


def paid_total(decision: Decision) -> Decimal:
    """What has been paid on a decision so far."""
    return db.session.scalar(_paid_sum().where(Payout.decision_id == decision.id))


def record_payout(
    decision: Decision, paid_on: date, amount: Decimal, booking_reference: str, actor: User
) -> Payout:
    """Record a payment; together with earlier ones never more than the approved amount."""
    # Concurrent payouts on one decision wait here, so their sum is checked one by one.
    db.session.execute(select(Decision.id).where(Decision.id == decision.id).with_for_update())
    if decision.state != "signed_off" or decision.kind == "rejection" or decision.amount is None:
        raise FinanceError("not_an_approval")
    if amount <= ZERO:
        raise FinanceError("amount_positive")
    already = paid_total(decision)
    remaining = decision.amount - already
    if amount > remaining:
        raise FinanceError(
            "above_approved", approved=decision.amount, paid=already, remaining=remaining
        )
    payout = Payout(
        decision_id=decision.id,
        paid_on=paid_on,
        amount=amount,
        booking_reference=booking_reference.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(payout)
    db.session.flush()
    audit.record(
        "finance.payout_recorded",
        decision.application,
        actor=actor,
        payout_id=payout.id,
        amount=str(amount),
        paid_on=paid_on.isoformat(),
        booking_reference=payout.booking_reference,
    )
    notify("payout_recorded", decision.application, actor)
    return payout
