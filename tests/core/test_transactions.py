"""Do side effects wait for the outcome of the whole transaction?"""

from __future__ import annotations

from grants.core.transactions import on_commit, on_rollback
from grants.extensions import db


def test_commit_callbacks_run_after_commit_only():
    ran = []
    on_commit(lambda: ran.append("commit"))
    on_rollback(lambda: ran.append("rollback"))
    assert ran == []
    db.session.commit()
    assert ran == ["commit"]


def test_rollback_callbacks_run_when_the_transaction_ends_without_commit():
    ran = []
    on_commit(lambda: ran.append("commit"))
    on_rollback(lambda: ran.append("rollback"))
    db.session.rollback()
    assert ran == ["rollback"]


def test_a_released_savepoint_is_not_yet_a_commit():
    ran = []
    with db.session.begin_nested():
        on_commit(lambda: ran.append("commit"))
    assert ran == []
    db.session.rollback()
    assert ran == []
