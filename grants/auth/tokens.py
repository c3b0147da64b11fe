"""Signed, expiring tokens for e-mail confirmation and password reset."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

CONFIRM = "email-confirm"
RESET = "password-reset"
SETUP = "account-setup"  # a reset token with the longer life of an invitation


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of the current hash: a reset token dies once the password changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def make_token(purpose: str, data: dict) -> str:
    """Sign data for one purpose."""
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age: timedelta) -> dict | None:
    """Return the signed data, or None when the token is forged, altered or expired."""
    try:
        return _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except BadSignature:
        return None
