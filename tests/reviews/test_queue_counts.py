"""The counters behind the queue's counts per status agree with counting the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from grants.applications.models import Application
from grants.applications.workflow import STATUSES
from grants.core.models import utcnow
from grants.extensions import db
from grants.reviews.queue import (
    ApplicationStatusCount,
    QueueFilters,
    QueueShape,
    filter_conditions,
    load_queue,
)
from tests.factories import (
    CallFactory,
    ProgrammeFactory,
    SubmittedApplicationFactory,
    UserFactory,
)


def kept() -> dict[tuple[int, str], int]:
    rows = db.session.execute(select(ApplicationStatusCount))
    return {(c.call_id, c.status): c.count for (c,) in rows if c.count}


def counted() -> dict[tuple[int, str], int]:
    statement = (
        select(Application.call_id, Application.status, func.count())
        .where(*filter_conditions(QueueShape.of(QueueFilters())))
        .group_by(Application.call_id, Application.status)
    )
    return {(call_id, status): n for call_id, status, n in db.session.execute(statement)}


# The only statuses an application may have without having been submitted.
UNSUBMITTED = ("draft", "withdrawn")
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "status", "withdraw_unsubmitted", "move", "delete"]),
        st.integers(0, 5),  # which application
        st.sampled_from(list(STATUSES)),
        st.booleans(),  # submitted or not, where the status allows both
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_counters_follow_every_insert_update_and_delete(app, steps):
    with db.session.begin_nested() as savepoint:
        calls = [CallFactory(), CallFactory()]
        applications: list[Application] = []
        for action, index, status, submitted in steps:
            target = applications[index % len(applications)] if applications else None
            submitted = submitted or status not in UNSUBMITTED
            if action == "insert" or target is None:
                applications.append(
                    SubmittedApplicationFactory(
                        call=calls[index % 2],
                        status=status,
                        submitted_at=utcnow() - timedelta(days=1) if submitted else None,
                        decided_at=utcnow(),
                    )
                )
            elif action == "status":
                target.status = status
                target.submitted_at = target.submitted_at or utcnow()
            elif action == "withdraw_unsubmitted":
                target.status = "withdrawn"
                target.submitted_at = None
            elif action == "move":
                target.call = calls[(calls.index(target.call) + 1) % 2]
            else:
                applications.remove(target)
                db.session.delete(target)
            db.session.flush()
            assert kept() == counted()
        savepoint.rollback()


def test_counts_by_programme_and_call_come_from_the_counters(app):
    programme = ProgrammeFactory()
    first, second, elsewhere = (
        CallFactory(programme=programme),
        CallFactory(programme=programme),
        CallFactory(),
    )
    for call, status in (
        (first, "submitted"),
        (first, "in_review"),
        (second, "submitted"),
        (elsewhere, "submitted"),
    ):
        SubmittedApplicationFactory(call=call, status=status)
    SubmittedApplicationFactory(call=first, status="draft", submitted_at=None)
    staff = UserFactory(roles=["staff"])
    now = utcnow()

    by_programme = load_queue(QueueFilters(programme=programme.id), staff, now).counts
    by_call = load_queue(QueueFilters(call=first.id), staff, now).counts

    assert (by_programme["submitted"], by_programme["in_review"]) == (2, 1)
    assert (by_call["submitted"], by_call["in_review"]) == (1, 1)
    assert "draft" not in by_call


@pytest.mark.parametrize("counted_filters", [QueueFilters(), QueueFilters(status="submitted")])
def test_only_programme_and_call_filters_use_the_counters(counted_filters):
    assert QueueShape.of(counted_filters).counted
    for narrowing in (
        QueueFilters(district="1"),
        QueueFilters(assigned="me"),
        QueueFilters(overdue=True),
        QueueFilters(q="verein"),
    ):
        assert not QueueShape.of(narrowing).counted
