"""Programmes, calls and lump-sum catalogues."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.core.models import UTCDateTime, utcnow
from grants.core.money import Money
from grants.extensions import db
from grants.programmes.catalogue import FINANCING_TYPES

FINANCING_CHECK = "financing_type IN (" + ", ".join(f"'{t}'" for t in FINANCING_TYPES) + ")"


class Programme(db.Model):
    """A funding programme (Förderprogramm) of the integration ministry run by the KI."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(12), unique=True)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    financing_type: Mapped[str] = mapped_column(String(20))
    share_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent
    min_grant: Mapped[Decimal | None] = mapped_column(Money())
    max_grant: Mapped[Decimal | None] = mapped_column(Money())
    total_budget: Mapped[Decimal] = mapped_column(Money())
    eligible_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    required_attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    required_declarations: Mapped[list[str]] = mapped_column(JSON, default=list)
    proof_of_use_months: Mapped[int] = mapped_column(default=6)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calls: Mapped[list[Call]] = relationship(
        back_populates="programme", order_by="Call.opens_at", cascade="all, delete-orphan"
    )
    lump_sums: Mapped[list[LumpSumItem]] = relationship(
        back_populates="programme", order_by="LumpSumItem.code", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(FINANCING_CHECK, name="financing_type_valid"),
        CheckConstraint(
            "financing_type <> 'share' OR (share_rate > 0 AND share_rate <= 100)",
            name="share_has_rate",
        ),
        CheckConstraint("total_budget >= 0", name="budget_non_negative"),
        CheckConstraint("min_grant IS NULL OR min_grant >= 0", name="min_non_negative"),
        CheckConstraint(
            "max_grant IS NULL OR min_grant IS NULL OR max_grant >= min_grant",
            name="max_not_below_min",
        ),
        CheckConstraint("proof_of_use_months > 0", name="proof_months_positive"),
    )


class LumpSumItem(db.Model):
    """One entry of a programme's lump-sum catalogue, e.g. 'A1 room equipment, 1,000 € per room'."""

    __tablename__ = "lump_sum_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(50))
    amount: Mapped[Decimal] = mapped_column(Money())
    max_units: Mapped[int | None]

    programme: Mapped[Programme] = relationship(back_populates="lump_sums")

    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("max_units IS NULL OR max_units > 0", name="max_units_positive"),
        db.UniqueConstraint("programme_id", "code", name="uq_lump_sum_item_programme_code"),
    )


class Call(db.Model):
    """A call for proposals (Förderaufruf) with its own application window and project period."""

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    project_start: Mapped[date] = mapped_column(Date)
    project_end: Mapped[date] = mapped_column(Date)
    budget: Mapped[Decimal | None] = mapped_column(Money())

    programme: Mapped[Programme] = relationship(back_populates="calls")

    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="window_valid"),
        CheckConstraint("project_end >= project_start", name="period_valid"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_non_negative"),
    )

    def is_open(self, now: datetime | None = None) -> bool:
        """True while applications may be submitted."""
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at
