"""The staff queue: who sees it, what the filters, search, sorting and pages show, assignment."""

from __future__ import annotations

import re
from datetime import date, timedelta

import factory
import pytest
from sqlalchemy import event, select

from grants.auth.models import User
from grants.core.audit import AuditEvent
from grants.core.models import utcnow
from grants.extensions import db
from grants.reviews.models import ChangeRequest
from grants.reviews.queue import (
    PAGE_SIZE,
    QueueFilters,
    load_queue,
)
from tests.factories import (
    Base,
    CallFactory,
    OrganisationFactory,
    ProgrammeFactory,
    SubmittedApplicationFactory,
    UserFactory,
)
from tests.helpers import csrf_token, logged_in_client

ROW_LINK = re.compile(r'<a class="kern-link" href="/review/(\d+)">([^<]+)</a>')


class ChangeRequestFactory(Base):
    class Meta:
        model = ChangeRequest

    message = "Bitte den Kostenplan ergänzen."
    sections = factory.LazyFunction(lambda: ["costs"])
    deadline = factory.LazyFunction(lambda: date.today() + timedelta(days=14))
    requested_by = factory.SubFactory(UserFactory, roles=["staff"])


def references(response) -> list[str]:
    """The reference numbers listed in the queue table, in order."""
    assert response.status_code == 200, response.status_code
    return [ref for _id, ref in ROW_LINK.findall(response.get_data(as_text=True))]


def listed(user, **filters) -> list[str]:
    """The references of every page of the queue for these filters, through the query code."""
    found, page = [], 1
    while True:
        result = load_queue(QueueFilters(**filters, page=page), user)
        found += [row.reference for row in result.rows]
        if page >= result.pages:
            return found
        page += 1


def assert_same_queue(user, filters: dict, other: dict) -> None:
    """Both sets of filters list the same rows, counts, pages and totals (pages 1, 2 and one
    past the end)."""
    assert listed(user, **filters) == listed(user, **other)
    for page in (1, 2, 99):
        one = load_queue(QueueFilters(**filters, page=page), user)
        two = load_queue(QueueFilters(**other, page=page), user)
        assert one.counts == two.counts
        assert (one.page, one.pages, one.total) == (two.page, two.pages, two.total)
        assert one.rows == two.rows


@pytest.fixture
def creator():
    return UserFactory()


@pytest.fixture
def call():
    return CallFactory()


def make(call, creator, **fields):
    return SubmittedApplicationFactory(call=call, created_by=creator, **fields)


# Who may see it


@pytest.mark.parametrize("role", ["applicant", "finance", "admin"])
def test_only_staff_and_approvers_reach_the_queue(client, role):
    logged_in_client(client, role)
    assert client.get("/review").status_code == 403


@pytest.mark.parametrize("role", ["staff", "approver"])
def test_staff_and_approvers_see_the_queue(client, role, call, creator):
    application = make(call, creator)
    logged_in_client(client, role)
    assert references(client.get("/review")) == [application.reference]


def test_drafts_and_never_submitted_withdrawals_are_never_listed(client, call, creator):
    make(call, creator, status="draft", reference=None, submitted_at=None)
    make(call, creator, status="withdrawn", reference=None, submitted_at=None)
    submitted = make(call, creator)
    withdrawn_later = make(call, creator, status="withdrawn")
    logged_in_client(client, "staff")
    shown = references(client.get("/review"))
    assert sorted(shown) == sorted([submitted.reference, withdrawn_later.reference])
    assert references(client.get("/review?status=draft")) == shown  # an unknown status is ignored


# Filters


def test_filters_by_programme_call_status_and_district(call, creator):
    other_call = CallFactory(programme=call.programme)
    other_programme_call = CallFactory(programme=ProgrammeFactory())
    a = make(call, creator, district="1")
    b = make(other_call, creator, district="2", status="in_review")
    c = make(other_programme_call, creator, district="2")
    staff = UserFactory(roles=["staff"])

    assert sorted(listed(staff, programme=call.programme_id)) == sorted([a.reference, b.reference])
    assert listed(staff, call=other_call.id) == [b.reference]
    assert listed(staff, status="in_review") == [b.reference]
    assert sorted(listed(staff, district="2")) == sorted([b.reference, c.reference])
    assert listed(staff, district="2", status="submitted") == [c.reference]


def test_filters_by_assignment(call, creator):
    me = UserFactory(roles=["staff"])
    colleague = UserFactory(roles=["staff"])
    mine = make(call, creator, assigned_to=me)
    theirs = make(call, creator, assigned_to=colleague)
    nobodys = make(call, creator)

    assert listed(me, assigned="me") == [mine.reference]
    assert listed(me, assigned="unassigned") == [nobodys.reference]
    assert listed(me, assigned=str(colleague.id)) == [theirs.reference]


def test_overdue_means_staff_waited_too_long_or_a_change_deadline_passed(call, creator):
    staff = UserFactory(roles=["staff"])
    long_ago = utcnow() - timedelta(days=40)
    waiting = make(call, creator, submitted_at=long_ago, status="in_review")
    proposed = make(call, creator, submitted_at=long_ago, status="decision_proposed")
    make(call, creator, submitted_at=utcnow() - timedelta(days=3))  # recent
    make(call, creator, submitted_at=long_ago, status="approved", decided_at=utcnow())
    late = make(call, creator, status="changes_requested")
    ChangeRequestFactory(application=late, deadline=date.today() - timedelta(days=1))
    in_time = make(call, creator, status="changes_requested", submitted_at=long_ago)
    ChangeRequestFactory(application=in_time, deadline=date.today() + timedelta(days=5))
    answered = make(call, creator)
    ChangeRequestFactory(
        application=answered, deadline=date.today() - timedelta(days=9), answered_at=utcnow()
    )

    assert sorted(listed(staff, overdue=True)) == sorted(
        [waiting.reference, proposed.reference, late.reference]
    )


@pytest.mark.parametrize("sort", ["submitted_at", "reference", "title", "organisation", "status"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_overdue_lists_counts_and_sorts_as_the_same_rows_filtered_otherwise(
    call, creator, sort, direction
):
    """The overdue filter queries each way of being overdue on its own (matching); the
    district filter selects the same rows here and must give the same pages and counts."""
    staff = UserFactory(roles=["staff"])
    organisations = [OrganisationFactory(name=name) for name in ("Ahorn e.V.", "Zeta e.V.")]
    today = date.today()

    def add(i: int, status: str, days_ago: int, overdue: bool, deadline_in=None, answered=None):
        application = make(
            call,
            creator,
            title=f"Sprachcafé {(i * 7) % 11}",  # repeated titles: the id breaks ties
            status=status,
            organisation=organisations[i % 2],
            submitted_at=utcnow() - timedelta(days=days_ago, hours=(i * 5) % 13),
            district="1" if overdue else "2",
            decided_at=utcnow() if status == "approved" else None,
        )
        if deadline_in is not None:
            ChangeRequestFactory(
                application=application,
                deadline=today + timedelta(days=deadline_in),
                answered_at=answered,
            )

    for i in range(PAGE_SIZE + 7):
        if i % 4 == 3:  # the deadline of the open change request passed
            add(i, "changes_requested", 10 + i, True, deadline_in=-1 - i % 3)
        else:  # staff waited too long
            add(i, ("submitted", "in_review", "decision_proposed")[i % 4], 29 + i, True)
    add(100, "in_review", 27, False)  # not yet
    add(101, "approved", 90, False)
    add(102, "changes_requested", 60, False, deadline_in=0)  # due today, not past
    add(103, "in_review", 60, True, deadline_in=-5, answered=utcnow())  # answered, waited long

    for status in (None, "in_review"):
        overdue = dict(overdue=True, status=status, sort=sort, dir=direction)
        filtered = dict(district="1", status=status, sort=sort, dir=direction)
        assert_same_queue(staff, overdue, filtered)
        assert len(listed(staff, **overdue)) == (PAGE_SIZE + 8 if status is None else 9)
    # With a search as well (its own statement): the same rows again.
    assert listed(staff, overdue=True, q="sprachcaf", sort=sort, dir=direction) == listed(
        staff, district="1", sort=sort, dir=direction
    )


def test_the_filter_form_and_status_bar_keep_the_filters_in_the_url(client, call, creator):
    make(call, creator, district="3")
    logged_in_client(client, "staff")
    page = client.get(f"/review?district=3&q=Projekt&programme={call.programme_id}")
    html = page.get_data(as_text=True)
    assert '<form method="get" action="/review"' in html
    assert 'name="q" value="Projekt"' in html
    assert f'<option value="{call.programme_id}" selected>' in html
    status_link = f"programme={call.programme_id}&amp;status=in_review&amp;district=3&amp;q=Projekt"
    assert status_link in html


# Search


def test_search_is_case_insensitive_over_reference_title_and_organisation(call, creator):
    staff = UserFactory(roles=["staff"])
    by_ref = make(call, creator, reference="KOMMAN-2026-0042", title="Treffpunkt")
    by_title = make(call, creator, title="Sprachcafé Opladen")
    by_org = make(
        call, creator, title="Nachhilfe", organisation=OrganisationFactory(name="Kulturbrücke e.V.")
    )
    make(call, creator, title="Etwas anderes")

    assert listed(staff, q="komman-2026-0042") == [by_ref.reference]
    assert listed(staff, q="SPRACHCAFÉ") == [by_title.reference]
    assert listed(staff, q="kulturbrücke") == [by_org.reference]


@pytest.mark.parametrize("sort", ["submitted_at", "reference", "title", "organisation", "status"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_search_lists_counts_and_sorts_as_the_same_rows_filtered_otherwise(
    call, creator, sort, direction
):
    """Searches take their own statement (search_query); the district filter, which takes
    the general one, selects the same rows here and must give the same pages and counts."""
    staff = UserFactory(roles=["staff"])
    statuses = ("submitted", "in_review", "changes_requested", "rejected")
    organisations = [OrganisationFactory(name=name) for name in ("Ahorn e.V.", "Zeta e.V.")]
    for i in range(PAGE_SIZE + 7):
        make(
            call,
            creator,
            title=f"Sprachcafé {(i * 7) % 11}",  # repeated titles: the id breaks ties
            status=statuses[i % len(statuses)],
            organisation=organisations[i % 2],
            submitted_at=utcnow() - timedelta(hours=(i * 5) % 13),
            decided_at=utcnow() if i % len(statuses) == 3 else None,
        )
    for _ in range(3):
        make(call, creator, title="Etwas anderes", district="2")

    for status in (None, "in_review"):
        searched = dict(q="sprachcaf", status=status, sort=sort, dir=direction)
        filtered = dict(district="1", status=status, sort=sort, dir=direction)
        assert_same_queue(staff, searched, filtered)
        assert len(listed(staff, **searched)) == (PAGE_SIZE + 7 if status is None else 8)


def test_a_search_finds_an_organisation_under_its_new_name_at_once(call, creator):
    staff = UserFactory(roles=["staff"])
    organisation = OrganisationFactory(name="Kulturbrücke e.V.")
    application = make(call, creator, title="Nachhilfe", organisation=organisation)
    assert listed(staff, q="kulturbrücke") == [application.reference]

    organisation.name = "Brückenschlag e.V."
    application.title = "Hausaufgabenhilfe"
    db.session.flush()
    assert listed(staff, q="kulturbrücke") == []
    assert listed(staff, q="brückenschlag") == [application.reference]
    assert listed(staff, q="hausaufgaben") == [application.reference]
    assert listed(staff, q="nachhilfe") == []


def test_a_search_never_matches_across_two_fields(call, creator):
    staff = UserFactory(roles=["staff"])
    make(call, creator, title="Treffpunkt Opladen", organisation=OrganisationFactory(name="Eltern"))
    assert listed(staff, q="opladen eltern") == []
    assert len(listed(staff, q="opladen")) == 1


@pytest.fixture
def count_limit(monkeypatch):
    """Searches are counted up to 5 matches only."""
    monkeypatch.setattr("grants.reviews.queue.SEARCH_COUNT_LIMIT", 5)
    return 5


def test_a_search_past_the_count_limit_pages_on_without_counts(client, call, creator, count_limit):
    statuses = ("submitted", "in_review")
    for i in range(PAGE_SIZE + 5):
        make(call, creator, title=f"Sprachcafé {i}", status=statuses[i % 2])
    make(call, creator, title="Etwas anderes", district="2")
    staff = UserFactory(roles=["staff"])

    first = load_queue(QueueFilters(q="sprachcaf"), staff)
    second = load_queue(QueueFilters(q="sprachcaf", page=2), staff)
    assert (first.counts, first.total, first.page, first.pages) == (None, None, 1, 2)
    assert (second.counts, second.total, second.page, second.pages) == (None, None, 2, 2)
    assert first.rows + second.rows == load_queue(QueueFilters(district="1"), staff).rows + (
        load_queue(QueueFilters(district="1", page=2), staff).rows
    )
    assert (second.first_index, second.last_index) == (PAGE_SIZE + 1, PAGE_SIZE + 5)
    in_review = load_queue(QueueFilters(q="sprachcaf", status="in_review"), staff)
    assert {row.status for row in in_review.rows} == {"in_review"}
    assert len(in_review.rows) == (PAGE_SIZE + 5) // 2
    past_the_end = load_queue(QueueFilters(q="sprachcaf", page=3), staff)
    assert (past_the_end.rows, past_the_end.page, past_the_end.pages) == ([], 3, 3)
    # Up to the limit, a search is counted.
    for _ in range(count_limit):
        make(call, creator, title="Grenzfall")
    assert load_queue(QueueFilters(q="grenzfall"), staff).total == count_limit
    make(call, creator, title="Grenzfall")
    assert load_queue(QueueFilters(q="grenzfall"), staff).total is None

    logged_in_client(client, "staff")  # German, the default
    html = client.get("/review?q=sprachcaf").get_data(as_text=True)
    assert "Alle (mehr als 5)" in html
    assert "Eingereicht</a>" in html and "Eingereicht (" not in html
    assert "Anträge 1 bis 25" in html
    assert "Die Suche trifft auf mehr als 5 Anträge" in html
    assert 'href="/review?q=sprachcaf&amp;page=2"' in html
    html = client.get("/review?q=sprachcaf&page=3").get_data(as_text=True)
    assert "Nach Seite 2 folgen keine weiteren Anträge." in html


def test_search_treats_wildcards_literally(call, creator):
    staff = UserFactory(roles=["staff"])
    make(call, creator, title="Alles andere")
    percent = make(call, creator, title="100% Beteiligung")
    assert listed(staff, q="%") == [percent.reference]
    assert listed(staff, q="_") == []


# Sorting and pages


def test_sorts_by_each_column_both_ways(client, call, creator):
    now = utcnow()
    b = make(
        call,
        creator,
        reference="S-2",
        title="Alpha",
        status="in_review",
        submitted_at=now - timedelta(days=2),
        organisation=OrganisationFactory(name="Zeta e.V."),
    )
    a = make(
        call,
        creator,
        reference="S-1",
        title="Beta",
        status="submitted",
        submitted_at=now - timedelta(days=1),
        organisation=OrganisationFactory(name="Ahorn e.V."),
    )
    logged_in_client(client, "staff")
    assert references(client.get("/review")) == ["S-1", "S-2"]  # newest first
    assert references(client.get("/review?sort=submitted_at&dir=asc")) == ["S-2", "S-1"]
    assert references(client.get("/review?sort=reference&dir=asc")) == [a.reference, b.reference]
    assert references(client.get("/review?sort=reference&dir=desc")) == ["S-2", "S-1"]
    assert references(client.get("/review?sort=title&dir=asc")) == ["S-2", "S-1"]
    assert references(client.get("/review?sort=organisation&dir=asc")) == ["S-1", "S-2"]
    assert references(client.get("/review?sort=status&dir=asc")) == ["S-1", "S-2"]  # workflow order
    html = client.get("/review?sort=title&dir=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert 'href="/review?sort=title"' in html  # the other way round (desc is the default)


def test_pages_of_25_with_the_current_page_marked(client, call, creator):
    now = utcnow()
    made = [
        make(call, creator, submitted_at=now - timedelta(minutes=i)).reference
        for i in range(PAGE_SIZE + 5)
    ]
    logged_in_client(client, "staff")
    first = client.get("/review")
    assert references(first) == made[:PAGE_SIZE]
    assert 'href="/review?page=2"><span class="kern-sr-only">' in first.get_data(as_text=True)
    second = client.get("/review?page=2")
    assert references(second) == made[PAGE_SIZE:]
    html = second.get_data(as_text=True)
    assert re.search(r'href="/review\?page=2" aria-current="page"', html)
    assert 'rel="prev"' in html and 'rel="next"' not in html
    assert references(client.get("/review?page=99")) == made[PAGE_SIZE:]  # past the end: last


def test_counts_per_status_respect_every_filter_but_the_status(client, call, creator):
    for status, number in (("submitted", 3), ("in_review", 2)):
        for _ in range(number):
            make(call, creator, status=status, district="1")
    make(call, creator, status="in_review", district="2")
    staff = UserFactory(roles=["staff"])

    result = load_queue(QueueFilters(district="1", status="submitted"), staff)
    assert result.counts["submitted"] == 3
    assert result.counts["in_review"] == 2
    assert result.counts["approved"] == 0
    assert "draft" not in result.counts
    assert result.total == 3

    logged_in_client(client, "staff")
    html = client.get("/review?district=1&status=submitted").get_data(as_text=True)
    assert re.search(r'aria-current="true">Submitted \(3\)|aria-current="true">Eingereicht', html)
    assert "(2)" in html


# Assignment


def _assign(client, application, assignee_id, next_url="/review?status=submitted"):
    return client.post(
        f"/review/{application.id}/assign",
        data={
            "assignee_id": assignee_id,
            "next": next_url,
            "csrf_token": csrf_token(client, "/review"),
        },
    )


def test_staff_assign_a_colleague_themselves_and_nobody(client, call, creator):
    colleague = UserFactory(roles=["staff"], full_name="Clara Kollegin")
    application = make(call, creator)
    me = logged_in_client(client, "staff")

    response = _assign(client, application, str(colleague.id))
    assert response.status_code == 302
    assert response.headers["Location"] == "/review?status=submitted"
    assert application.assigned_to_id == colleague.id

    response = client.post(
        f"/review/{application.id}/assign",
        data={"assignee_id": "", "assign": "me", "csrf_token": csrf_token(client, "/review")},
    )
    assert response.headers["Location"] == "/review"
    assert application.assigned_to_id == me.id  # "Assign to me" wins over the select

    _assign(client, application, "")
    assert application.assigned_to_id is None

    actions = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "application.assigned")
    ).all()
    assert [d["assignee_id"] for d in actions] == [colleague.id, me.id, None]


def test_the_queue_offers_assign_to_me_and_the_active_staff(client, call, creator):
    UserFactory(roles=["staff"], full_name="Aktive Kollegin")
    UserFactory(roles=["staff"], full_name="Ehemaliger Kollege", active=False)
    UserFactory(roles=["approver"], full_name="Nur Leitung")
    application = make(call, creator)
    me = logged_in_client(client, "staff")
    html = client.get("/review").get_data(as_text=True)
    assert f'<option value="{me.id}" selected>' in html  # the default for "Assign"
    assert f'formaction="/review/{application.id}/assign" name="assign" value="me"' in html
    assert "Aktive Kollegin" in html
    assert "Ehemaliger Kollege" not in html
    assert "Nur Leitung" not in html


def test_assigning_someone_who_is_not_active_staff_changes_nothing(client, call, creator):
    approver = UserFactory(roles=["approver"])
    former = UserFactory(roles=["staff"], active=False)
    application = make(call, creator)
    logged_in_client(client, "staff")
    for assignee in (approver, former):
        response = _assign(client, application, str(assignee.id))
        assert response.status_code == 302
        assert application.assigned_to_id is None
    assert _assign(client, application, "abc").status_code == 302
    assert application.assigned_to_id is None


def test_assignment_ignores_a_foreign_next_url(client, call, creator):
    application = make(call, creator)
    me = logged_in_client(client, "staff")
    response = _assign(client, application, str(me.id), next_url="https://evil.example/")
    assert response.headers["Location"] == "/review"


def test_approvers_see_no_assignment_forms_and_may_not_assign(client, call, creator):
    application = make(call, creator)
    approver = logged_in_client(client, "approver")
    assert 'formaction="/review/' not in client.get("/review").get_data(as_text=True)
    assert _assign(client, application, str(approver.id)).status_code == 403
    assert application.assigned_to_id is None


def test_drafts_cannot_be_assigned(client, call, creator):
    draft = make(call, creator, status="draft", reference=None, submitted_at=None)
    me = logged_in_client(client, "staff")
    assert _assign(client, draft, str(me.id)).status_code == 404
    assert draft.assigned_to_id is None


def test_assignment_needs_the_csrf_token(client, call, creator):
    application = make(call, creator)
    me = logged_in_client(client, "staff")
    response = client.post(f"/review/{application.id}/assign", data={"assignee_id": me.id})
    assert response.status_code in (302, 400)
    assert application.assigned_to_id is None


# Speed: the number of statements does not grow with the data


def _statements_for(client, url: str) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.expunge_all()  # as in production, where every request starts a new session
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def _fill(call, creator, number: int, staff: list) -> None:
    for i in range(number):
        application = make(
            call,
            creator,
            assigned_to=staff[i % len(staff)] if i % 3 else None,
            status=("submitted", "in_review", "changes_requested")[i % 3],
            submitted_at=utcnow() - timedelta(days=10 * i),
        )
        if application.status == "changes_requested":
            ChangeRequestFactory(application=application)


def test_the_queue_page_costs_the_same_statements_with_5_and_40_applications(
    client, creator, monkeypatch
):
    # The search for "projekt" is counted with 5 applications and not with 40.
    monkeypatch.setattr("grants.reviews.queue.SEARCH_COUNT_LIMIT", 10)
    staff = [UserFactory(roles=["staff"]) for _ in range(3)]
    me = logged_in_client(client, "staff")
    urls = [
        "/review",
        "/review?q=projekt",
        "/review?q=projekt&overdue=1&assigned=unassigned",
        "/review?sort=organisation",
        "/review?overdue=1&district=1",
        "/review?q=nothing-matches-this",
    ]

    user_ids = [user.id for user in (creator, me, *staff)]
    _fill(CallFactory(), creator, 5, [*staff, me])
    few = [_statements_for(client, url) for url in urls]
    creator, me, *staff = (db.session.get(User, user_id) for user_id in user_ids)
    _fill(CallFactory(), creator, 35, [*staff, me])
    many = [_statements_for(client, url) for url in urls]

    assert few == many
    assert max(many) <= 6  # user, roles, unread count, staff, calls, page with counts
