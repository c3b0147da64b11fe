"""The verbs of applications: they flush, the caller commits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import abort
from sqlalchemy import func, select

from grants.applications import workflow
from grants.applications.financing import calculate_grant
from grants.applications.models import (
    Application,
    ApplicationVersion,
    CostLine,
    ReferenceCounter,
    ThirdPartyFunding,
)
from grants.applications.sections import SECTIONS, problems
from grants.auth.models import User
from grants.core import audit
from grants.core.models import upsert, utcnow
from grants.core.money import cents
from grants.extensions import db
from grants.organisations.models import Membership, Organisation
from grants.organisations.operations import PROFILE_FIELDS
from grants.programmes.models import Call, LumpSumItem
from grants.reviews.operations import answer_change_request, open_change_request

PROJECT_FIELDS = (
    "title",
    "summary",
    "goals",
    "target_groups",
    "district",
    "location",
    "start_date",
    "end_date",
    "expected_participants",
    "volunteers",
)


class ApplicationError(Exception):
    """An action on an application that cannot be carried out; `code` names the reason."""

    def __init__(self, code: str, **details: Any):
        super().__init__(code)
        self.code = code
        self.details = details


def get_member_application_or_404(user: User, application_id: int) -> Application:
    """The application if the user is a member of its organisation; 404 otherwise."""
    application = db.session.scalar(
        select(Application)
        .join(Membership, Membership.organisation_id == Application.organisation_id)
        .where(Application.id == application_id, Membership.user_id == user.id)
    )
    if application is None:
        abort(404)
    return application


def get_submitted_application_or_404(application_id: int) -> Application:
    """An application once submitted, as staff see it; drafts and applications withdrawn before
    submission (no reference number) belong to the applicant alone: 404."""
    application = db.get_or_404(Application, application_id)
    if application.reference is None:
        abort(404)
    return application


def applications_of(user: User) -> list[Application]:
    """The applications of all the user's organisations, newest first."""
    return list(
        db.session.scalars(
            select(Application)
            .join(Membership, Membership.organisation_id == Application.organisation_id)
            .where(Membership.user_id == user.id)
            .order_by(Application.created_at.desc())
        )
    )


def organisation_snapshot(organisation: Organisation) -> dict[str, Any]:
    """The profile fields of an organisation as JSON."""
    data = {field: getattr(organisation, field) for field in PROFILE_FIELDS}
    if data["tax_exemption_date"] is not None:
        data["tax_exemption_date"] = data["tax_exemption_date"].isoformat()
    return data


def create_draft(call: Call, organisation: Organisation, user: User) -> Application:
    """Start an application, pre-filled with the organisation's profile."""
    if not call.is_open():
        raise ApplicationError("call_closed")
    application = Application(
        call=call,
        organisation=organisation,
        created_by=user,
        status="draft",
        organisation_data=organisation_snapshot(organisation),
        touched_sections=["organisation"],
        declarations={},
    )
    db.session.add(application)
    audit.record("application.created", application, actor=user, call_id=call.id)
    return application


def editable_sections(application: Application) -> set[str]:
    """The sections the applicant may change: all in a draft, the requested ones after a
    change request (all, if the request names none), none otherwise."""
    if application.status == "draft":
        return set(SECTIONS)
    if application.status == "changes_requested":
        change_request = open_change_request(application)
        named = set(change_request.sections) if change_request else set()
        return named or set(SECTIONS)
    return set()


def ensure_editable(application: Application, section: str) -> None:
    """Refuse changes to a section that is not open for editing."""
    if section not in editable_sections(application):
        raise ApplicationError("not_editable")


def _touch(application: Application, section: str) -> None:
    if section not in (application.touched_sections or []):
        application.touched_sections = [*(application.touched_sections or []), section]


def save_organisation_data(application: Application, data: dict[str, Any], user: User) -> None:
    """Store the organisation data given with this application."""
    ensure_editable(application, "organisation")
    data = dict(data)
    if data.get("tax_exemption_date") is not None:
        data["tax_exemption_date"] = data["tax_exemption_date"].isoformat()
    application.organisation_data = {field: data.get(field) for field in PROFILE_FIELDS}
    _touch(application, "organisation")
    audit.record("application.section_saved", application, actor=user, section="organisation")


def save_project(application: Application, data: dict[str, Any], user: User) -> None:
    """Store the project section (incomplete values are fine in a draft)."""
    ensure_editable(application, "project")
    for field in PROJECT_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    _touch(application, "project")
    audit.record("application.section_saved", application, actor=user, section="project")


def add_cost_line(
    application: Application,
    category: str,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    user: User,
) -> CostLine:
    """Add a line 'quantity × unit price' in an eligible category."""
    ensure_editable(application, "costs")
    if category not in application.call.programme.eligible_categories:
        raise ApplicationError("category_not_eligible")
    line = CostLine(
        category=category,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        amount=cents(quantity * unit_price),
    )
    application.cost_lines.append(line)
    _touch(application, "costs")
    audit.record(
        "application.cost_line_added",
        application,
        actor=user,
        category=category,
        amount=str(line.amount),
    )
    return line


def add_lump_sum(application: Application, item: LumpSumItem, units: int, user: User) -> CostLine:
    """Add units of a catalogue lump sum; the catalogue fixes the price and the maximum."""
    ensure_editable(application, "costs")
    if item.programme_id != application.call.programme_id:
        raise ApplicationError("lump_sum_unknown")
    already = sum(
        int(line.quantity) for line in application.cost_lines if line.lump_sum_item_id == item.id
    )
    if item.max_units is not None and already + units > item.max_units:
        raise ApplicationError("lump_sum_max", max_units=item.max_units, already=already)
    line = CostLine(
        category="lump_sum",
        description=f"{item.code} {item.label}",
        quantity=Decimal(units),
        unit_price=item.amount,
        amount=cents(item.amount * units),
        lump_sum_item=item,
    )
    application.cost_lines.append(line)
    _touch(application, "costs")
    audit.record(
        "application.cost_line_added",
        application,
        actor=user,
        category="lump_sum",
        item=item.code,
        amount=str(line.amount),
    )
    return line


def remove_cost_line(application: Application, line: CostLine, user: User) -> None:
    """Delete a line of the cost plan."""
    ensure_editable(application, "costs")
    application.cost_lines.remove(line)
    audit.record(
        "application.cost_line_removed",
        application,
        actor=user,
        description=line.description,
        amount=str(line.amount),
    )


def save_financing(application: Application, data: dict[str, Any], user: User) -> None:
    """Store own funds, fees, the requested grant and the third-party funds."""
    ensure_editable(application, "financing")
    application.own_funds = data.get("own_funds")
    application.participant_fees = data.get("participant_fees")
    application.requested_grant = data.get("requested_grant")
    application.third_party_funds = [
        ThirdPartyFunding(
            source=row["source"], amount=row["amount"], approved=bool(row.get("approved"))
        )
        for row in data.get("third_party_funds", [])
        if row.get("source") and row.get("amount") is not None
    ]
    _touch(application, "financing")
    audit.record("application.section_saved", application, actor=user, section="financing")


def save_declarations(
    application: Application,
    declared: dict[str, bool],
    input_tax_deduction: bool | None,
    user: User,
) -> None:
    """Store which declarations were confirmed and the input-tax answer."""
    ensure_editable(application, "declarations")
    application.declarations = {code: bool(value) for code, value in declared.items()}
    application.input_tax_deduction = input_tax_deduction
    _touch(application, "declarations")
    audit.record("application.section_saved", application, actor=user, section="declarations")


def next_reference(code: str, year: int) -> str:
    """The next reference number, e.g. KOMMAN-2026-0042; atomic under concurrent submissions."""
    statement = (
        upsert(ReferenceCounter)
        .values(code=code, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["code", "year"],
            set_={"last_number": ReferenceCounter.last_number + 1},
        )
        .returning(ReferenceCounter.last_number)
    )
    number = db.session.execute(statement).scalar_one()
    return f"{code}-{year}-{number:04d}"


def snapshot(application: Application) -> dict[str, Any]:
    """Everything the applicant submitted, as JSON, for the frozen version."""

    def money(value):
        return None if value is None else str(value)

    def day(value):
        return None if value is None else value.isoformat()

    calculation = calculate_grant(application)
    return {
        "reference": application.reference,
        "call": {
            "id": application.call_id,
            "title": application.call.title,
            "programme": application.call.programme.name,
            "programme_code": application.call.programme.code,
        },
        "organisation": application.organisation_data,
        "project": {
            **{
                f: getattr(application, f)
                for f in PROJECT_FIELDS
                if f not in ("start_date", "end_date")
            },
            "start_date": day(application.start_date),
            "end_date": day(application.end_date),
        },
        "cost_lines": [
            {
                "category": line.category,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
                "lump_sum": line.lump_sum_item.code if line.lump_sum_item else None,
            }
            for line in application.cost_lines
        ],
        "total_costs": money(application.total_costs),
        "financing": {
            "own_funds": money(application.own_funds),
            "participant_fees": money(application.participant_fees),
            "third_party_funds": [
                {"source": f.source, "amount": money(f.amount), "approved": f.approved}
                for f in application.third_party_funds
            ],
            "requested_grant": money(application.requested_grant),
            "largest_possible_grant": money(calculation.grant),
        },
        "attachments": [
            {"id": a.id, "kind": a.kind, "filename": a.filename, "size": a.size, "sha256": a.sha256}
            for a in application.attachments
        ],
        "declarations": application.declarations,
        "input_tax_deduction": application.input_tax_deduction,
    }


def submit_application(
    application: Application,
    user: User,
    seen_status: str | None = None,
    now: datetime | None = None,
) -> ApplicationVersion:
    """Validate, freeze a version, give a reference number and move to 'submitted'."""
    now = now or utcnow()
    # The deadline binds the first submission; answers to a change request may come later.
    if application.status == "draft" and not application.call.is_open(now):
        raise ApplicationError("call_closed")
    found = problems(application)
    if found:
        raise ApplicationError("incomplete", problems=found)
    if application.reference is None:
        application.reference = next_reference(application.call.programme.code, now.year)
    answer_change_request(application)
    application.submitted_at = now
    workflow.apply_transition(application, "submit", user, seen_status=seen_status)
    number = (
        db.session.scalar(
            select(func.max(ApplicationVersion.number)).where(
                ApplicationVersion.application_id == application.id
            )
        )
        or 0
    ) + 1
    version = ApplicationVersion(
        application=application,
        number=number,
        submitted_at=now,
        submitted_by=user,
        snapshot=snapshot(application),
    )
    db.session.add(version)
    return version


def withdraw_application(
    application: Application, user: User, seen_status: str | None = None
) -> None:
    """Withdraw the application before a decision."""
    workflow.apply_transition(application, "withdraw", user, seen_status=seen_status)
