"""`flask seed-bench` fills the queue the way a working office does, for the benchmark."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from grants.applications.models import Application
from grants.core.models import utcnow
from grants.extensions import db
from grants.reviews.models import ChangeRequest
from grants.reviews.queue import WAITING_FOR_STAFF

OPEN = (*WAITING_FOR_STAFF, "changes_requested")


def test_seed_bench_decides_old_applications_and_leaves_recent_ones_open(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # seed-bench's first step
    demo = set(db.session.scalars(select(Application.id)))
    result = runner.invoke(args=["seed-bench", "--applications", "600"])
    assert result.exit_code == 0, result.output
    applications = [a for a in db.session.scalars(select(Application)) if a.id not in demo]
    submitted = [a for a in applications if a.submitted_at is not None]
    assert len(submitted) == 600
    assert sum(a.status == "draft" for a in applications) == 60

    now = utcnow()
    # Decided within the longest processing time (80 days) after the submission, never later.
    for application in submitted:
        if application.status in ("approved", "rejected"):
            assert application.submitted_at < application.decided_at <= now
            assert application.decided_at - application.submitted_at <= timedelta(days=80)
    old = [a for a in submitted if a.submitted_at < now - timedelta(days=80)]
    stuck = [a for a in old if a.status in OPEN]
    assert len(old) > 300
    assert 0 < len(stuck) <= len(old) * 0.06  # 2 % on average
    recent = [a for a in submitted if a.submitted_at > now - timedelta(days=7)]
    assert recent and all(a.status in OPEN for a in recent)

    waiting_for_changes = {a.id for a in submitted if a.status == "changes_requested"}
    open_requests = db.session.scalars(
        select(ChangeRequest.application_id).where(
            ChangeRequest.answered_at.is_(None), ChangeRequest.application_id.not_in(demo)
        )
    ).all()
    assert sorted(open_requests) == sorted(waiting_for_changes)
