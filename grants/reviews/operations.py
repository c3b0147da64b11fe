"""The verbs of the review: they flush, the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from grants.applications import workflow
from grants.applications.financing import calculate_grant
from grants.applications.models import Application, CostLine
from grants.auth.models import User
from grants.core import audit
from grants.core.models import to_local, utcnow
from grants.core.money import ZERO
from grants.extensions import db
from grants.programmes.models import Call, Programme
from grants.reviews.models import (
    Assessment,
    ChangeRequest,
    CostLineReview,
    Decision,
    FormalCheck,
    Note,
)

FORMAL_CHECK_ITEMS = ("complete", "eligible_applicant", "in_time", "attachments_present")
ASSESSMENT_CRITERIA = ("need", "target_group", "volunteering", "sustainability", "cost_ratio")
REVIEWABLE = ("submitted", "in_review")


class ReviewError(Exception):
    """A review action that cannot be done; `code` names the reason, `details` the figures."""

    def __init__(self, code: str, **details: Any):
        super().__init__(code)
        self.code = code
        self.details = details


def assign(application: Application, assignee: User | None, actor: User) -> None:
    """Make a case worker responsible (None: unassigned)."""
    if assignee is not None and "staff" not in assignee.roles:
        raise ReviewError("not_staff")
    application.assigned_to_id = assignee.id if assignee else None
    audit.record(
        "application.assigned",
        application,
        actor=actor,
        assignee_id=assignee.id if assignee else None,
    )


def start_review(application: Application, actor: User, seen_status: str | None = None) -> None:
    """Take a submitted application into review; the reviewer is assigned if nobody is."""
    workflow.apply_transition(application, "start_review", actor, seen_status=seen_status)
    if application.assigned_to_id is None:
        application.assigned_to_id = actor.id


def _ensure_reviewable(application: Application) -> None:
    if application.status not in REVIEWABLE:
        raise ReviewError("not_in_review")


def save_formal_check(
    application: Application, items: dict[str, bool], note: str | None, actor: User
) -> FormalCheck:
    """Record the formal check list."""
    _ensure_reviewable(application)
    check = db.session.scalar(
        select(FormalCheck).where(FormalCheck.application_id == application.id)
    ) or FormalCheck(application_id=application.id)
    check.items = {item: bool(items.get(item)) for item in FORMAL_CHECK_ITEMS}
    check.note = note
    check.checked_by_id = actor.id
    db.session.add(check)
    audit.record("review.formal_check", application, actor=actor, items=check.items)
    return check


def save_assessment(
    application: Application,
    scores: dict[str, int],
    recommendation: str,
    comment: str | None,
    actor: User,
) -> Assessment:
    """Record scores per criterion (0–5) and a recommendation."""
    _ensure_reviewable(application)
    if any(not 0 <= int(scores.get(c, 0)) <= 5 for c in ASSESSMENT_CRITERIA):
        raise ReviewError("score_range")
    assessment = db.session.scalar(
        select(Assessment).where(Assessment.application_id == application.id)
    ) or Assessment(application_id=application.id)
    assessment.scores = {c: int(scores.get(c, 0)) for c in ASSESSMENT_CRITERIA}
    assessment.recommendation = recommendation
    assessment.comment = comment
    assessment.assessed_by_id = actor.id
    db.session.add(assessment)
    audit.record(
        "review.assessment",
        application,
        actor=actor,
        scores=assessment.scores,
        recommendation=recommendation,
    )
    return assessment


def review_cost_line(
    line: CostLine, admitted: Decimal, reason: str | None, actor: User
) -> CostLineReview:
    """Admit a cost line fully or partly; every cut needs a reason."""
    _ensure_reviewable(line.application)
    if admitted < ZERO or admitted > line.amount:
        raise ReviewError("admitted_range", amount=line.amount)
    if admitted < line.amount and not (reason or "").strip():
        raise ReviewError("reason_missing")
    review = line.review or CostLineReview(cost_line=line)
    review.admitted_amount = admitted
    review.reason = reason.strip() if reason else None
    review.reviewed_by_id = actor.id
    db.session.add(review)
    audit.record(
        "review.cost_line",
        line.application,
        actor=actor,
        line_id=line.id,
        amount=str(line.amount),
        admitted=str(admitted),
        reason=review.reason,
    )
    return review


@dataclass(frozen=True)
class ReviewedGrant:
    """The grant recomputed from the admitted costs, with the calculation steps."""

    admitted_costs: Decimal
    cut: Decimal
    calculation: Any


def admitted_amount(line: CostLine) -> Decimal:
    """What a cost line counts with after the arithmetic check (in full until checked)."""
    return line.review.admitted_amount if line.review else line.amount


def recompute_grant(application: Application) -> ReviewedGrant:
    """The largest grant for the admitted costs (lines not yet checked count in full)."""
    calculation = calculate_grant(application, admitted_amount)
    admitted = calculation.eligible_costs
    return ReviewedGrant(admitted, application.total_costs - admitted, calculation)


def add_note(application: Application, body: str, actor: User) -> Note:
    """An internal note, never shown to the applicant."""
    note = Note(application_id=application.id, body=body.strip(), author_id=actor.id)
    db.session.add(note)
    audit.record("review.note", application, actor=actor)
    return note


def request_changes(
    application: Application,
    message: str,
    sections: list[str],
    deadline: date,
    actor: User,
    seen_status: str | None = None,
) -> ChangeRequest:
    """Ask the applicant to complete named sections by a deadline; they may edit again."""
    if deadline <= to_local(utcnow()).date():  # "today" in Berlin
        raise ReviewError("deadline_past")
    change_request = ChangeRequest(
        application=application,
        message=message.strip(),
        sections=list(sections),
        deadline=deadline,
        requested_by_id=actor.id,
    )
    db.session.add(change_request)
    workflow.apply_transition(
        application, "request_changes", actor, seen_status=seen_status, comment=message
    )
    return change_request


def open_change_request(application: Application) -> ChangeRequest | None:
    """The change request the applicant still has to answer, if any."""
    return next(
        (c for c in reversed(application.change_requests or []) if c.answered_at is None), None
    )


def answer_change_request(application: Application) -> None:
    """Mark the open change request answered (called on resubmission)."""
    change_request = open_change_request(application)
    if change_request is not None:
        change_request.answered_at = utcnow()


def propose_decision(
    application: Application,
    actor: User,
    *,
    kind: str,
    amount: Decimal | None,
    reasons: str | None,
    conditions: str | None,
    period_start: date | None,
    period_end: date | None,
    seen_status: str | None = None,
) -> Decision:
    """Propose approval (full or partial, never above the recomputed grant) or rejection."""
    reviewed = recompute_grant(application)
    grant = reviewed.calculation.grant
    requested = application.requested_grant or ZERO
    if kind == "rejection":
        if not (reasons or "").strip():
            raise ReviewError("reasons_missing")
        amount = None
    else:
        if amount is None or amount <= ZERO:
            raise ReviewError("amount_missing")
        if amount > grant:
            raise ReviewError("amount_above_grant", grant=grant)
        if not period_start or not period_end or period_end < period_start:
            raise ReviewError("period_invalid")
        kind = "partial_approval" if amount < requested else "approval"
        if kind == "partial_approval" and not (reasons or "").strip():
            raise ReviewError("reasons_missing")
    decision = Decision(
        application=application,
        kind=kind,
        state="proposed",
        amount=amount,
        computed_grant=grant,
        reasons=(reasons or "").strip() or None,
        conditions=(conditions or "").strip() or None,
        period_start=period_start,
        period_end=period_end,
        proposed_by_id=actor.id,
        calculation={
            "admitted_costs": str(reviewed.admitted_costs),
            "cut": str(reviewed.cut),
            "steps": [[s.label, str(s.amount)] for s in reviewed.calculation.steps],
        },
    )
    db.session.add(decision)
    workflow.apply_transition(
        application, "propose_decision", actor, seen_status=seen_status, comment=kind
    )
    return decision


def latest_decision(application: Application, state: str) -> Decision | None:
    """The application's latest decision in `state` (see DECISION_STATES), if any."""
    return next((d for d in reversed(application.decisions or []) if d.state == state), None)


def pending_decision(application: Application) -> Decision | None:
    """The proposal waiting for sign-off, if any."""
    return latest_decision(application, "proposed")


@dataclass(frozen=True)
class BudgetFigures:
    total: Decimal
    committed: Decimal
    decisions: int

    @property
    def remaining(self) -> Decimal:
        return self.total - self.committed


def committed_amount(programme_id: int, call_id: int | None = None) -> tuple[Decimal, int]:
    """Sum and count of signed-off approvals in a programme (or one call of it)."""
    query = (
        select(func.coalesce(func.sum(Decision.amount), 0), func.count(Decision.id))
        .join(Application, Application.id == Decision.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(
            Decision.state == "signed_off",
            Decision.kind != "rejection",
            Call.programme_id == programme_id,
        )
    )
    if call_id is not None:
        query = query.where(Call.id == call_id)
    total, count = db.session.execute(query).one()
    return Decimal(total), count


def budget_of(programme: Programme, call: Call | None = None) -> BudgetFigures:
    """Total, committed and remaining budget of a programme or call."""
    committed, count = committed_amount(programme.id, call.id if call else None)
    total = call.budget if call is not None and call.budget is not None else programme.total_budget
    return BudgetFigures(total, committed, count)


def budget_for(application: Application) -> BudgetFigures:
    """The budget an approval here counts against: its call's own, else the programme's."""
    call = application.call
    return budget_of(call.programme, call if call.budget is not None else None)


def sign_off(application: Application, actor: User, seen_status: str | None = None) -> Decision:
    """Sign off the proposal (four eyes); an approval commits its amount within the budget."""
    # Lock the application first: a second approver waits here and then finds it decided.
    db.session.execute(
        select(Application.id).where(Application.id == application.id).with_for_update()
    )
    db.session.refresh(application)
    decision = pending_decision(application)
    if decision is None:
        raise ReviewError("no_proposal")
    db.session.refresh(decision)
    if decision.proposed_by_id == actor.id:
        raise ReviewError("own_proposal")
    transition = "reject" if decision.kind == "rejection" else "approve"
    if "approver" not in actor.roles:
        raise workflow.TransitionError("role", transition)
    if decision.kind != "rejection":
        call = application.call
        # Then the programme: sign-offs in one programme count their amounts one by one.
        db.session.execute(
            select(Programme.id).where(Programme.id == call.programme_id).with_for_update()
        )
        for figures in filter(
            None,
            (
                budget_of(call.programme, call) if call.budget is not None else None,
                budget_of(call.programme),
            ),
        ):
            if decision.amount > figures.remaining:
                raise ReviewError(
                    "budget_exceeded",
                    amount=decision.amount,
                    remaining=figures.remaining,
                    total=figures.total,
                    committed=figures.committed,
                )
    now = utcnow()
    decision.state = "signed_off"
    decision.signed_off_by_id = actor.id
    decision.signed_off_at = now
    application.decided_at = now
    workflow.apply_transition(
        application, transition, actor, seen_status=seen_status, comment=decision.kind
    )
    return decision


def return_proposal(
    application: Application, comment: str, actor: User, seen_status: str | None = None
) -> Decision:
    """Send the proposal back to review with a comment."""
    decision = pending_decision(application)
    if decision is None:
        raise ReviewError("no_proposal")
    if decision.proposed_by_id == actor.id:
        raise ReviewError("own_proposal")
    if not comment.strip():
        raise ReviewError("comment_missing")
    decision.state = "returned"
    decision.return_comment = comment.strip()
    workflow.apply_transition(
        application, "return_proposal", actor, seen_status=seen_status, comment=comment
    )
    return decision
