"""Payouts recorded by finance against a signed-off approval."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.auth.models import User
from grants.core.models import UTCDateTime, utcnow
from grants.core.money import Money
from grants.extensions import db
from grants.reviews.models import Decision


class Payout(db.Model):
    """One payment to the applicant (Auszahlung): date, amount and the booking reference."""

    __tablename__ = "payout"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decision.id", ondelete="RESTRICT"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    booking_reference: Mapped[str] = mapped_column(String(60))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decision: Mapped[Decision] = relationship(
        backref=db.backref("payouts", order_by="Payout.paid_on")
    )
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
