"""Decision letters (immutable records), the letter settings and the programmes' annexes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.models import Application
from grants.auth.models import User
from grants.core.models import UTCDateTime, utcnow
from grants.extensions import db
from grants.programmes.models import Programme
from grants.reviews.models import DECISION_KINDS, Decision

LETTER_KINDS = DECISION_KINDS


class Letter(db.Model):
    """One issued decision letter: the stored PDF, the data that made it and its checksum.

    Rows are never changed or deleted; issuing again adds a row with the next version.
    """

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="RESTRICT"), index=True
    )
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decision.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(30))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    page_count: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[str] = mapped_column(String(40))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    application: Mapped[Application] = relationship(
        backref=db.backref("letters", order_by="Letter.version")
    )
    decision: Mapped[Decision] = relationship(
        backref=db.backref("letters", order_by="Letter.version")
    )
    issued_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_letter_application_version"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in LETTER_KINDS) + ")", name="kind_valid"
        ),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("page_count > 0", name="page_count_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    @property
    def filename(self) -> str:
        """The download name, e.g. 'Bescheid-KOMMAN-2026-0001-v1.pdf'."""
        return f"Bescheid-{self.reference}-v{self.version}.pdf"


@event.listens_for(Letter, "before_update")
@event.listens_for(Letter, "before_delete")
def _refuse_change(mapper, connection, target) -> None:
    raise RuntimeError("issued letters are never changed; issue a new version instead")


class LetterSettings(db.Model):
    """What an administrator may change in every letter; empty fields use the defaults."""

    __tablename__ = "letter_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_name: Mapped[str | None] = mapped_column(String(200))
    authority_unit: Mapped[str | None] = mapped_column(String(200))
    authority_address: Mapped[str | None] = mapped_column(Text)
    return_address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    signatory_name: Mapped[str | None] = mapped_column(String(200))
    signatory_title: Mapped[str | None] = mapped_column(String(200))
    payout_text: Mapped[str | None] = mapped_column(Text)
    conditions_text: Mapped[str | None] = mapped_column(Text)
    proof_of_use_text: Mapped[str | None] = mapped_column(Text)
    rejection_text: Mapped[str | None] = mapped_column(Text)
    remedy_text: Mapped[str | None] = mapped_column(Text)
    closing_text: Mapped[str | None] = mapped_column(Text)
    footer_text: Mapped[str | None] = mapped_column(Text)
    logo_stored_name: Mapped[str | None] = mapped_column(String(64))
    logo_content_type: Mapped[str | None] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint(
            "logo_content_type IS NULL OR logo_content_type IN ('image/png', 'image/jpeg')",
            name="logo_type_allowed",
        ),
    )


class ProgrammeLetterSettings(db.Model):
    """A programme's own letter and payment data: signatory and budget item (Haushaltsstelle)."""

    __tablename__ = "programme_letter_settings"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    budget_item: Mapped[str | None] = mapped_column(String(60))
    signatory_name: Mapped[str | None] = mapped_column(String(200))
    signatory_title: Mapped[str | None] = mapped_column(String(200))

    programme: Mapped[Programme] = relationship(
        backref=db.backref("letter_settings", uselist=False)
    )


class ProgrammeAnnex(db.Model):
    """An official PDF (e.g. ANBest-P) appended to every approval letter of a programme."""

    __tablename__ = "programme_annex"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(Integer)
    pdfa: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(
        backref=db.backref("annexes", order_by="ProgrammeAnnex.id", cascade="all, delete-orphan")
    )

    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("page_count > 0", name="page_count_positive"),
    )
