"""The catalogue of events: who is told, with which e-mail (text and HTML), which in-app message.

Every message the application sends is one entry of `EVENTS`. An entry names

- its recipients: a function of the application (or nothing, when the caller names the address,
  as for account mails to people who may not have an account yet),
- its e-mail: `templates/emails/<template>.txt` (subject and text) and `.html`, rendered in the
  recipient's language,
- its in-app message (a msgid with placeholders, rendered when shown, in the reader's language),
- whether it is legally or procedurally required (always e-mailed, whatever the preferences) and
  which roles may switch its e-mail off on the settings page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.auth.models import User, UserRole
from grants.core.urls import absolute_url, site_path
from grants.extensions import db
from grants.notifications.mail import queue_mail
from grants.notifications.models import EmailOptOut, Notification
from grants.organisations.models import Membership

# Recipients -------------------------------------------------------------------------------


def _users_with_role(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == role, User.active).order_by(User.id)
        )
    )


def organisation_members(application) -> list[User]:
    """Every active member of the applying organisation."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == application.organisation_id, User.active)
            .order_by(User.id)
        )
    )


def staff_members(application=None) -> list[User]:
    """Every active case worker."""
    return _users_with_role("staff")


def staff_members_if_submitted(application) -> list[User]:
    """Case workers, when the application had reached them (a withdrawn draft tells nobody)."""
    return staff_members(application) if application.reference else []


def case_workers(application) -> list[User]:
    """The case worker in charge (assigned, else who asked for changes); else every case worker."""
    people: list[User] = []
    if application.assigned_to is not None and application.assigned_to.active:
        people.append(application.assigned_to)
    requests = getattr(application, "change_requests", None) or []
    if requests and requests[-1].requested_by.active:
        people.append(requests[-1].requested_by)
    unique = list(dict.fromkeys(people))
    return unique or staff_members(application)


def approvers(application) -> list[User]:
    """Every active approver except the one who proposed the decision."""
    proposer = application.decisions[-1].proposed_by_id if application.decisions else None
    return [user for user in _users_with_role("approver") if user.id != proposer]


def proposer(application) -> list[User]:
    """The case worker who proposed the latest decision."""
    if not application.decisions:
        return []
    person = application.decisions[-1].proposed_by
    return [person] if person.active else []


def organisation_members_and_finance(application) -> list[User]:
    """The applying organisation's members and every active finance officer."""
    members = organisation_members(application)
    return members + [user for user in _users_with_role("finance") if user not in members]


# The catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    template: str
    label: Any  # a lazy string: what the event is, for the settings page
    recipients: Callable[[Any], list[User]] | None = None
    message: Any = None  # a lazy msgid with %(reference)s, %(title)s, ... or None
    required: bool = False
    audience: tuple[str, ...] = field(default=())  # roles that may switch the e-mail off
    # More values for the in-app message, taken from the application when the event happens.
    params: Callable[[Any], dict[str, Any]] | None = None


APPLICANT = ("applicant",)
STAFF = ("staff",)
APPROVER = ("approver",)

EVENTS: dict[str, Event] = {
    # Accounts: sent to an address the caller names; always sent.
    "account_confirmation": Event(
        "auth/confirm", _l("Confirmation of your e-mail address"), required=True
    ),
    "already_registered": Event(
        "auth/already_registered", _l("Registration with a known address"), required=True
    ),
    "password_reset": Event("auth/reset", _l("Password reset"), required=True),
    "account_created": Event("auth/account_created", _l("New staff account"), required=True),
    "invitation": Event(
        "organisations/invitation", _l("Invitation to an organisation"), required=True
    ),
    # The application and its review.
    "submission_receipt": Event(
        "applications/submitted",
        _l("Receipt for a submitted application"),
        organisation_members,
        _l("Your application %(reference)s has been received."),
        audience=APPLICANT,
    ),
    "submission_staff": Event(
        "applications/submitted_staff",
        _l("New application submitted"),
        staff_members,
        _l("New application %(reference)s of %(organisation)s."),
        audience=STAFF,
    ),
    "resubmission_receipt": Event(
        "applications/resubmitted",
        _l("Receipt for a revised application"),
        organisation_members,
        _l("Your revised application %(reference)s has been received."),
        audience=APPLICANT,
    ),
    "resubmission_staff": Event(
        "applications/resubmitted_staff",
        _l("Application resubmitted after a change request"),
        case_workers,
        _l("%(organisation)s has revised application %(reference)s."),
        audience=STAFF,
    ),
    "withdrawal_staff": Event(
        "applications/withdrawn_staff",
        _l("Application withdrawn"),
        staff_members_if_submitted,
        _l("Application %(reference)s has been withdrawn."),
        audience=STAFF,
    ),
    # A change request sets a deadline: the applicant must learn of it.
    "changes_requested": Event(
        "reviews/changes_requested",
        _l("Change request"),
        organisation_members,
        _l("Changes are needed to application %(reference)s by %(deadline)s."),
        required=True,
        params=lambda application: {"deadline": application.change_requests[-1].deadline},
    ),
    "proposal_waiting": Event(
        "reviews/proposal_waiting",
        _l("Decision proposed for sign-off"),
        approvers,
        _l("A decision on %(reference)s is waiting for your sign-off."),
        audience=APPROVER,
    ),
    "proposal_returned": Event(
        "reviews/proposal_returned",
        _l("Proposed decision returned"),
        proposer,
        _l("Your proposed decision on %(reference)s has been returned."),
        audience=STAFF,
    ),
    # Decisions are administrative acts: always sent.
    "letter_issued": Event(
        "letters/issued",
        _l("Decision letter issued"),
        organisation_members_and_finance,
        _l("The decision letter for %(reference)s is available."),
        required=True,
    ),
    "payout_recorded": Event(
        "finance/payout_recorded",
        _l("Payout recorded"),
        organisation_members,
        _l("A payout for %(reference)s has been recorded."),
        audience=APPLICANT,
    ),
    # Reminders (workers/schedule.py runs them; grants/notifications/reminders.py finds them).
    "call_closing_reminder": Event(
        "reminders/call_closing",
        _l("Reminder: a call closes while your application is a draft"),
        organisation_members,
        _l("The call for your draft “%(title)s” closes on %(closes)s."),
        audience=APPLICANT,
    ),
    "change_request_due_reminder": Event(
        "reminders/change_request_due",
        _l("Reminder: changes due soon"),
        organisation_members,
        _l("The changes to application %(reference)s are due by %(deadline)s."),
        audience=APPLICANT,
    ),
    "change_request_overdue_reminder": Event(
        "reminders/change_request_overdue",
        _l("Reminder: deadline for changes passed"),
        organisation_members,
        _l("The deadline for the changes to application %(reference)s has passed."),
        audience=APPLICANT,
    ),
    "change_request_overdue_staff": Event(
        "reminders/change_request_overdue_staff",
        _l("Change request past its deadline"),
        case_workers,
        _l("%(organisation)s has not answered the change request for %(reference)s in time."),
        audience=STAFF,
    ),
    "sign_off_reminder": Event(
        "reminders/sign_off_waiting",
        _l("Reminder: decision waiting for sign-off"),
        approvers,
        _l("The decision on %(reference)s has been waiting for sign-off since %(since)s."),
        audience=APPROVER,
    ),
    "staff_digest": Event(
        "reminders/staff_digest",
        _l("Daily digest of new and overdue applications"),
        audience=STAFF,
    ),
}

# Parameters stored as ISO strings and shown as dates in the reader's language.
DATE_PARAMS = ("deadline", "closes", "since")


def optional_events_for(user: User) -> list[tuple[str, Event]]:
    """The events whose e-mails this user may switch off."""
    return [
        (name, event)
        for name, event in EVENTS.items()
        if not event.required and user.roles & set(event.audience)
    ]


def required_events_for(user: User) -> list[tuple[str, Event]]:
    """The events whose e-mails this user always receives (those that can reach them)."""
    names = ["account_confirmation", "password_reset"]
    if user.has_any_role("applicant"):
        names += ["changes_requested", "letter_issued"]
    elif user.has_any_role("finance"):
        names.append("letter_issued")
    return [(name, EVENTS[name]) for name in names]


def opted_out(user: User) -> set[str]:
    """The events this user receives no e-mail for."""
    return set(db.session.scalars(select(EmailOptOut.event).where(EmailOptOut.user_id == user.id)))


def _opted_out_users(event_name: str, user_ids: list[int]) -> set[int]:
    """Which of these users switched the event's e-mail off (one query for all)."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(EmailOptOut.user_id).where(
                EmailOptOut.event == event_name, EmailOptOut.user_id.in_(user_ids)
            )
        )
    )


# Links ------------------------------------------------------------------------------------


def application_path(application, user: User) -> str:
    """Where this user reads about the application: the applicant's page, the review page or
    the finance list showing its decision."""
    if user.has_any_role("staff", "approver"):
        return site_path("reviews.show", application_id=application.id)
    if user.has_any_role("applicant"):
        return site_path("applications.overview", application_id=application.id)
    if user.has_any_role("finance") and application.reference:
        return site_path("finance.index", q=application.reference)
    return site_path("pages.start")


# Sending ----------------------------------------------------------------------------------


def _param(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _application_params(application) -> dict[str, Any]:
    return {
        "reference": application.reference or "–",
        "title": application.title or "",
        "organisation": application.organisation.name if application.organisation else "",
    }


def deliver_event(
    event_name: str,
    users: Iterable[User],
    *,
    link_for: Callable[[User], str | None],
    params: dict[str, Any] | None = None,
    application=None,
    **context: Any,
) -> int:
    """Record the in-app message and queue the e-mail (unless switched off) for each user."""
    event = EVENTS[event_name]
    stored = {key: _param(value) for key, value in (params or {}).items()}
    users = list(dict.fromkeys(users))
    silenced = set() if event.required else _opted_out_users(event_name, [u.id for u in users])
    count = 0
    for user in users:
        path = link_for(user)
        if event.message is not None:
            db.session.add(
                Notification(
                    user_id=user.id,
                    event=event_name,
                    params=stored,
                    link=path,
                    application_id=application.id if application is not None else None,
                )
            )
        if user.id not in silenced:
            queue_mail(
                user.email,
                event.template,
                user.locale,
                event=event_name,
                flush=False,  # the rows of all recipients are inserted together below
                user=user,
                application=application,
                link=absolute_url(path) if path else None,
                **context,
            )
        count += 1
    db.session.flush()
    return count


def notify(event_name: str, application, actor, **context: Any) -> int:
    """Tell the event's recipients about the application: in-app and by e-mail."""
    event = EVENTS[event_name]
    if event.recipients is None:
        raise ValueError(f"{event_name} is sent to an address; use send_account_mail")
    params = _application_params(application)
    if event.params is not None:
        params |= event.params(application)
    params |= context.pop("params", {})
    return deliver_event(
        event_name,
        event.recipients(application),
        link_for=lambda user: application_path(application, user),
        params=params,
        application=application,
        actor=actor,
        **context,
    )


def send_account_mail(event_name: str, to: str, locale: str, **context: Any) -> None:
    """Queue an account e-mail (confirmation, reset, invitation) to an address."""
    event = EVENTS[event_name]
    if event.recipients is not None:
        raise ValueError(f"{event_name} goes to its recipients; use notify")
    queue_mail(to, event.template, locale, event=event_name, **context)


def render_message(notification: Notification) -> str:
    """The in-app text of a notification, in the current language."""
    event = EVENTS.get(notification.event)
    if event is None or event.message is None:
        return str(_l("Notification"))
    params = dict(notification.params or {})
    for key in DATE_PARAMS:
        if params.get(key):
            with contextlib.suppress(ValueError):
                params[key] = format_date(date.fromisoformat(str(params[key])[:10]))
    try:
        return str(event.message) % params
    except (KeyError, TypeError, ValueError):
        return str(event.label)
