"""Flask commands: seed-demo, create-user."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from grants.applications import operations as applications
from grants.applications.models import Application
from grants.auth import operations as accounts
from grants.auth.models import User, UserRole, find_user_by_email
from grants.core.access import ROLES
from grants.core.models import utcnow
from grants.extensions import db
from grants.organisations import operations as organisations
from grants.organisations.models import Organisation
from grants.programmes.demo import seed_programmes
from grants.programmes.models import Call, Programme

DEMO_PASSWORD = "Demo-Passwort-2026"  # noqa: S105 - documented demo password, never in production

DEMO_USERS = [
    ("antrag@demo.example", "Amira Yilmaz", ["applicant"]),
    ("antrag2@demo.example", "Jonas Becker", ["applicant"]),
    ("sachbearbeitung@demo.example", "Sabine Schmitz", ["staff"]),
    ("leitung@demo.example", "Dr. Lea Hoffmann", ["approver"]),
    ("finanzen@demo.example", "Frank Neumann", ["finance"]),
    ("admin@demo.example", "Adrian Weber", ["admin"]),
]

DEMO_ORGANISATIONS = {
    "antrag@demo.example": {
        "name": "Demo-Verein e.V.",
        "legal_form": "ev",
        "register_court": "Amtsgericht Köln",
        "register_number": "VR 1234",
        "street": "Friedrich-Ebert-Platz 1",
        "postcode": "51373",
        "city": "Leverkusen",
        "contact_name": "Amira Yilmaz",
        "contact_email": "antrag@demo.example",
        "contact_phone": "0214 123456",
        "account_holder": "Demo-Verein e.V.",
        "iban": "DE89370400440532013000",
        "bank_name": "Sparkasse Leverkusen",
    },
    "antrag2@demo.example": {
        "name": "Beispiel-Initiative",
        "legal_form": "association_unregistered",
        "street": "Wiesdorfer Platz 2",
        "postcode": "51373",
        "city": "Leverkusen",
        "contact_name": "Jonas Becker",
        "contact_email": "antrag2@demo.example",
        "account_holder": "Beispiel-Initiative",
        "iban": "DE02120300000000202051",
    },
}


def seed_demo_draft() -> None:
    """A half-filled KOMM-AN application of the Demo-Verein, unless it has one already."""
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == "Demo-Verein e.V.")
    )
    call = db.session.scalar(
        select(Call).join(Programme).where(Programme.code == "KOMMAN", Call.closes_at > utcnow())
    )
    if (
        organisation is None
        or call is None
        or db.session.scalar(
            select(Application.id).where(Application.organisation_id == organisation.id)
        )
    ):
        return
    applicant = find_user_by_email("antrag@demo.example")
    draft = applications.create_draft(call, organisation, applicant)
    applications.save_project(
        draft,
        {
            "title": "Ankommenstreffpunkt Wiesdorf",
            "summary": "Ein offener Treffpunkt für neu angekommene Familien im Stadtteilzentrum "
            "Wiesdorf, zweimal pro Woche, betreut von Ehrenamtlichen.",
            "district": "1",
            "location": "Stadtteilzentrum Wiesdorf",
        },
        applicant,
    )
    room = next(item for item in call.programme.lump_sums if item.code == "A1")
    applications.add_lump_sum(draft, room, 1, applicant)


def seed_demo() -> list[tuple[str, str]]:
    """Create the demo accounts, organisations, programmes and a draft; return the logins."""
    logins = []
    for email, name, roles in DEMO_USERS:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, full_name=name, locale="de", confirmed_at=utcnow())
            user.set_password(DEMO_PASSWORD)
            user.role_rows.extend(UserRole(role=r) for r in roles)
            db.session.add(user)
            db.session.flush()
        org_data = DEMO_ORGANISATIONS.get(email)
        if org_data and not db.session.scalar(
            select(Organisation.id).where(Organisation.name == org_data["name"])
        ):
            organisations.create_organisation(user, org_data)
        logins.append((email, ", ".join(roles)))
    seed_programmes()
    db.session.flush()
    seed_demo_draft()
    return logins


def register_cli(app: Flask) -> None:
    """Attach the project's commands to the flask CLI."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo accounts (never in production)."""
        if not current_app.config["SEED_DEMO_ALLOWED"]:
            raise click.ClickException("seed-demo is disabled in this environment.")
        logins = seed_demo()
        db.session.commit()
        click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, roles in logins:
            click.echo(f"  {email:32} {roles}")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", default=None, help="Full name (default: the e-mail).")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice([r for r in ROLES if r != "applicant"]),
    )
    @click.option(
        "--password", default=None, help="Set a password; without it a link to set one is e-mailed."
    )
    def create_user_command(
        email: str, full_name: str | None, roles: tuple[str, ...], password: str | None
    ) -> None:
        """Create a staff-side account."""
        try:
            user = accounts.create_staff_user(
                email, full_name or email, list(roles), password=password
            )
        except accounts.AccountError:
            raise click.ClickException(f"An account for {email} exists already.") from None
        db.session.commit()
        click.echo(f"Created {user.email} with roles {', '.join(sorted(user.roles))}.")
