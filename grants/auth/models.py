"""Users and their roles."""

from __future__ import annotations

import contextlib
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.core.access import ROLES, STAFF_ROLES
from grants.core.models import UTCDateTime, utcnow
from grants.extensions import db

hasher = PasswordHasher()  # argon2id with the library's current parameters
# Compared against when an e-mail is unknown, so both paths cost the same time.
DUMMY_HASH = hasher.hash("not-a-real-password")

ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"


class User(UserMixin, db.Model):
    """A person who signs in: an applicant or a member of KI staff."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("locale IN ('de', 'en')", name="locale_valid"),
    )

    @property
    def roles(self) -> set[str]:
        """The names of the roles this user holds."""
        return {row.role for row in self.role_rows}

    def has_any_role(self, *roles: str) -> bool:
        """True when the user holds at least one of the given roles."""
        return bool(self.roles & set(roles))

    @property
    def is_staff_side(self) -> bool:
        """True for KI staff, approvers, finance officers and admins."""
        return self.has_any_role(*STAFF_ROLES)

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        """Store an argon2id hash of the password."""
        self.password_hash = hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """Verify the password; rehash when the parameters have changed."""
        if not self.password_hash:
            burn_password_check(password)
            return False
        try:
            hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True


def burn_password_check(password: str) -> None:
    """Spend the time of one verification, so unknown and known accounts look alike."""
    with contextlib.suppress(VerificationError):
        hasher.verify(DUMMY_HASH, password)


class UserRole(db.Model):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")

    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role_valid"),
        # Who holds a role (the staff to assign, to notify): read the few holders, not every
        # applicant's row.
        Index("ix_user_role_role", "role", "user_id"),
    )


def find_user_by_email(email: str) -> User | None:
    """Look a user up by e-mail, case-insensitively."""
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


def normalise_email(email: str) -> str:
    """Trim and lower-case an e-mail address."""
    return email.strip().lower()


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: an active user by id."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None
