"""factory-boy factories for every model, saved through the test's session."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

import factory

from grants.applications.models import Application, Attachment
from grants.auth.models import User, UserRole, hasher
from grants.core.audit import AuditEvent
from grants.core.models import utcnow
from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.organisations.models import Invitation, Membership, Organisation
from grants.programmes.models import Call, LumpSumItem, Programme

PASSWORD = "Richtig-Geheim-2026"
PASSWORD_HASH = hasher.hash(PASSWORD)  # hashed once: argon2 is slow on purpose


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the current session
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="de_DE")
    password_hash = PASSWORD_HASH
    locale = "de"
    confirmed_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ["applicant"]:
            self.role_rows.append(UserRole(role=role))
        if create:
            db.session.flush()


class OrganisationFactory(Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Verein Nummer {n} e.V.")
    legal_form = "ev"
    register_court = "Amtsgericht Köln"
    register_number = factory.Sequence(lambda n: f"VR {1000 + n}")
    street = "Hauptstraße 1"
    postcode = "51373"
    city = "Leverkusen"
    contact_name = "Erika Mustermann"
    contact_email = "kontakt@example.org"
    iban = "DE89370400440532013000"
    account_holder = factory.SelfAttribute("name")


class MembershipFactory(Base):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    is_admin = True


class InvitationFactory(Base):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invited{n}@example.org")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    invited_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: utcnow().replace(year=utcnow().year + 1))


class AuditEventFactory(Base):
    class Meta:
        model = AuditEvent

    action = "test.event"
    object_type = "user"
    object_id = 1
    details = factory.LazyFunction(dict)


class OutboxMessageFactory(Base):
    class Meta:
        model = OutboxMessage

    task = "mail.send"
    payload = factory.LazyFunction(
        lambda: {"to": ["someone@example.org"], "subject": "Test", "body": "Hallo\n"}
    )
    status = "pending"
    attempts = 0


class ProgrammeFactory(Base):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Förderprogramm {n}")
    code = factory.Sequence(lambda n: f"PROG{n}")
    legal_basis = "Nr. 12 VVG zu § 44 LHO"
    description = "Ein Programm zur Förderung der Integrationsarbeit in Leverkusen."
    financing_type = "share"
    share_rate = Decimal("90.00")
    min_grant = Decimal("500.00")
    max_grant = Decimal("5000.00")
    total_budget = Decimal("40000.00")
    eligible_categories = factory.LazyFunction(lambda: ["fees", "material", "rent", "lump_sum"])
    required_attachments = factory.LazyFunction(lambda: ["statutes"])
    required_declarations = factory.LazyFunction(lambda: ["not_started", "subsidy_relevant"])
    proof_of_use_months = 6


class LumpSumItemFactory(Base):
    class Meta:
        model = LumpSumItem

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"L{n}")
    label = "Maßnahme Zusammenkommen/Orientierung"
    unit = "Maßnahme"
    amount = Decimal("250.00")
    max_units = None


class CallFactory(Base):
    """A call that is open now: opened 30 days ago, closing in 60 days."""

    class Meta:
        model = Call

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Förderaufruf {n}")
    opens_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=60))
    project_start = factory.LazyFunction(lambda: date(utcnow().year, 1, 1))
    project_end = factory.LazyFunction(lambda: date(utcnow().year + 1, 12, 31))
    budget = None


class SubmittedApplicationFactory(Base):
    """A submitted application with fields set directly (no workflow)."""

    class Meta:
        model = Application

    organisation = factory.SubFactory(OrganisationFactory)
    call = factory.SubFactory(CallFactory)
    created_by = factory.SubFactory(UserFactory)
    status = "submitted"
    reference = factory.Sequence(lambda n: f"QUEUE-2026-{n:05d}")
    title = factory.Sequence(lambda n: f"Projekt {n}")
    district = "1"
    submitted_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))


class AttachmentFactory(Base):
    class Meta:
        model = Attachment

    kind = "statutes"
    filename = "satzung.pdf"
    stored_name = factory.LazyFunction(lambda: secrets.token_hex(32))
    content_type = "application/pdf"
    size = 1234
    sha256 = "0" * 64
