"""Access rules: every endpoint declares who may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort
from flask_login import current_user

from grants.extensions import login_manager

ROLES = ("applicant", "staff", "approver", "finance", "admin")
STAFF_ROLES = ("staff", "approver", "finance", "admin")


def public(view: Callable) -> Callable:
    """Anyone may use this endpoint, signed in or not."""
    view.access_rule = "public"
    return view


def signed_in(view: Callable) -> Callable:
    """Any signed-in, active user may use this endpoint."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.access_rule = "signed_in"
    return wrapped


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    """Only signed-in users holding one of these roles may use this endpoint (else 403)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_any_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = "roles:" + ",".join(roles)
        return wrapped

    return decorator


def install_access(app: Flask) -> None:
    """Give Flask's own static endpoint its rule, so every endpoint has one."""
    static = app.view_functions.get("static")
    if static is not None:
        public(static)
