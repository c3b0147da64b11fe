"""Reminders found by date, each sent once per occasion (beat may run a job twice).

Every reminder first claims a key such as `call_closing:7d:42` in `reminder_sent` with
INSERT ... ON CONFLICT DO NOTHING, in the same transaction as its outbox rows. A second run, even
a concurrent one, waits for the first transaction on the key and then inserts nothing, so it
sends nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.models import Application
from grants.core.models import to_local, upsert, utcnow
from grants.core.urls import site_path
from grants.extensions import db
from grants.notifications.events import deliver_event, notify, staff_members
from grants.notifications.models import ReminderSent
from grants.programmes.models import Call
from grants.reviews.models import ChangeRequest, Decision

CALL_CLOSING_DAYS = (1, 7)  # remind when the call closes within 7 days, and again within 1 day
CHANGE_REQUEST_DUE_DAYS = 3
SIGN_OFF_WORKING_DAYS = 3


def claim(key: str) -> bool:
    """Record that the reminder `key` is sent; False when it was sent already."""
    table = ReminderSent.__table__
    statement = (
        upsert(table)
        .values(key=key, sent_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    return db.session.execute(statement).scalar() is not None


def working_days_between(start: date, end: date) -> int:
    """Working days (Monday to Friday) after `start` up to and including `end`."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def remind_call_closing(now: datetime) -> int:
    """Drafts whose call closes within 7 days (and again within 1 day): tell the applicant."""
    horizon = now + timedelta(days=max(CALL_CLOSING_DAYS))
    drafts = db.session.scalars(
        select(Application)
        .join(Call, Call.id == Application.call_id)
        .where(Application.status == "draft", Call.closes_at > now, Call.closes_at <= horizon)
        .options(selectinload(Application.call))
        .order_by(Application.id)
    ).all()
    sent = 0
    for application in drafts:
        closes_at = application.call.closes_at
        days = min(d for d in CALL_CLOSING_DAYS if closes_at <= now + timedelta(days=d))
        if not claim(f"call_closing:{days}d:{application.id}"):
            continue
        sent += notify(
            "call_closing_reminder",
            application,
            None,
            closes_at=closes_at,
            days=days,
            params={
                "title": application.title or application.call.title,
                "closes": to_local(closes_at).date(),
            },
        )
    return sent


def _open_change_requests():
    return db.session.scalars(
        select(ChangeRequest)
        .join(Application, Application.id == ChangeRequest.application_id)
        .where(ChangeRequest.answered_at.is_(None), Application.status == "changes_requested")
        .order_by(ChangeRequest.id)
    ).all()


def remind_change_requests(now: datetime) -> int:
    """Change requests due within 3 days (applicant) or overdue (applicant and case worker)."""
    today = to_local(now).date()
    sent = 0
    for change_request in _open_change_requests():
        application = change_request.application
        days_left = (change_request.deadline - today).days
        params = {"deadline": change_request.deadline}
        if 0 <= days_left <= CHANGE_REQUEST_DUE_DAYS:
            if claim(f"change_request_due:{change_request.id}"):
                sent += notify(
                    "change_request_due_reminder",
                    application,
                    None,
                    change_request=change_request,
                    days_left=days_left,
                    params=params,
                )
        elif days_left < 0 and claim(f"change_request_overdue:{change_request.id}"):
            for event in ("change_request_overdue_reminder", "change_request_overdue_staff"):
                sent += notify(
                    event, application, None, change_request=change_request, params=params
                )
    return sent


def _waiting_decisions(today: date) -> list[Decision]:
    decisions = db.session.scalars(
        select(Decision)
        .join(Application, Application.id == Decision.application_id)
        .where(Decision.state == "proposed", Application.status == "decision_proposed")
        .order_by(Decision.id)
    ).all()
    return [
        d
        for d in decisions
        if working_days_between(to_local(d.proposed_at).date(), today) > SIGN_OFF_WORKING_DAYS
    ]


def remind_sign_offs(now: datetime) -> int:
    """Proposals waiting more than 3 working days for their sign-off: tell the approvers."""
    sent = 0
    for decision in _waiting_decisions(to_local(now).date()):
        if claim(f"sign_off_waiting:{decision.id}"):
            sent += notify(
                "sign_off_reminder",
                decision.application,
                None,
                decision=decision,
                params={"since": to_local(decision.proposed_at).date()},
            )
    return sent


def send_staff_digest(now: datetime) -> int:
    """Each case worker's daily digest: applications new since yesterday, and overdue ones."""
    today = to_local(now).date()
    new = db.session.scalars(
        select(Application)
        .where(Application.status == "submitted", Application.submitted_at >= now - timedelta(1))
        .order_by(Application.submitted_at)
    ).all()
    overdue_changes = [c for c in _open_change_requests() if c.deadline < today]
    waiting = _waiting_decisions(today)
    if not (new or overdue_changes or waiting):
        return 0
    sent = 0
    for user in staff_members():
        if claim(f"staff_digest:{today.isoformat()}:{user.id}"):
            sent += deliver_event(
                "staff_digest",
                [user],
                link_for=lambda _user: site_path("reviews.queue"),
                new_applications=new,
                overdue_changes=overdue_changes,
                waiting_decisions=waiting,
                today=today,
            )
    return sent


def run_all(now: datetime | None = None) -> int:
    """Every reminder job once; returns the number of people told."""
    now = now or utcnow()
    return (
        remind_call_closing(now)
        + remind_change_requests(now)
        + remind_sign_offs(now)
        + send_staff_digest(now)
    )
