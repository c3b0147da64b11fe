"""THE state machine of an application: statuses and transitions as one table.

Nothing else writes `Application.status`; `apply_transition` is the only way.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from grants.core import audit
from grants.notifications.events import notify


@dataclass(frozen=True)
class Status:
    code: str
    staff_label: str
    applicant_label: str  # plain words: what happens next
    final: bool = False


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    staff_label: str
    notifications: tuple[str, ...] = ()
    # The decision letter is issued by a task after commit; it tells the applicant when ready.
    letter: bool = False
    # Other notifications when leaving a particular source state (e.g. a resubmission).
    notifications_from: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def notifications_for(self, source: str) -> tuple[str, ...]:
        """The events this transition triggers when taken from `source`."""
        return dict(self.notifications_from).get(source, self.notifications)

    @property
    def all_notifications(self) -> set[str]:
        """Every event this transition can trigger, from any source."""
        return set(self.notifications).union(*(events for _, events in self.notifications_from))


STATUSES = {
    s.code: s
    for s in (
        Status(
            "draft",
            _l("Draft"),
            _l("Draft – not submitted yet. You can change it until you submit it."),
        ),
        Status(
            "submitted",
            _l("Submitted"),
            _l("Submitted – we have received your application and will start the review soon."),
        ),
        Status(
            "in_review",
            _l("In review"),
            _l(
                "In review – we are checking your application. We will contact you if "
                "anything is missing."
            ),
        ),
        Status(
            "changes_requested",
            _l("Changes requested"),
            _l(
                "Changes needed – please complete your application as requested and submit "
                "it again."
            ),
        ),
        Status(
            "decision_proposed",
            _l("Decision proposed"),
            _l("In review – the decision is being prepared."),
        ),
        Status(
            "approved",
            _l("Approved"),
            _l("Approved – you will receive the decision letter."),
            final=False,
        ),
        Status(
            "rejected",
            _l("Rejected"),
            _l("Not approved – you will receive the decision letter with the reasons."),
            final=True,
        ),
        Status("withdrawn", _l("Withdrawn"), _l("Withdrawn by your organisation."), final=True),
    )
}

OPEN_STATES = ("draft", "submitted", "in_review", "changes_requested", "decision_proposed")

TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "submit",
            ("draft", "changes_requested"),
            "submitted",
            ("applicant",),
            _l("Submit"),
            notifications=("submission_receipt", "submission_staff"),
            notifications_from=(
                ("changes_requested", ("resubmission_receipt", "resubmission_staff")),
            ),
        ),
        Transition(
            "withdraw",
            OPEN_STATES,
            "withdrawn",
            ("applicant",),
            _l("Withdraw"),
            notifications=("withdrawal_staff",),
        ),
        Transition("start_review", ("submitted",), "in_review", ("staff",), _l("Start review")),
        Transition(
            "request_changes",
            ("submitted", "in_review"),
            "changes_requested",
            ("staff",),
            _l("Request changes"),
            notifications=("changes_requested",),
        ),
        Transition(
            "propose_decision",
            ("in_review",),
            "decision_proposed",
            ("staff",),
            _l("Propose decision"),
            notifications=("proposal_waiting",),
        ),
        Transition(
            "return_proposal",
            ("decision_proposed",),
            "in_review",
            ("approver",),
            _l("Return to review"),
            notifications=("proposal_returned",),
        ),
        Transition(
            "approve",
            ("decision_proposed",),
            "approved",
            ("approver",),
            _l("Sign off approval"),
            letter=True,
        ),
        Transition(
            "reject",
            ("decision_proposed",),
            "rejected",
            ("approver",),
            _l("Sign off rejection"),
            letter=True,
        ),
    )
}

STATUS_CHECK = "status IN (" + ", ".join(f"'{code}'" for code in STATUSES) + ")"


class TransitionError(Exception):
    """A transition that is not allowed; `code` says why ('role', 'state', 'stale')."""

    def __init__(self, code: str, transition: str):
        super().__init__(f"{transition}: {code}")
        self.code = code
        self.transition = transition


def allowed_transitions(status: str, roles: set[str]) -> list[Transition]:
    """The transitions a user with these roles may take from this status."""
    return [t for t in TRANSITIONS.values() if status in t.sources and roles & set(t.roles)]


def apply_transition(
    application, name: str, actor, seen_status: str | None = None, comment: str | None = None
) -> Transition:
    """Move the application along one transition: check, write status, audit, notify."""
    transition = TRANSITIONS[name]
    if not actor.roles & set(transition.roles):
        raise TransitionError("role", name)
    if seen_status is not None and seen_status != application.status:
        raise TransitionError("stale", name)
    if application.status not in transition.sources:
        raise TransitionError("state", name)
    previous = application.status
    application.status = transition.target
    audit.record(
        f"application.{name}",
        application,
        actor=actor,
        **{"from": previous, "to": transition.target, "comment": comment},
    )
    for event in transition.notifications_for(previous):
        notify(event, application, actor)
    if transition.letter:
        # Imported here: the letters package builds on the application models, which import
        # this module.
        from grants.letters.operations import queue_letter

        queue_letter(application, actor)
    return transition


def mermaid_diagram() -> str:
    """The workflow table as a Mermaid state diagram (for the README)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for transition in TRANSITIONS.values():
        roles = ", ".join(transition.roles)
        for source in transition.sources:
            lines.append(f"    {source} --> {transition.target}: {transition.name} ({roles})")
    lines += [f"    {code} --> [*]" for code, status in STATUSES.items() if status.final]
    return "\n".join(lines)
