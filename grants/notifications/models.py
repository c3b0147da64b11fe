"""In-app notifications, e-mail preferences and the keys of reminders already sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.auth.models import User
from grants.core.models import UTCDateTime, utcnow
from grants.extensions import db


class Notification(db.Model):
    """A message in a user's notification centre; its text is rendered when shown."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(50))
    # Values for the event's message (reference, title, ...), so it follows the UI language.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A path on this site (the object the message is about), never an external URL.
    link: Mapped[str | None] = mapped_column(String(300))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        # The header asks "how many unread for this user" on every page.
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_user_created", "user_id", "created_at"),
    )

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailOptOut(db.Model):
    """A user does not want the e-mails of one (optional) event; the in-app message stays."""

    __tablename__ = "email_opt_out"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(50), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSent(db.Model):
    """One row per reminder occasion: inserted with ON CONFLICT DO NOTHING, so it is sent once."""

    __tablename__ = "reminder_sent"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
