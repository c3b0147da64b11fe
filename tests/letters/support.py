"""Decisions signed off through the operations, for the letter and finance tests."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from grants.applications.models import Application
from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.letters import operations as letters
from grants.letters.models import Letter
from grants.letters.operations import RENDER_TASK
from grants.reviews import operations as reviews
from grants.reviews.models import Decision
from tests.factories import UserFactory
from tests.reviews.test_decisions import in_review, propose

CUT_REASON = "Honorarsatz über dem Höchstsatz von 40 € je Stunde."
REASONS = "Die Honorarkosten sind nur bis zum Höchstsatz zuwendungsfähig."


def signed_off(
    kind: str = "approval",
    call=None,
    application: Application | None = None,
    reasons_prefix: str = "",
):
    """(application, decision, approver) with a signed-off decision of that kind."""
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = application or in_review(staff, call)
    if application.status == "submitted":
        reviews.start_review(application, staff)
    if kind == "approval":
        propose(application, staff, conditions="Es gelten die ANBest-P.")
    elif kind == "partial_approval":
        fees = application.cost_lines[0]
        reviews.review_cost_line(fees, Decimal("800.00"), CUT_REASON, staff)
        propose(application, staff, amount="850.00", reasons=reasons_prefix + REASONS)
    else:
        propose(application, staff, amount=None, kind="rejection", reasons=reasons_prefix + REASONS)
    decision = reviews.sign_off(application, approver)
    return application, decision, approver


def render_queued() -> list[Letter]:
    """Run every queued letter task in-process (as the worker would) and return the letters."""
    messages = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.task == RENDER_TASK, OutboxMessage.status == "pending"
        )
    ).all()
    return [letters.issue_from_outbox(message.id) for message in messages]


def issued(kind: str = "approval", **kwargs) -> tuple[Application, Decision, Letter]:
    """A signed-off decision with its letter issued in-process."""
    application, decision, approver = signed_off(kind, **kwargs)
    (letter,) = render_queued()
    return application, decision, letter


def wait_for_letter(application_id: int, timeout: float) -> Letter:
    """The application's first letter once a worker has committed it; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see the worker's commits
        letter = db.session.scalar(db.select(Letter).where(Letter.application_id == application_id))
        if letter is not None:
            return letter
        time.sleep(0.2)
    pytest.fail(f"no letter for application {application_id} within {timeout} s")
