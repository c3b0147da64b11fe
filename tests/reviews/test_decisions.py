"""Do proposals and the four-eyes sign-off keep every rule – also under concurrency?"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from grants.applications import operations as applications
from grants.applications.models import Application
from grants.applications.workflow import TransitionError
from grants.auth.models import User
from grants.extensions import db
from grants.reviews import operations as reviews
from grants.reviews.models import Decision
from tests.applications.test_application_flow import complete_application
from tests.factories import CallFactory, MembershipFactory, UserFactory
from tests.helpers import run_concurrently

PERIOD = {"period_start": date(2026, 3, 1), "period_end": date(2026, 12, 31)}


def submitted_application(call=None) -> Application:
    """A complete application (requested grant 1,080 €) submitted and taken into review."""
    applicant = UserFactory()
    organisation = MembershipFactory(user=applicant).organisation
    application = applications.create_draft(call or CallFactory(), organisation, applicant)
    complete_application(application, applicant)
    applications.submit_application(application, applicant)
    db.session.flush()
    return application


def in_review(staff: User, call=None) -> Application:
    application = submitted_application(call)
    reviews.start_review(application, staff)
    return application


def propose(application, staff, amount="1080.00", **overrides):
    values = {
        "kind": "approval",
        "amount": None if amount is None else Decimal(amount),
        "reasons": None,
        "conditions": None,
        **PERIOD,
        **overrides,
    }
    return reviews.propose_decision(application, staff, **values)


def test_partial_approval_needs_reasons_and_never_exceeds_the_recomputed_grant():
    staff = UserFactory(roles=["staff"])
    application = in_review(staff)
    with pytest.raises(reviews.ReviewError) as error:
        propose(application, staff, amount="1081.00")
    assert error.value.code == "amount_above_grant"
    with pytest.raises(reviews.ReviewError) as error:
        propose(application, staff, amount="800.00")
    assert error.value.code == "reasons_missing"
    decision = propose(application, staff, amount="800.00", reasons="Honorar zu hoch")
    assert decision.kind == "partial_approval" and application.status == "decision_proposed"


def test_cut_cost_lines_lower_the_grant_a_proposal_may_reach():
    staff = UserFactory(roles=["staff"])
    application = in_review(staff)
    fees = application.cost_lines[0]  # 1,000 € fees
    with pytest.raises(reviews.ReviewError):
        reviews.review_cost_line(fees, Decimal("600.00"), "", staff)
    reviews.review_cost_line(fees, Decimal("600.00"), "Stundensatz über 50 €", staff)
    reviewed = reviews.recompute_grant(application)
    assert reviewed.admitted_costs == Decimal("800.00")
    assert reviewed.calculation.grant == Decimal("680.00")  # 90 % of 800 = 720, gap 680
    with pytest.raises(reviews.ReviewError):
        propose(application, staff, amount="700.00", reasons="Kürzung")


def test_the_proposer_can_never_sign_off_even_as_approver():
    both = UserFactory(roles=["staff", "approver"])
    application = in_review(both)
    propose(application, both)
    with pytest.raises(reviews.ReviewError) as error:
        reviews.sign_off(application, both)
    assert error.value.code == "own_proposal"
    assert application.status == "decision_proposed"


def test_staff_without_approver_role_cannot_sign_off():
    staff, colleague = UserFactory(roles=["staff"]), UserFactory(roles=["staff"])
    application = in_review(staff)
    propose(application, staff)
    with pytest.raises(TransitionError):
        reviews.sign_off(application, colleague)
    assert application.status == "decision_proposed"


def test_sign_off_approves_commits_the_amount_and_dates_the_decision():
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    propose(application, staff)
    decision = reviews.sign_off(application, approver)
    assert application.status == "approved" and application.decided_at is not None
    assert decision.state == "signed_off" and decision.signed_off_by_id == approver.id
    figures = reviews.budget_of(application.call.programme)
    assert (figures.committed, figures.decisions) == (Decimal("1080.00"), 1)


def test_sign_off_beyond_the_remaining_budget_is_refused_with_the_figures():
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    call = CallFactory(budget=Decimal("1500.00"))
    first, second = in_review(staff, call), in_review(staff, call)
    propose(first, staff)
    propose(second, staff)
    reviews.sign_off(first, approver)
    with pytest.raises(reviews.ReviewError) as error:
        reviews.sign_off(second, approver)
    assert error.value.code == "budget_exceeded"
    assert error.value.details["remaining"] == Decimal("420.00")
    assert second.status == "decision_proposed"


def test_returning_a_proposal_sends_it_back_to_review_with_a_comment():
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    decision = propose(application, staff)
    with pytest.raises(reviews.ReviewError):
        reviews.return_proposal(application, "  ", approver)
    reviews.return_proposal(application, "Bitte Zeitraum prüfen", approver)
    assert application.status == "in_review" and decision.state == "returned"


def test_rejection_needs_reasons_and_commits_nothing():
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    with pytest.raises(reviews.ReviewError):
        propose(application, staff, kind="rejection", amount=None)
    propose(application, staff, kind="rejection", amount=None, reasons="Nicht förderfähig")
    reviews.sign_off(application, approver)
    assert application.status == "rejected"
    assert reviews.budget_of(application.call.programme).committed == Decimal("0")


def test_the_database_refuses_a_self_signed_decision():
    staff = UserFactory(roles=["staff", "approver"])
    application = in_review(staff)
    decision = propose(application, staff)
    decision.signed_off_by_id = staff.id
    with pytest.raises(Exception, match="four_eyes"), db.session.begin_nested():
        db.session.flush()


@pytest.mark.committed
def test_two_approvers_signing_off_the_same_proposal_at_once_exactly_one_succeeds(app):
    staff = UserFactory(roles=["staff"])
    approvers = [UserFactory(roles=["approver"]) for _ in range(2)]
    application = in_review(staff)
    propose(application, staff)
    db.session.commit()
    ids = (application.id, [a.id for a in approvers])

    def sign_off_as(approver_id):
        return lambda: reviews.sign_off(
            db.session.get(Application, ids[0]), db.session.get(User, approver_id)
        )

    results = run_concurrently(app, [sign_off_as(a) for a in ids[1]])
    assert sum(isinstance(r, Decision) for r in results) == 1
    assert all(isinstance(r, (Decision, TransitionError, reviews.ReviewError)) for r in results)
    db.session.expire_all()
    assert db.session.get(Application, ids[0]).status == "approved"
    assert reviews.budget_of(application.call.programme).decisions == 1


@pytest.mark.committed
def test_twenty_concurrent_sign_offs_never_commit_more_than_the_budget(app):
    staff = UserFactory(roles=["staff"])
    approver = UserFactory(roles=["approver"])
    call = CallFactory(programme__total_budget=Decimal("10000.00"))
    proposals = []
    for _ in range(20):
        application = in_review(staff, call)
        propose(application, staff)  # 1,080 € each: 21,600 € together
        proposals.append(application.id)
    db.session.commit()
    approver_id, programme = approver.id, call.programme

    def sign_off(application_id):
        return lambda: reviews.sign_off(
            db.session.get(Application, application_id), db.session.get(User, approver_id)
        )

    results = run_concurrently(app, [sign_off(i) for i in proposals])
    approved = [r for r in results if isinstance(r, Decision)]
    refused = [r for r in results if isinstance(r, reviews.ReviewError)]
    assert len(approved) == 9 and len(refused) == 11  # 9 × 1,080 = 9,720 ≤ 10,000
    assert {r.code for r in refused} == {"budget_exceeded"}
    db.session.expire_all()
    figures = reviews.budget_of(programme)
    assert figures.committed == Decimal("9720.00") <= figures.total


def test_a_change_request_can_be_answered_after_the_call_has_closed():
    from datetime import timedelta

    from grants.core.models import utcnow

    staff = UserFactory(roles=["staff"])
    application = in_review(staff)
    reviews.request_changes(
        application,
        "Bitte Zeitraum anpassen",
        ["project"],
        (utcnow() + timedelta(days=10)).date(),
        staff,
    )
    application.call.closes_at = utcnow() - timedelta(days=1)
    applicant = application.organisation.memberships[0].user
    applications.submit_application(application, applicant)
    assert application.status == "submitted" and len(application.versions) == 2
    assert reviews.open_change_request(application) is None
