"""What staff record while reviewing: checks, change requests, notes, decisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.models import Application, CostLine
from grants.auth.models import User
from grants.core.models import UTCDateTime, utcnow
from grants.core.money import Money
from grants.extensions import db

DECISION_KINDS = ("approval", "partial_approval", "rejection")
DECISION_KIND_LABELS = {
    "approval": _l("Approval"),
    "partial_approval": _l("Partial approval"),
    "rejection": _l("Rejection"),
}
DECISION_STATES = ("proposed", "signed_off", "returned")


class FormalCheck(db.Model):
    """The formal check: complete, eligible applicant, in time, attachments present."""

    __tablename__ = "formal_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), unique=True
    )
    items: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    checked_by: Mapped[User] = relationship()


class Assessment(db.Model):
    """The content assessment: a score per criterion and a recommendation."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), unique=True
    )
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    assessed_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(
            "recommendation IN ('approve', 'approve_partly', 'reject')",
            name="recommendation_valid",
        ),
    )


class CostLineReview(db.Model):
    """The arithmetic check of one cost line: the admitted amount and why it was cut."""

    __tablename__ = "cost_line_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_line_id: Mapped[int] = mapped_column(
        ForeignKey("cost_line.id", ondelete="CASCADE"), unique=True
    )
    admitted_amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cost_line: Mapped[CostLine] = relationship(backref=db.backref("review", uselist=False))

    __table_args__ = (CheckConstraint("admitted_amount >= 0", name="admitted_non_negative"),)


class ChangeRequest(db.Model):
    """A request to the applicant (Nachforderung): what is missing, by when, which sections."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    deadline: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(
        backref=db.backref("change_requests", order_by="ChangeRequest.id")
    )
    requested_by: Mapped[User] = relationship()


class Note(db.Model):
    """An internal note by staff, never shown to the applicant."""

    __tablename__ = "review_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class Decision(db.Model):
    """A proposed decision and its four-eyes sign-off; the proposer never signs off."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="proposed", index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money())
    computed_grant: Mapped[Decimal | None] = mapped_column(Money())
    reasons: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    calculation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_comment: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(
        backref=db.backref("decisions", order_by="Decision.id")
    )
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])

    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in DECISION_KINDS) + ")", name="kind_valid"
        ),
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in DECISION_STATES) + ")", name="state_valid"
        ),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        CheckConstraint("kind = 'rejection' OR amount IS NOT NULL", name="approval_has_amount"),
        CheckConstraint("kind = 'approval' OR reasons IS NOT NULL", name="cut_has_reasons"),
        CheckConstraint(
            "signed_off_by_id IS NULL OR signed_off_by_id <> proposed_by_id", name="four_eyes"
        ),
        CheckConstraint(
            "state <> 'signed_off' OR (signed_off_by_id IS NOT NULL AND signed_off_at IS NOT NULL)",
            name="signed_off_has_signer",
        ),
    )
