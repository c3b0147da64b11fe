"""Is the workflow table itself sound: reachable states, final states, roles, notifications?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grants.applications.models import Application
from grants.applications.workflow import (
    STATUSES,
    TRANSITIONS,
    TransitionError,
    allowed_transitions,
    apply_transition,
)
from grants.core.access import ROLES
from grants.notifications.events import EVENTS
from tests.conftest import ROOT


def test_every_status_is_reachable_from_draft():
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        current = frontier.pop()
        for transition in TRANSITIONS.values():
            if current in transition.sources and transition.target not in reached:
                reached.add(transition.target)
                frontier.append(transition.target)
    assert reached == set(STATUSES)


def test_final_states_have_no_way_out():
    for status in (s for s in STATUSES.values() if s.final):
        assert not [t for t in TRANSITIONS.values() if status.code in t.sources], status.code


def test_transitions_name_known_states_roles_and_events():
    for transition in TRANSITIONS.values():
        assert set(transition.sources) <= set(STATUSES)
        assert transition.target in STATUSES
        assert set(transition.roles) <= set(ROLES)
        assert set(transition.notifications) <= set(EVENTS)


def test_every_notification_has_its_mail_template():
    for event in EVENTS.values():
        assert Path(ROOT, "templates", "emails", f"{event.template}.txt").is_file(), event.template


def test_every_status_has_both_labels():
    for status in STATUSES.values():
        assert str(status.staff_label) and str(status.applicant_label)


class _Actor:
    def __init__(self, *roles):
        self.roles = set(roles)
        self.id = None


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
@pytest.mark.parametrize("role", ROLES)
def test_each_transition_is_refused_to_roles_it_does_not_name(name, role):
    transition = TRANSITIONS[name]
    application = Application(status=transition.sources[0])
    if role in transition.roles:
        assert transition in allowed_transitions(application.status, {role})
        return
    with pytest.raises(TransitionError) as error:
        apply_transition(application, name, _Actor(role))
    assert error.value.code == "role"
    assert application.status == transition.sources[0]


def test_approving_a_draft_is_refused_and_changes_nothing():
    application = Application(status="draft")
    with pytest.raises(TransitionError) as error:
        apply_transition(application, "approve", _Actor("approver"))
    assert error.value.code == "state" and application.status == "draft"


def test_a_stale_page_is_refused():
    application = Application(status="submitted")
    with pytest.raises(TransitionError) as error:
        apply_transition(application, "withdraw", _Actor("applicant"), seen_status="draft")
    assert error.value.code == "stale" and application.status == "submitted"


def test_workflow_graph_command_prints_every_transition(app):
    result = app.test_cli_runner().invoke(args=["workflow-graph"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2")
    for transition in TRANSITIONS.values():
        for source in transition.sources:
            assert f"{source} --> {transition.target}: {transition.name}" in result.output
