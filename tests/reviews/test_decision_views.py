"""Can staff propose a decision in the forms, and a second person sign it off or return it?"""

from __future__ import annotations

from decimal import Decimal

from grants.extensions import db
from grants.reviews import operations as reviews
from tests.factories import CallFactory, UserFactory
from tests.helpers import log_in, post_form, queued_mails
from tests.reviews.test_decisions import in_review, propose, submitted_application


def test_staff_proposes_a_partial_approval_with_reasons(client):
    staff = UserFactory(roles=["staff"])
    approver = UserFactory(roles=["approver"])
    application = in_review(staff)
    log_in(client, staff)
    url = f"/review/{application.id}/decision"
    page = client.get(url).get_data(as_text=True)
    assert "1.080,00" in page  # the suggested amount: requested and possible
    refused = post_form(
        client,
        url,
        {
            "kind": "approve",
            "amount": "800,00",
            "period_start": "2026-03-01",
            "period_end": "2026-12-31",
            "seen_status": "in_review",
        },
    )
    assert refused.status_code == 400 and 'href="#reasons"' in refused.get_data(as_text=True)
    assert application.status == "in_review"
    response = post_form(
        client,
        url,
        {
            "kind": "approve",
            "amount": "800,00",
            "reasons": "Honorarsatz gekürzt",
            "period_start": "2026-03-01",
            "period_end": "2026-12-31",
            "seen_status": "in_review",
        },
    )
    assert response.status_code == 302
    assert application.status == "decision_proposed"
    decision = reviews.pending_decision(application)
    assert (decision.kind, decision.amount) == ("partial_approval", Decimal("800.00"))
    [asked] = [
        m for m in queued_mails(approver.email) if m["template"] == "reviews/proposal_waiting"
    ]
    assert application.reference in asked["subject"]
    waiting = [m for m in queued_mails(staff.email) if m["template"] == "reviews/proposal_waiting"]
    assert waiting == []  # the proposer is not asked to sign off


def test_a_grant_above_the_recomputed_grant_is_refused(client):
    staff = UserFactory(roles=["staff"])
    application = in_review(staff)
    log_in(client, staff)
    response = post_form(
        client,
        f"/review/{application.id}/decision",
        {
            "kind": "approve",
            "amount": "5.000,00",
            "period_start": "2026-03-01",
            "period_end": "2026-12-31",
            "seen_status": "in_review",
        },
    )
    assert response.status_code == 400 and 'href="#amount"' in response.get_data(as_text=True)
    assert reviews.pending_decision(application) is None


def test_approver_signs_off_and_the_applicant_is_told(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    propose(application, staff)
    log_in(client, approver)
    url = f"/review/{application.id}/sign-off"
    assert "1.080,00" in client.get(url).get_data(as_text=True)
    assert post_form(client, url, {"seen_status": "decision_proposed"}).status_code == 302
    assert application.status == "approved"
    member = application.organisation.memberships[0].user
    assert application.reference in queued_mails(member.email)[-1]["subject"]


def test_the_proposer_sees_no_sign_off_button_and_cannot_post_one(client):
    both = UserFactory(roles=["staff", "approver"])
    application = in_review(both)
    propose(application, both)
    log_in(client, both)
    url = f"/review/{application.id}/sign-off"
    page = client.get(url).get_data(as_text=True)
    assert f'action="{url}"' not in page
    post_form(
        client, url, {"seen_status": "decision_proposed"}, form_url=f"/review/{application.id}"
    )
    assert application.status == "decision_proposed"


def test_sign_off_over_budget_shows_the_figures_and_changes_nothing(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff, CallFactory(budget=Decimal("1000.00")))
    propose(application, staff)
    log_in(client, approver)
    url = f"/review/{application.id}/sign-off"
    response = post_form(client, url, {"seen_status": "decision_proposed"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1.000,00" in page and "1.080,00" in page
    assert application.status == "decision_proposed"


def test_approver_returns_the_proposal_with_a_comment(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    propose(application, staff)
    log_in(client, approver)
    url = f"/review/{application.id}/return"
    empty = post_form(
        client,
        url,
        {"comment": "", "seen_status": "decision_proposed"},
        form_url=f"/review/{application.id}/sign-off",
    )
    assert empty.status_code == 400
    done = post_form(
        client,
        url,
        {"comment": "Zeitraum prüfen", "seen_status": "decision_proposed"},
        form_url=f"/review/{application.id}/sign-off",
    )
    assert done.status_code == 302 and application.status == "in_review"


def test_a_stale_sign_off_page_writes_nothing(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    propose(application, staff)
    log_in(client, approver)
    url = f"/review/{application.id}/sign-off"
    token_page = f"/review/{application.id}/sign-off"
    reviews.return_proposal(application, "anders", UserFactory(roles=["approver"]))
    propose(application, staff)
    db.session.flush()
    post_form(client, url, {"seen_status": "in_review"}, form_url=token_page)
    assert application.status == "decision_proposed"


def test_applicants_and_staff_cannot_sign_off(client):
    staff = UserFactory(roles=["staff"])
    application = in_review(staff)
    propose(application, staff)
    log_in(client, UserFactory(roles=["staff"]))
    assert client.get(f"/review/{application.id}/sign-off").status_code == 403
    post_form(client, "/logout", {}, form_url="/start")
    log_in(client, application.organisation.memberships[0].user)
    assert client.get(f"/review/{application.id}/sign-off").status_code == 403
    assert client.get(f"/review/{application.id}/decision").status_code == 403


def test_budget_overview_shows_committed_and_remaining(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    application.call.programme.total_budget = Decimal("40000.00")
    propose(application, staff)
    reviews.sign_off(application, approver)
    submitted_application()  # another programme, nothing committed
    log_in(client, UserFactory(roles=["finance"]))
    page = client.get("/review/budget").get_data(as_text=True)
    assert "1.080,00" in page and "38.920,00" in page


def test_the_applicant_sees_the_signed_off_result(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    application = in_review(staff)
    propose(application, staff, amount="900.00", reasons="Materialkosten gekürzt")
    reviews.sign_off(application, approver)
    log_in(client, application.organisation.memberships[0].user)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "900,00" in page and "Materialkosten gekürzt" in page


def test_the_proposal_page_counts_the_programme_budget_when_the_call_has_none(client):
    staff, approver = UserFactory(roles=["staff"]), UserFactory(roles=["approver"])
    first = in_review(staff)
    programme = first.call.programme
    programme.total_budget = Decimal("2000.00")
    propose(first, staff)
    reviews.sign_off(first, approver)
    second = in_review(staff, CallFactory(programme=programme))
    log_in(client, staff)
    page = client.get(f"/review/{second.id}/decision").get_data(as_text=True)
    assert "920,00" in page  # 2,000 € minus the 1,080 € of the other call
