"""Side effects bound to the outcome of the current transaction (after commit, after rollback)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from grants.extensions import db

_ON_COMMIT = "on_commit"
_ON_ROLLBACK = "on_rollback"


def _remember(key: str, callback: Callable[[], None]) -> None:
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its end is reported, even if no SQL is sent
    session.info.setdefault(key, []).append(callback)


def on_commit(callback: Callable[[], None]) -> None:
    """Run callback once the current transaction has committed; never if it does not."""
    _remember(_ON_COMMIT, callback)


def on_rollback(callback: Callable[[], None]) -> None:
    """Run callback if the current transaction ends without a commit."""
    _remember(_ON_ROLLBACK, callback)


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint (SQLAlchemy reports it as a commit too); wait for the root
    session.info.pop(_ON_ROLLBACK, None)
    for callback in session.info.pop(_ON_COMMIT, []):
        callback()


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint; the outer transaction decides
    # After a commit both lists are empty; anything left belongs to a rollback or a close.
    session.info.pop(_ON_COMMIT, None)
    for callback in session.info.pop(_ON_ROLLBACK, []):
        callback()


def install_transaction_hooks(app: Flask) -> None:
    """Listen to every session's commits and transaction ends (once per process)."""
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_transaction_end", _ended)
