"""The verbs of organisations: they flush, the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import abort, current_app
from sqlalchemy import select

from grants.auth.models import User
from grants.core import audit
from grants.core.models import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.events import send_account_mail
from grants.organisations.models import Invitation, Membership, Organisation

PROFILE_FIELDS = (
    "name",
    "legal_form",
    "register_court",
    "register_number",
    "street",
    "postcode",
    "city",
    "contact_name",
    "contact_email",
    "contact_phone",
    "iban",
    "bic",
    "bank_name",
    "account_holder",
    "tax_exemption_date",
)


class InvitationError(Exception):
    """An invitation that cannot be sent or accepted; the code names the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def organisations_of(user: User) -> list[Organisation]:
    """The organisations the user is a member of, by name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Membership)
            .where(Membership.user_id == user.id)
            .order_by(Organisation.name)
        )
    )


def get_member_organisation_or_404(user: User, organisation_id: int) -> Organisation:
    """The organisation if the user is a member; 404 otherwise, so others learn nothing."""
    organisation = db.session.scalar(
        select(Organisation)
        .join(Membership)
        .where(Organisation.id == organisation_id, Membership.user_id == user.id)
    )
    if organisation is None:
        abort(404)
    return organisation


def create_organisation(user: User, data: dict[str, Any]) -> Organisation:
    """Create an organisation; its creator becomes its first member and org admin."""
    organisation = Organisation(**{k: data[k] for k in PROFILE_FIELDS if k in data})
    organisation.memberships.append(Membership(user=user, is_admin=True))
    db.session.add(organisation)
    audit.record("organisation.created", organisation, actor=user)
    return organisation


def update_organisation(organisation: Organisation, data: dict[str, Any], user: User) -> None:
    """Change the profile; the audit row lists the fields that changed."""
    changed = []
    for key in PROFILE_FIELDS:
        if key in data and getattr(organisation, key) != data[key]:
            setattr(organisation, key, data[key])
            changed.append(key)
    if changed:
        audit.record("organisation.updated", organisation, actor=user, fields=changed)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_member(organisation: Organisation, email: str, inviter: User) -> Invitation:
    """Invite a colleague by e-mail; the mail carries a single-use link."""
    email = email.strip().lower()
    if any(m.user.email == email for m in organisation.memberships):
        raise InvitationError("already_member")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        token_hash=_token_hash(token),
        invited_by=inviter,
        expires_at=utcnow() + current_app.config["INVITATION_MAX_AGE"],
    )
    db.session.add(invitation)
    audit.record("organisation.member_invited", organisation, actor=inviter, email=email)
    send_account_mail(
        "invitation",
        email,
        inviter.locale,
        organisation=organisation,
        inviter=inviter,
        accept_url=external_url("organisations.accept_invitation", token=token),
        max_age_days=current_app.config["INVITATION_MAX_AGE"].days,
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The open invitation for this token, if any."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    return invitation if invitation is not None and invitation.is_open else None


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Join the organisation; only the invited address may accept, and only once."""
    if user.email != invitation.email:
        raise InvitationError("wrong_account")
    membership = invitation.organisation.membership_of(user)
    if membership is None:
        membership = Membership(organisation=invitation.organisation, user=user, is_admin=False)
        db.session.add(membership)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    audit.record("organisation.member_joined", invitation.organisation, actor=user)
    return membership


def revoke_invitation(invitation: Invitation, user: User) -> None:
    """Withdraw an open invitation."""
    invitation.revoked_at = utcnow()
    audit.record(
        "organisation.invitation_revoked",
        invitation.organisation,
        actor=user,
        email=invitation.email,
    )


def remove_member(organisation: Organisation, membership: Membership, user: User) -> None:
    """Remove a colleague; the last org admin cannot be removed."""
    admins = [m for m in organisation.memberships if m.is_admin]
    if membership.is_admin and len(admins) == 1:
        raise InvitationError("last_admin")
    organisation.memberships.remove(membership)
    audit.record(
        "organisation.member_removed", organisation, actor=user, user_id=membership.user_id
    )
