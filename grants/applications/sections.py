"""The sections of an application, their state, and what is missing before submission."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_currency, format_date
from flask_babel import lazy_gettext as _l

from grants.applications.financing import GrantCalculation, calculate_grant
from grants.programmes.catalogue import ATTACHMENT_KINDS, DECLARATIONS

SECTIONS = {
    "organisation": _l("Organisation data"),
    "project": _l("Project"),
    "costs": _l("Cost plan"),
    "financing": _l("Financing plan"),
    "attachments": _l("Attachments"),
    "declarations": _l("Declarations"),
}

ORGANISATION_REQUIRED = {
    "name": _l("Name of the organisation"),
    "legal_form": _l("Legal form"),
    "street": _l("Street and number"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"),
    "account_holder": _l("Account holder"),
    "iban": _l("IBAN"),
}

PROJECT_REQUIRED = {
    "title": _l("Project title"),
    "summary": _l("Summary"),
    "goals": _l("Goals"),
    "target_groups": _l("Target groups"),
    "district": _l("City district"),
    "location": _l("Location"),
    "start_date": _l("Project start"),
    "end_date": _l("Project end"),
    "expected_participants": _l("Expected participants"),
}


@dataclass(frozen=True)
class Problem:
    """Something missing or wrong: which section, which field (anchor), and the message."""

    section: str
    field: str
    message: str


def problems(application, calculation: GrantCalculation | None = None) -> list[Problem]:
    """Everything that stops the application from being submitted, section by section
    (`calculation`: the application's grant calculation, when the caller has it already)."""
    found: list[Problem] = []
    data = application.organisation_data or {}
    for name, label in ORGANISATION_REQUIRED.items():
        if not data.get(name):
            found.append(
                Problem("organisation", name, str(_l("%(field)s is missing.", field=label)))
            )

    for name, label in PROJECT_REQUIRED.items():
        if getattr(application, name) in (None, ""):
            found.append(Problem("project", name, str(_l("%(field)s is missing.", field=label))))
    call = application.call
    if application.start_date and application.start_date < call.project_start:
        found.append(
            Problem(
                "project",
                "start_date",
                str(
                    _l(
                        "The project may start on %(date)s at the earliest.",
                        date=format_date(call.project_start),
                    )
                ),
            )
        )
    if application.end_date and application.end_date > call.project_end:
        found.append(
            Problem(
                "project",
                "end_date",
                str(_l("The project must end by %(date)s.", date=format_date(call.project_end))),
            )
        )

    if not application.cost_lines:
        found.append(Problem("costs", "cost-lines", str(_l("The cost plan has no lines yet."))))

    if application.requested_grant is None:
        found.append(
            Problem("financing", "requested_grant", str(_l("Requested grant is missing.")))
        )
    elif application.cost_lines:
        calculation = calculation or calculate_grant(application)
        if application.total_financing != application.total_costs:
            found.append(
                Problem(
                    "financing",
                    "requested_grant",
                    str(
                        _l(
                            "Costs (%(costs)s) and financing (%(financing)s) must be equal.",
                            costs=format_currency(application.total_costs, "EUR"),
                            financing=format_currency(application.total_financing, "EUR"),
                        )
                    ),
                )
            )
        if application.requested_grant > calculation.grant:
            found.append(
                Problem(
                    "financing",
                    "requested_grant",
                    str(
                        _l(
                            "The requested grant is higher than the largest possible grant "
                            "of %(grant)s.",
                            grant=format_currency(calculation.grant, "EUR"),
                        )
                    ),
                )
            )
        if calculation.below_minimum:
            found.append(
                Problem(
                    "financing",
                    "requested_grant",
                    str(_l("The grant would be below the programme minimum.")),
                )
            )

    present = {a.kind for a in application.attachments}
    for kind in application.call.programme.required_attachments:
        if kind not in present:
            found.append(
                Problem(
                    "attachments",
                    f"attachment-{kind}",
                    str(_l("Attachment missing: %(kind)s", kind=ATTACHMENT_KINDS.get(kind, kind))),
                )
            )

    declared = application.declarations or {}
    for code in application.call.programme.required_declarations:
        if not declared.get(code):
            found.append(
                Problem(
                    "declarations",
                    f"declaration_{code}",
                    str(
                        _l("Declaration not confirmed: %(text)s", text=DECLARATIONS.get(code, code))
                    ),
                )
            )
    if application.input_tax_deduction is None:
        found.append(
            Problem(
                "declarations",
                "input_tax_deduction",
                str(_l("Please state whether you may deduct input tax.")),
            )
        )
    return found


def section_states(application) -> dict[str, str]:
    """'complete' when nothing is missing, else 'in_progress' once saved, else 'not_started'."""
    open_sections = {p.section for p in problems(application)}
    touched = set(application.touched_sections or [])
    return {
        section: "complete"
        if section not in open_sections
        else "in_progress"
        if section in touched
        else "not_started"
        for section in SECTIONS
    }
