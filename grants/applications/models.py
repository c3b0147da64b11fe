"""The application (Antrag), its plans, attachments and submitted versions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    literal,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.workflow import STATUS_CHECK
from grants.auth.models import User
from grants.core.models import UTCDateTime, utcnow
from grants.core.money import ZERO, Money
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.programmes.models import Call, LumpSumItem


class Application(db.Model):
    """One funding application of an organisation to a call."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The case worker in charge (staff queue: "assigned to me" / "unassigned").
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Reference number, title and organisation name, lower-cased and one per line: what staff
    # search (see matching). Written by database triggers only (migration 0008), so that a
    # renamed organisation is found under its new name at once; never loaded into objects.
    search_text: Mapped[str] = mapped_column(Text, server_default="", deferred=True)

    # Organisation data as given with this application (pre-filled from the profile).
    organisation_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Project
    title: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    target_groups: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    expected_participants: Mapped[int | None] = mapped_column(Integer)
    volunteers: Mapped[int | None] = mapped_column(Integer)
    # Financing plan (third-party funds are rows of their own)
    own_funds: Mapped[Decimal | None] = mapped_column(Money())
    participant_fees: Mapped[Decimal | None] = mapped_column(Money())
    requested_grant: Mapped[Decimal | None] = mapped_column(Money())
    # Declarations: {code: true}; input-tax deduction is a yes/no answer
    declarations: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    input_tax_deduction: Mapped[bool | None]
    # Sections the applicant has visited and saved, for the task list
    touched_sections: Mapped[list[str]] = mapped_column(JSON, default=list)

    organisation: Mapped[Organisation] = relationship()
    call: Mapped[Call] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    cost_lines: Mapped[list[CostLine]] = relationship(
        back_populates="application", order_by="CostLine.id", cascade="all, delete-orphan"
    )
    third_party_funds: Mapped[list[ThirdPartyFunding]] = relationship(
        back_populates="application",
        order_by="ThirdPartyFunding.id",
        cascade="all, delete-orphan",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[ApplicationVersion]] = relationship(
        back_populates="application",
        order_by="ApplicationVersion.number",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status_valid"),
        CheckConstraint(
            "status IN ('draft', 'withdrawn') "
            "OR (reference IS NOT NULL AND submitted_at IS NOT NULL)",
            name="submitted_has_reference",
        ),
        CheckConstraint(
            "status NOT IN ('approved', 'rejected') OR decided_at IS NOT NULL",
            name="decided_has_date",
        ),
        CheckConstraint("own_funds IS NULL OR own_funds >= 0", name="own_funds_non_negative"),
        CheckConstraint(
            "participant_fees IS NULL OR participant_fees >= 0", name="fees_non_negative"
        ),
        CheckConstraint(
            "requested_grant IS NULL OR requested_grant >= 0", name="grant_non_negative"
        ),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="period_valid",
        ),
    )

    @property
    def total_costs(self) -> Decimal:
        """The sum of all cost lines."""
        return sum((line.amount for line in self.cost_lines), ZERO)

    @property
    def third_party_total(self) -> Decimal:
        return sum((f.amount for f in self.third_party_funds), ZERO)

    @property
    def other_funds(self) -> Decimal:
        """Own funds, third-party funds and participant fees together."""
        return (self.own_funds or ZERO) + self.third_party_total + (self.participant_fees or ZERO)

    @property
    def total_financing(self) -> Decimal:
        return self.other_funds + (self.requested_grant or ZERO)


def search_pattern(term: str) -> str:
    """The LIKE pattern for `term` anywhere, its wildcards taken literally. Runs of white space
    count as one space, so the term never spans two of the fields of the search text (they
    are one per line)."""
    escaped = " ".join(term.split()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_search(pattern: ColumnElement[str]) -> ColumnElement[bool]:
    """Applications whose search text matches `pattern` (see search_pattern), in any case:
    the database lower-cases both sides, so they fold letters alike. A trigram index serves it
    on PostgreSQL."""
    return Application.search_text.like(func.lower(pattern), escape="\\")


def search_condition(term: str) -> ColumnElement[bool]:
    """Applications whose reference number, title or organisation name contains `term`."""
    # Inlined (quoted by the dialect), not bound: PostgreSQL plans for this very pattern, also
    # when psycopg has prepared the statement (a generic plan guesses how many rows match).
    return matches_search(literal(search_pattern(term), literal_execute=True))


class CostLine(db.Model):
    """A line of the cost plan: quantity × unit price, or units of a catalogue lump sum."""

    __tablename__ = "cost_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    lump_sum_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("lump_sum_item.id", ondelete="RESTRICT")
    )

    application: Mapped[Application] = relationship(back_populates="cost_lines")
    lump_sum_item: Mapped[LumpSumItem | None] = relationship()

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
    )


class ThirdPartyFunding(db.Model):
    """Funds from a third party (Drittmittel): source, amount, approved or only applied for."""

    __tablename__ = "third_party_funding"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    approved: Mapped[bool] = mapped_column(default=False)

    application: Mapped[Application] = relationship(back_populates="third_party_funds")

    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)


class Attachment(db.Model):
    """An uploaded document, stored outside the web root under a generated name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")

    __table_args__ = (
        CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name="content_type_allowed",
        ),
        CheckConstraint("size > 0", name="size_positive"),
    )


class ApplicationVersion(db.Model):
    """A frozen copy of the application as submitted; never changed afterwards."""

    __tablename__ = "application_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="versions")
    submitted_by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "number", name="uq_application_version_number"),
    )


class ReferenceCounter(db.Model):
    """The last reference number given per programme code and year."""

    __tablename__ = "reference_counter"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
