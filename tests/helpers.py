"""Helpers for driving the app through the test client."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from flask.testing import FlaskClient

from tests.factories import PASSWORD, MembershipFactory, UserFactory

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """GET url and return the CSRF token of its first form."""
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict, form_url: str | None = None, **kwargs):
    """POST data to url with the CSRF token taken from form_url (default: url)."""
    return client.post(
        url, data={**data, "csrf_token": csrf_token(client, form_url or url)}, **kwargs
    )


def log_in(client: FlaskClient, user, password: str = PASSWORD):
    """Sign the user in through the login form."""
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return user


def logged_in_client(client: FlaskClient, role: str = "applicant", organisation=None):
    """A client signed in as a new user with the role (applicants get an organisation)."""
    user = UserFactory(roles=[role])
    if role == "applicant":
        MembershipFactory(user=user, **({"organisation": organisation} if organisation else {}))
    log_in(client, user)
    return user


def queued_mails(to: str) -> list[dict]:
    """Payloads of the e-mails queued in the outbox for an address, oldest first."""
    from grants.core.outbox import OutboxMessage
    from grants.extensions import db

    rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [row.payload for row in rows if to in row.payload.get("to", [])]


def wait_for_status(message_id: int, status: str, timeout: float = 30):
    """Poll an outbox row until a worker brings it to `status`; returns the row."""
    from grants.core.outbox import OutboxMessage
    from grants.extensions import db

    deadline = time.monotonic() + timeout
    message = None
    while time.monotonic() < deadline:
        db.session.expire_all()
        message = db.session.get(OutboxMessage, message_id)
        if message.status == status:
            return message
        time.sleep(0.2)
    raise AssertionError(f"outbox row {message_id} is {message and message.status}, not {status}")


def link_in(body: str) -> str:
    """The path of the first link to this site in a mail body."""
    match = re.search(r"https?://[^/\s]+(/\S+)", body)
    assert match, body
    return match.group(1)


def run_concurrently(app, functions: list[Callable]) -> list:
    """Run each function in its own thread, app context and session, released together.

    The results in order; a function that raised leaves its exception (after a rollback).
    """
    from grants.extensions import db

    results: list = [None] * len(functions)
    barrier = threading.Barrier(len(functions))

    def run(index, function):
        with app.app_context():
            try:
                barrier.wait()
                results[index] = function()
                db.session.commit()
            except Exception as exc:  # collected for the assertions
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
