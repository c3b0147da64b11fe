"""The verbs of accounts: they flush, the caller commits."""

from __future__ import annotations

from flask import current_app

from grants.auth import tokens
from grants.auth.models import User, UserRole, burn_password_check, find_user_by_email
from grants.core import audit
from grants.core.models import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.events import send_account_mail


class AccountError(Exception):
    """A request about accounts that cannot be carried out, with a message for the user."""


def register_user(email: str, full_name: str, password: str, locale: str) -> User | None:
    """Create an unconfirmed applicant account and mail the confirmation link.

    An e-mail that is already registered gets a notice instead, so the page looks the same.
    """
    existing = find_user_by_email(email)
    if existing is not None:
        send_account_mail(
            "already_registered",
            existing.email,
            existing.locale,
            user=existing,
            login_url=external_url("auth.login"),
            reset_url=external_url("auth.forgot_password"),
        )
        return None
    user = User(email=email.strip().lower(), full_name=full_name.strip(), locale=locale)
    user.set_password(password)
    user.role_rows.append(UserRole(role="applicant"))
    db.session.add(user)
    audit.record("user.registered", user, actor=user)
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """Queue the mail with the confirmation link."""
    token = tokens.make_token(tokens.CONFIRM, {"uid": user.id, "email": user.email})
    send_account_mail(
        "account_confirmation",
        user.email,
        user.locale,
        user=user,
        confirm_url=external_url("auth.confirm_email", token=token),
        max_age_days=current_app.config["CONFIRM_TOKEN_MAX_AGE"].days,
    )


def confirm_email(token: str) -> User | None:
    """Confirm the address the token was made for; None for a bad or expired token."""
    data = tokens.read_token(tokens.CONFIRM, token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    if not data:
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        return None
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
        audit.record("user.confirmed", user, actor=user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user when e-mail and password match, else None (same cost either way)."""
    user = find_user_by_email(email)
    if user is None:
        burn_password_check(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def record_login(user: User) -> None:
    """Note a successful sign-in."""
    user.last_login_at = utcnow()
    audit.record("user.login", user, actor=user)


def request_password_reset(email: str) -> None:
    """Mail a reset link when the address is known; unknown addresses get nothing."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = tokens.make_token(
        tokens.RESET, {"uid": user.id, "fp": tokens.password_fingerprint(user.password_hash)}
    )
    send_account_mail(
        "password_reset",
        user.email,
        user.locale,
        user=user,
        reset_url=external_url("auth.reset_password", token=token),
        max_age_hours=int(current_app.config["RESET_TOKEN_MAX_AGE"].total_seconds() // 3600),
    )
    audit.record("user.password_reset_requested", user, actor=user)


def user_for_reset_token(token: str) -> User | None:
    """The user a reset token belongs to, while it is unused and unexpired."""
    config = current_app.config
    data = tokens.read_token(tokens.RESET, token, config["RESET_TOKEN_MAX_AGE"]) or (
        tokens.read_token(tokens.SETUP, token, config["INVITATION_MAX_AGE"])
    )
    if not data:
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active:
        return None
    if data.get("fp") != tokens.password_fingerprint(user.password_hash):
        return None  # the password changed since: the token has been used
    return user


def reset_password(user: User, password: str) -> None:
    """Set a new password; this also confirms the address the link was mailed to."""
    user.set_password(password)
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
    audit.record("user.password_reset", user, actor=user)


def create_staff_user(
    email: str,
    full_name: str,
    roles: list[str],
    locale: str = "de",
    actor: User | None = None,
    password: str | None = None,
) -> User:
    """Create a staff-side account; without a password it gets a link to set one."""
    if find_user_by_email(email) is not None:
        raise AccountError("exists")
    user = User(
        email=email.strip().lower(),
        full_name=full_name.strip(),
        locale=locale,
        confirmed_at=utcnow(),
    )
    user.role_rows.extend(UserRole(role=role) for role in sorted(set(roles)))
    if password:
        user.set_password(password)
    db.session.add(user)
    audit.record("user.created", user, actor=actor, roles=sorted(set(roles)))
    if not password:
        db.session.flush()
        token = tokens.make_token(
            tokens.SETUP, {"uid": user.id, "fp": tokens.password_fingerprint(None)}
        )
        send_account_mail(
            "account_created",
            user.email,
            locale,
            user=user,
            reset_url=external_url("auth.reset_password", token=token),
        )
    return user


def set_roles(user: User, roles: list[str], actor: User) -> None:
    """Replace the roles of a user."""
    wanted = set(roles)
    user.role_rows[:] = [row for row in user.role_rows if row.role in wanted]
    user.role_rows.extend(UserRole(role=r) for r in sorted(wanted - user.roles))
    audit.record("user.roles_changed", user, actor=actor, roles=sorted(wanted))


def set_active(user: User, active: bool, actor: User) -> None:
    """Lock or unlock an account."""
    user.active = active
    audit.record("user.activated" if active else "user.deactivated", user, actor=actor)
