"""The catalogue of events: who is told, with which e-mail template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from grants.auth.models import User, UserRole
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.mail import queue_mail
from grants.organisations.models import Membership


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


def staff_members(application) -> list[User]:
    """Every active case worker."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == "staff", User.active)
            .order_by(User.id)
        )
    )


def approvers(application) -> list[User]:
    """Every active approver except the one who proposed the decision."""
    users = list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == "approver", User.active)
            .order_by(User.id)
        )
    )
    proposer = application.decisions[-1].proposed_by_id if application.decisions else None
    return [user for user in users if user.id != proposer]


def organisation_members_and_finance(application) -> list[User]:
    """The applying organisation's members and every active finance officer."""
    finance = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "finance", User.active).order_by(User.id)
    )
    members = organisation_members(application)
    return members + [user for user in finance if user not in members]


def staff_members_if_submitted(application) -> list[User]:
    """Case workers, when the application had reached them."""
    return staff_members(application) if application.reference else []


@dataclass(frozen=True)
class Event:
    template: str
    recipients: Callable
    link_endpoint: str


EVENTS = {
    "changes_requested": Event(
        "reviews/changes_requested", organisation_members, "applications.overview"
    ),
    "letter_issued": Event(
        "letters/issued", organisation_members_and_finance, "applications.overview"
    ),
    "payout_recorded": Event(
        "finance/payout_recorded", organisation_members, "applications.overview"
    ),
    "proposal_waiting": Event("reviews/proposal_waiting", approvers, "reviews.show"),
    "submission_receipt": Event(
        "applications/submitted", organisation_members, "applications.overview"
    ),
    "submission_staff": Event(
        "applications/submitted_staff", staff_members, "applications.overview"
    ),
    "withdrawal_staff": Event(
        "applications/withdrawn_staff", staff_members, "applications.overview"
    ),
}


def notify(event_name: str, application, actor) -> None:
    """Queue the event's e-mail to each recipient, in the recipient's language."""
    event = EVENTS[event_name]
    link = external_url(event.link_endpoint, application_id=application.id)
    for user in event.recipients(application):
        queue_mail(
            user.email,
            event.template,
            user.locale,
            user=user,
            actor=actor,
            application=application,
            link=link,
        )
