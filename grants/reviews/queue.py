"""The staff queue: filters from the URL, and one statement for the page's rows and the counts
per status, built once per QueueShape and run with parameters.

The counts per status come from counters that the database keeps (see ApplicationStatusCount)
when only a programme or call narrows the list; other filters count the matching rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from grants.applications.models import Application, matches_search, search_pattern
from grants.applications.workflow import STATUSES
from grants.auth.models import User, UserRole
from grants.core.models import LOCAL_TIMEZONE, utcnow
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.programmes.catalogue import DISTRICTS
from grants.programmes.models import Call, Programme
from grants.reviews.models import ChangeRequest

PAGE_SIZE = 25
# Submitted, in review or proposed for this many days without a decision: overdue.
OVERDUE_DAYS = 28
MAX_SEARCH_LENGTH = 100
# A search counts its matches up to this many. Past it the page says "more than 1,000" and
# pages on without a total: a search then costs about the same whatever the data size (counting
# every match of a term found in 13 % of 50,000 applications reads nearly the whole table).
SEARCH_COUNT_LIMIT = 1000

QUEUE_STATUSES = tuple(code for code in STATUSES if code != "draft")
# States in which staff (or the approver) owe the next step.
WAITING_FOR_STAFF = ("submitted", "in_review", "decision_proposed")
SORT_KEYS = ("submitted_at", "reference", "title", "organisation", "status")
DIRECTIONS = ("asc", "desc")

Assignee = aliased(User, name="assignee")

# Written as literals, not bound parameters, so PostgreSQL can match the partial indexes below
# also in the generic plans of prepared statements.
IN_QUEUE = "submitted_at IS NOT NULL AND status <> 'draft'"

# The indexes the queue needs (declared here, beside the queries they serve; migration 0004).
# Counts per status: an index-only scan over the queue's rows, not the whole table. With the
# submission time (and the id, on PostgreSQL) it also counts and lists the applications that
# have waited too long for staff from the index alone (migration 0010).
Index(
    "ix_application_queue_status",
    Application.status,
    Application.submitted_at,
    postgresql_include=["id"],
    postgresql_where=text(IN_QUEUE),
    sqlite_where=text(IN_QUEUE),
)
# Counts when a call or programme is chosen.
Index(
    "ix_application_queue_call",
    Application.call_id,
    Application.status,
    postgresql_where=text(IN_QUEUE),
    sqlite_where=text(IN_QUEUE),
)


def status_rank(status: ColumnElement[str]) -> ColumnElement[int]:
    """The status's place in the workflow, to sort by (literals, not bound parameters, so that
    PostgreSQL matches the expression of the index below)."""
    return case(
        {
            literal_column(f"'{code}'"): literal_column(str(rank))
            for rank, code in enumerate(STATUSES)
        },
        value=status,
    )


# The first page, newest first, and each sort: read an index backwards (or forwards) and
# stop after 25 rows.
for _name, _columns in (
    ("submitted", (Application.submitted_at, Application.id)),
    ("title", (Application.title, Application.id)),
    ("status_rank", (status_rank(Application.status), Application.id)),
    # The counts and rows for a district or an assignee, from the index alone.
    ("district", (Application.district, Application.status)),
    ("assigned", (Application.assigned_to_id, Application.status)),
):
    Index(
        f"ix_application_queue_{_name}",
        *_columns,
        postgresql_where=text(IN_QUEUE),
        sqlite_where=text(IN_QUEUE),
    )
# Sorted by organisation: the organisations in name order, each with its applications.
Index("ix_organisation_name", Organisation.name, Organisation.id)
# The search: a trigram index serves LIKE '%…%' (PostgreSQL with pg_trgm only).
Index(
    "ix_application_search_text_trgm",
    Application.search_text,
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")


class ApplicationStatusCount(db.Model):
    """How many applications of a call are in the queue with a status.

    Kept by database triggers on the application table (migration 0007), so every writer of a
    status is counted and the counters commit or roll back with the change itself. The triggers
    change the two counters of a transition in key order, so concurrent transitions cannot
    deadlock on them.
    """

    __tablename__ = "application_status_count"
    __table_args__ = (CheckConstraint("count >= 0", name="count_non_negative"),)

    call_id: Mapped[int] = mapped_column(
        ForeignKey("call.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class QueueFilters:
    """What the staff member asked for in the URL; unknown or malformed values are dropped."""

    programme: int | None = None
    call: int | None = None
    status: str | None = None
    district: str | None = None
    assigned: str | None = None  # "me", "unassigned" or a user id
    overdue: bool = False
    q: str = ""
    sort: str = "submitted_at"
    dir: str = "desc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        """Read the filters from request.args, ignoring what cannot be understood."""

        def number(name: str) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        status = args.get("status")
        district = args.get("district")
        assigned = (args.get("assigned") or "").strip()
        if assigned not in ("me", "unassigned") and not (assigned.isdigit() and len(assigned) < 10):
            assigned = None
        sort = args.get("sort")
        direction = args.get("dir")
        return cls(
            programme=number("programme"),
            call=number("call"),
            status=status if status in QUEUE_STATUSES else None,
            district=district if district in DISTRICTS else None,
            assigned=assigned or None,
            overdue=args.get("overdue") in ("1", "on", "true"),
            q=" ".join((args.get("q") or "").split())[:MAX_SEARCH_LENGTH],
            sort=sort if sort in SORT_KEYS else "submitted_at",
            dir=direction if direction in DIRECTIONS else "desc",
            page=max(number("page") or 1, 1),
        )

    def args(self, **changes) -> dict[str, str | int]:
        """The URL query for these filters (with changes), leaving out the defaults."""
        query = {}
        for name, default in _DEFAULTS.items():
            value = changes[name] if name in changes else getattr(self, name)
            if value != default:
                query[name] = 1 if value is True else value
        return query

    @property
    def active(self) -> bool:
        """True when anything narrows the list (sorting and paging do not)."""
        narrowing = asdict(self)
        for name in ("sort", "dir", "page"):
            narrowing.pop(name)
        return any(narrowing.values())


_DEFAULTS = {item.name: item.default for item in fields(QueueFilters)}


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue with everything the template shows.

    A search with more than SEARCH_COUNT_LIMIT matches is not counted: counts and total are
    None, and `pages` reaches one past this page while there are more.
    """

    filters: QueueFilters
    rows: list[QueueRow]
    counts: dict[str, int] | None  # per status, respecting every filter except the status
    total: int | None  # matching the filters, status included
    page: int
    pages: int

    @property
    def count_limit(self) -> int:
        """Up to how many matches a search is counted."""
        return SEARCH_COUNT_LIMIT

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.rows)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What one line of the queue shows (plain values: no ORM objects to build per row)."""

    id: int
    reference: str
    title: str | None
    status: str
    district: str | None
    submitted_at: datetime
    call_id: int
    assigned_to_id: int | None
    organisation_name: str
    assignee_name: str | None
    change_deadline: date | None  # of the open change request
    overdue: bool = False


ROW_COLUMNS = tuple(field.name for field in fields(QueueRow) if field.name != "overdue")


def _today(now: datetime):
    return now.astimezone(LOCAL_TIMEZONE).date()


def open_change_request_deadline():
    """The deadline of the unanswered change request of each application (correlated)."""
    return (
        select(func.min(ChangeRequest.deadline))
        .where(ChangeRequest.application_id == Application.id, ChangeRequest.answered_at.is_(None))
        .correlate(Application)
        .scalar_subquery()
    )


def overdue_conditions(waiting_since, today) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The two ways to be overdue, which exclude each other: staff owe a step since before
    `waiting_since` (the last submission), or the applicant let the deadline of an open change
    request pass before `today`. Queries take them one at a time (see matching): an index
    answers each, but not their OR."""
    waiting_too_long = and_(
        Application.status.in_(WAITING_FOR_STAFF),
        Application.submitted_at < waiting_since,
    )
    deadline_passed = and_(
        Application.status == "changes_requested",
        exists().where(
            ChangeRequest.application_id == Application.id,
            ChangeRequest.answered_at.is_(None),
            ChangeRequest.deadline < today,
        ),
    )
    return waiting_too_long, deadline_passed


def is_overdue(row, now: datetime) -> bool:
    """overdue_conditions for one loaded row (with status, submitted_at and change_deadline)."""
    if row.status in WAITING_FOR_STAFF:
        return row.submitted_at < now - timedelta(days=OVERDUE_DAYS)
    if row.status == "changes_requested":
        return row.change_deadline is not None and row.change_deadline < _today(now)
    return False


class QueueShape(NamedTuple):
    """Which filters are set (not their values) and the sort: what the queue's statements
    depend on. They are built once per shape and run with query_parameters()."""

    programme: bool
    call: bool
    status: bool
    district: bool
    assigned: str | None  # "someone" (me or a colleague) or "unassigned"
    overdue: bool
    search: bool
    sort: str
    dir: str

    @property
    def counted(self) -> bool:
        """True when the kept counters answer the counts: only a programme or call narrows."""
        return not (self.district or self.assigned or self.overdue or self.search)

    @classmethod
    def of(cls, filters: QueueFilters) -> QueueShape:
        assigned = filters.assigned
        return cls(
            programme=filters.programme is not None,
            call=filters.call is not None,
            status=filters.status is not None,
            district=filters.district is not None,
            assigned=assigned if assigned in (None, "unassigned") else "someone",
            overdue=filters.overdue,
            search=bool(filters.q),
            sort=filters.sort,
            dir=filters.dir,
        )


def query_parameters(filters: QueueFilters, user_id: int, now: datetime) -> dict:
    """The values of the filters for the statements of their shape, and the page's offset."""
    assignee = None
    if filters.assigned == "me":
        assignee = user_id
    elif filters.assigned and filters.assigned.isdigit():
        assignee = int(filters.assigned)
    return {
        "programme": filters.programme,
        "call": filters.call,
        "status": filters.status,
        "district": filters.district,
        "assignee": assignee,
        "waiting_since": now - timedelta(days=OVERDUE_DAYS),
        "today": _today(now),
        "pattern": search_pattern(filters.q) if filters.q else None,
        "limit": PAGE_SIZE,
        "offset": (filters.page - 1) * PAGE_SIZE,
        "count_limit": SEARCH_COUNT_LIMIT,
    }


def filter_conditions(shape: QueueShape, with_status: bool = True) -> list[ColumnElement[bool]]:
    """WHERE clauses on the application table only, so counts need no joins (all filters but
    "overdue": see matching)."""
    conditions: list[ColumnElement[bool]] = [
        # Withdrawn before ever being submitted: staff never saw it.
        Application.submitted_at.is_not(None),
        Application.status != literal_column("'draft'"),
    ]
    if with_status and shape.status:
        conditions.append(Application.status == bindparam("status"))
    if shape.call:
        conditions.append(Application.call_id == bindparam("call"))
    if shape.programme:
        programme_calls = select(Call.id).where(Call.programme_id == bindparam("programme"))
        conditions.append(Application.call_id.in_(programme_calls))
    if shape.district:
        conditions.append(Application.district == bindparam("district"))
    if shape.assigned == "unassigned":
        conditions.append(Application.assigned_to_id.is_(None))
    elif shape.assigned:
        conditions.append(Application.assigned_to_id == bindparam("assignee"))
    if shape.search:
        # Inlined when run (quoted by the dialect), not bound: PostgreSQL plans for this very
        # pattern, also when psycopg has prepared the statement (a generic plan guesses how
        # many rows match).
        conditions.append(matches_search(bindparam("pattern", type_=String, literal_execute=True)))
    return conditions


def _order_by(shape: QueueShape, columns: Mapping[str, ColumnElement]) -> list[ColumnElement]:
    """The sort of the queue over `columns`: the application table's (TABLE) or a CTE's."""
    if shape.sort == "status":
        column = status_rank(columns["status"])
    else:
        column = columns["organisation_name" if shape.sort == "organisation" else shape.sort]
    if shape.dir == "desc":
        return [column.desc(), columns["id"].desc()]
    return [column.asc(), columns["id"].asc()]


# What the queue sorts by, on the application table (with the organisation joined).
TABLE = {
    "id": Application.id,
    "status": Application.status,
    "submitted_at": Application.submitted_at,
    "reference": Application.reference,
    "title": Application.title,
    "organisation_name": Organisation.name,
}
# The statements of a shape are built once: building one costs more than running it.
_built_once = lru_cache(maxsize=512)


def matching(shape: QueueShape, keys: tuple[str, ...], with_status: bool = True):
    """The TABLE columns `keys` of the applications that match the filters, as a subquery.

    With the overdue filter it is the UNION ALL of one SELECT per way of being overdue
    (overdue_conditions), each answered by an index, where their OR made PostgreSQL read every
    open application.
    """
    ways = (true(),)  # no further condition
    if shape.overdue:
        ways = overdue_conditions(bindparam("waiting_since"), bindparam("today"))
    selects = []
    for way in ways:
        statement = select(*(TABLE[key].label(key) for key in keys)).where(
            *filter_conditions(shape, with_status), way
        )
        if "organisation_name" in keys:
            statement = statement.join(Organisation, Organisation.id == Application.organisation_id)
        selects.append(statement)
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("matching")


def _sort_keys(shape: QueueShape) -> tuple[str, ...]:
    """The TABLE keys a page needs to be sorted: the id, the status and the sort column."""
    sort_key = "organisation_name" if shape.sort == "organisation" else shape.sort
    return tuple(dict.fromkeys(("id", "status", sort_key)))  # the sort key may be the status


@_built_once
def ids_statement(shape: QueueShape) -> Select:
    """The ids of the matching applications in the order asked for, a page of them."""
    matches = matching(shape, _sort_keys(shape))
    return (
        select(matches.c.id)
        .order_by(*_order_by(shape, matches.c))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _rows_statement(ids) -> Select:
    """The columns of QueueRow for the applications `ids` selects: organisation, assignee and
    open change request are looked up for those rows only. Calls and programmes come from
    calls_for_filter(), which the page loads anyway."""
    return (
        select(
            Application.id,
            Application.reference,
            Application.title,
            Application.status,
            Application.district,
            Application.submitted_at,
            Application.call_id,
            Application.assigned_to_id,
            Organisation.name.label("organisation_name"),
            Assignee.full_name.label("assignee_name"),
            open_change_request_deadline().label("change_deadline"),
        )
        .join(Application.organisation)
        .outerjoin(Assignee, Application.assigned_to)
        .where(Application.id.in_(ids))
    )


def _with_counts(shape: QueueShape, rows: Select, counts: Select) -> Select:
    """The page's `rows` (QueueRow's columns, count NULL), sorted, and the `counts` (status,
    count) as one row per status (id NULL): counts and page come in one statement."""
    counts = counts.subquery("counts")
    both = union_all(
        rows.add_columns(null().label("count")),
        select(
            *(counts.c.status if name == "status" else null().label(name) for name in ROW_COLUMNS),
            counts.c.count,
        ),
    ).subquery("both")
    return select(both).order_by(*_order_by(shape, both.c))


@_built_once
def page_statement(shape: QueueShape) -> Select:
    """A page of ids_statement with the counts per status (see _with_counts)."""
    ids = select(ids_statement(shape).subquery("page").c.id)
    return _with_counts(shape, _rows_statement(ids), counts_statement(shape))


@_built_once
def search_statement(shape: QueueShape) -> Select:
    """A search page with the counts per status (see _with_counts), the matches looked up once.

    The matches (every filter but the status) are collected with the column they are sorted
    by, at most SEARCH_COUNT_LIMIT + 1 of them (the parameter count_limit), then counted, and
    the page is picked from them. With more, the page comes from the table instead,
    one row more telling whether another follows; PostgreSQL runs only the part whose
    condition on the number of matches holds.
    """
    found = matching(shape, _sort_keys(shape), with_status=False)
    matches = select(found).limit(bindparam("count_limit") + 1).cte("matches")
    matched = select(func.count()).select_from(matches).scalar_subquery()
    counted_page = (
        select(matches.c.id)
        .where(matched <= bindparam("count_limit"))
        .order_by(*_order_by(shape, matches.c))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    if shape.status:
        counted_page = counted_page.where(matches.c.status == bindparam("status"))
    uncounted_page = (
        ids_statement(shape).where(matched > bindparam("count_limit")).limit(bindparam("limit") + 1)
    )
    pages = (counted_page.subquery(), uncounted_page.subquery())
    rows = _rows_statement(union_all(*(select(page.c.id) for page in pages)))
    counts = select(matches.c.status, func.count().label("count")).group_by(matches.c.status)
    return _with_counts(shape, rows, counts)


@_built_once
def counts_statement(shape: QueueShape) -> Select:
    """(status, count) of the applications that match every filter except the status: from
    the kept counters when only a programme or call narrows the list."""
    if not shape.counted:
        matches = matching(shape, ("status",), with_status=False)
        return select(matches.c.status, func.count().label("count")).group_by(matches.c.status)
    statement = select(
        ApplicationStatusCount.status, func.sum(ApplicationStatusCount.count).label("count")
    ).group_by(ApplicationStatusCount.status)
    if shape.call:
        statement = statement.where(ApplicationStatusCount.call_id == bindparam("call"))
    if shape.programme:
        programme_calls = select(Call.id).where(Call.programme_id == bindparam("programme"))
        statement = statement.where(ApplicationStatusCount.call_id.in_(programme_calls))
    return statement


def load_queue(filters: QueueFilters, user: User, now: datetime | None = None) -> QueuePage:
    """The requested page with the counts per status in one statement (past the end: the last
    page, with one statement more), also when nothing matches."""
    now = now or utcnow()
    shape = QueueShape.of(filters)
    statement = search_statement(shape) if shape.search else page_statement(shape)
    parameters = query_parameters(filters, user.id, now)
    counts, rows = _load(statement, parameters, now)
    if shape.search and sum(counts.values()) > SEARCH_COUNT_LIMIT:  # not counted
        pages = filters.page + 1 if len(rows) > PAGE_SIZE else filters.page
        return QueuePage(filters, rows[:PAGE_SIZE], None, None, filters.page, pages)
    total, pages = _pages(counts, filters)
    page = min(filters.page, pages)
    if page != filters.page:  # an old link past the end
        parameters["offset"] = (page - 1) * PAGE_SIZE
        counts, rows = _load(statement, parameters, now)
    return QueuePage(replace(filters, page=page), rows, counts, total, page, pages)


def _pages(counts: dict[str, int], filters: QueueFilters) -> tuple[int, int]:
    """The number of matches (status included) and of pages."""
    total = counts[filters.status] if filters.status else sum(counts.values())
    return total, max(math.ceil(total / PAGE_SIZE), 1)


def _load(
    statement: Select, parameters: dict, now: datetime
) -> tuple[dict[str, int], list[QueueRow]]:
    """The counts per status and the page's rows of a page or search statement."""
    counts, rows = dict.fromkeys(QUEUE_STATUSES, 0), []
    for row in db.session.execute(statement, parameters):
        if row.id is None:
            counts[row.status] = int(row.count)
        else:
            rows.append(QueueRow(*row[:-1], overdue=is_overdue(row, now)))
    return counts, rows


# The statements that never change are built once (building one costs more than running it).
CALLS = (
    select(
        Call.id,
        Call.title,
        Call.programme_id,
        Programme.name.label("programme_name"),
        Programme.code.label("programme_code"),
    )
    .join(Call.programme)
    .order_by(Programme.name, Call.opens_at.desc(), Call.id)
)
ACTIVE_STAFF = (
    select(User.id, User.full_name)
    .join(UserRole, UserRole.user_id == User.id)
    .where(UserRole.role == "staff", User.active.is_(True))
    .order_by(User.full_name, User.id)
)


def calls_for_filter() -> list[Row]:
    """Every call with its programme, for the filter form and the rows (one query):
    id, title, programme_id, programme_name, programme_code."""
    return list(db.session.execute(CALLS))


def active_staff() -> list[tuple[int, str]]:
    """(id, name) of every active user with the staff role: who may be assigned (one query)."""
    return [(row.id, row.full_name) for row in db.session.execute(ACTIVE_STAFF)]


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page links to show: the first, the last and a window around the current page;
    None marks a gap."""
    shown = sorted({1, pages, *range(max(page - around, 1), min(page + around, pages) + 1)})
    result: list[int | None] = []
    for number in shown:
        if result and number - result[-1] > 1:
            result.append(None)
        result.append(number)
    return result
