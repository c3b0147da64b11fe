"""Flask commands: seed-demo, create-user."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from grants.applications import operations as applications
from grants.applications.models import Application
from grants.applications.workflow import mermaid_diagram
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


def _demo_target(organisation_name: str, programme_code: str) -> tuple[Organisation, Call] | None:
    """The demo organisation and an open call of the programme, unless the organisation has
    an application already (so seeding twice adds nothing)."""
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == organisation_name)
    )
    call = db.session.scalar(
        select(Call)
        .join(Programme)
        .where(Programme.code == programme_code, Call.closes_at > utcnow())
    )
    if organisation is None or call is None:
        return None
    if db.session.scalar(
        select(Application.id).where(Application.organisation_id == organisation.id)
    ):
        return None
    return organisation, call


def seed_demo_draft() -> None:
    """A half-filled KOMM-AN application of the Demo-Verein, unless it has one already."""
    target = _demo_target("Demo-Verein e.V.", "KOMMAN")
    if target is None:
        return
    organisation, call = target
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


def seed_demo_decision() -> Application | None:
    """A signed-off IKOE approval of the Beispiel-Initiative (its letter follows after commit).

    Only `flask seed-demo` calls this, so the browser tests' demo data stays as it was.
    """
    from decimal import Decimal
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from grants.applications import storage
    from grants.core.pdf import render_pdf
    from grants.programmes.catalogue import DECLARATIONS
    from grants.reviews import operations as reviews

    target = _demo_target("Beispiel-Initiative", "IKOE")
    if target is None:
        return None
    organisation, call = target
    applicant = find_user_by_email("antrag2@demo.example")
    staff = find_user_by_email("sachbearbeitung@demo.example")
    approver = find_user_by_email("leitung@demo.example")
    application = applications.create_draft(call, organisation, applicant)
    applications.save_project(
        application,
        {
            "title": "Begegnungsfest gegen Rassismus in Wiesdorf",
            "summary": "Ein Nachbarschaftsfest während der Internationalen Wochen gegen "
            "Rassismus mit Lesungen, Musik und einem Workshop für Ehrenamtliche.",
            "goals": "Begegnung, Sensibilisierung, neue Ehrenamtliche gewinnen.",
            "target_groups": "Nachbarschaft, Zugewanderte, Ehrenamtliche",
            "district": "1",
            "location": "Wiesdorfer Platz",
            "start_date": call.project_start,
            "end_date": call.project_end,
            "expected_participants": 150,
            "volunteers": 12,
        },
        applicant,
    )
    applications.add_cost_line(
        application, "fees", "Honorar Workshopleitung", Decimal("8"), Decimal("60.00"), applicant
    )
    applications.add_cost_line(
        application, "material", "Plakate und Flyer", Decimal("1"), Decimal("320.00"), applicant
    )
    applications.save_financing(
        application,
        {
            "own_funds": Decimal("80.00"),
            "participant_fees": Decimal("0"),
            "requested_grant": Decimal("720.00"),
            "third_party_funds": [],
        },
        applicant,
    )
    for kind, title in (("statutes", "Satzung"), ("tax_exemption", "Freistellungsbescheid")):
        pdf = render_pdf(f"<h1>{title}</h1><p>Beispiel-Initiative (Demo)</p>")
        storage.store_attachment(
            application, kind, FileStorage(BytesIO(pdf), f"{kind}.pdf"), applicant
        )
    applications.save_declarations(application, dict.fromkeys(DECLARATIONS, True), False, applicant)
    applications.submit_application(application, applicant)
    reviews.start_review(application, staff)
    reviews.propose_decision(
        application,
        staff,
        kind="approval",
        amount=Decimal("720.00"),
        reasons=None,
        conditions="Bitte nennen Sie die Förderung auf Plakaten und Flyern.",
        period_start=application.start_date,
        period_end=application.end_date,
    )
    reviews.sign_off(application, approver)
    return application


def register_cli(app: Flask) -> None:
    """Attach the project's commands to the flask CLI."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo accounts (never in production)."""
        if not current_app.config["SEED_DEMO_ALLOWED"]:
            raise click.ClickException("seed-demo is disabled in this environment.")
        logins = seed_demo()
        db.session.commit()
        if seed_demo_decision() is not None:
            db.session.commit()  # the letter is issued after the commit (in-process in dev)
            click.echo("Signed off a demo approval for the Beispiel-Initiative (with its letter).")
        click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, roles in logins:
            click.echo(f"  {email:32} {roles}")

    @app.cli.command("workflow-graph")
    def workflow_graph_command() -> None:
        """Print the application workflow as a Mermaid diagram."""
        click.echo(mermaid_diagram())

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

    @app.cli.command("seed-bench")
    @click.option(
        "--applications",
        default=50_000,
        show_default=True,
        type=click.IntRange(1, 2_000_000),
        help="Submitted applications (every status but draft) to add.",
    )
    @click.option(
        "--drafts",
        default=None,
        type=click.IntRange(0, 2_000_000),
        help="Drafts to add besides [default: a tenth of --applications].",
    )
    @click.option("--seed", default=2026, show_default=True, help="Seed of the random numbers.")
    def seed_bench_command(applications: int, drafts: int | None, seed: int) -> None:
        """Fill the database with many applications for the queue benchmark (never in production).

        Not idempotent: every run adds another batch (new users, organisations, applications
        with the next free reference numbers). Benchmark on a fresh database. The demo accounts
        are created first (seed-demo), so the staff logins of seed-demo work. Rows are written
        in bulk (multi-row INSERTs of 5,000); there are no cost lines, versions or decisions.
        """
        import random
        import time as clock
        from datetime import timedelta

        from sqlalchemy import func, insert

        from grants.applications.models import ReferenceCounter
        from grants.auth.models import hasher
        from grants.organisations.models import Membership
        from grants.programmes.catalogue import DISTRICTS
        from grants.reviews.models import ChangeRequest

        if not current_app.config["SEED_DEMO_ALLOWED"]:
            raise click.ClickException("seed-bench is disabled in this environment.")
        places = (
            "Wiesdorf", "Manfort", "Rheindorf", "Hitdorf", "Küppersteg", "Bürrig", "Opladen",
            "Quettingen", "Bergisch Neukirchen", "Schlebusch", "Steinbüchel", "Lützenkirchen",
            "Alkenrath", "Leverkusen",
        )  # fmt: skip
        organisation_kinds = (
            ("Kulturverein", "ev", " e.V."),
            ("Elternverein", "ev", " e.V."),
            ("Frauennetzwerk", "ev", " e.V."),
            ("Sportverein", "ev", " e.V."),
            ("Förderverein Integration", "ev", " e.V."),
            ("Nachbarschaftshilfe", "association_unregistered", ""),
            ("Flüchtlingsinitiative", "association_unregistered", ""),
            ("Bildungswerk", "ggmbh", " gGmbH"),
            ("Jugendhilfe", "ggmbh", " gGmbH"),
            ("Moscheegemeinde", "ev", " e.V."),
            ("Kirchengemeinde", "church", ""),
            ("Begegnungszentrum", "ev", " e.V."),
        )
        adjectives = (
            "", "", "Deutsch-Türkischer ", "Deutsch-Syrischer ", "Afrikanischer ",
            "Interkultureller ", "Internationaler ", "Ukrainischer ", "Kurdischer ",
            "Polnischer ", "Griechischer ", "Italienischer ", "Eritreischer ", "Afghanischer ",
        )  # fmt: skip
        project_kinds = (
            "Sprachcafé", "Ankommenstreffpunkt", "Begegnungsfest", "Hausaufgabenhilfe",
            "Patenschaften", "Frauentreff", "Elterncafé", "Fahrradwerkstatt", "Lesepaten",
            "Workshop gegen Rassismus", "Internationales Kochen", "Behördenlotsen",
            "Ehrenamtsschulung", "Theaterprojekt", "Fußball für alle", "Dolmetscherpool",
            "Begleitung im Alltag", "Ausstellung Heimat", "Nähcafé", "Computerkurs",
        )  # fmt: skip
        first_names = (
            "Amira", "Jonas", "Sabine", "Mehmet", "Olena", "Thomas", "Fatma", "Lukas", "Aylin",
            "Peter", "Nadia", "Stefan", "Yusuf", "Maria", "Hanna", "Ali", "Julia", "Dariusz",
        )  # fmt: skip
        last_names = (
            "Yilmaz", "Becker", "Schmitz", "Kaya", "Kowalski", "Müller", "Demir", "Schneider",
            "Hoffmann", "Haddad", "Wagner", "Petrenko", "Fischer", "Öztürk", "Weber", "Klein",
        )  # fmt: skip
        streets = (
            "Hauptstraße", "Kölner Straße", "Düsseldorfer Straße", "Bahnhofstraße",
            "Friedrich-Ebert-Straße", "Opladener Platz", "Wiesdorfer Platz", "Am Stadtpark",
        )  # fmt: skip

        drafts = applications // 10 if drafts is None else drafts
        rng = random.Random(seed)
        started = clock.monotonic()
        now = utcnow()
        tag = f"{now:%Y%m%d%H%M%S}"  # keeps e-mail addresses unique across runs
        chunk = 5_000

        def bulk(model, rows: list[dict], returning=None) -> list:
            """Multi-row INSERTs in chunks; the new ids in order when asked."""
            ids = []
            for start in range(0, len(rows), chunk):
                part = rows[start : start + chunk]
                if returning is None:
                    db.session.execute(insert(model), part)
                else:
                    statement = insert(model).returning(returning, sort_by_parameter_order=True)
                    ids += db.session.scalars(statement, part).all()
            return ids

        seed_demo()
        db.session.flush()
        password_hash = hasher.hash(DEMO_PASSWORD)

        # Staff: the demo case worker plus colleagues to assign applications to.
        staff_ids = bulk(
            User,
            [
                {
                    "email": f"bench{tag}-staff{i}@bench.example",
                    "full_name": f"{rng.choice(first_names)} {rng.choice(last_names)}",
                    "password_hash": password_hash,
                    "locale": "de",
                    "active": True,
                    "created_at": now,
                    "confirmed_at": now,
                }
                for i in range(7)
            ],
            returning=User.id,
        )
        bulk(UserRole, [{"user_id": i, "role": "staff", "granted_at": now} for i in staff_ids])
        staff_ids.append(find_user_by_email("sachbearbeitung@demo.example").id)

        # Organisations, each with one applicant who created its applications.
        organisation_count = max(applications // 25, 20)
        organisation_rows = []
        for i in range(organisation_count):
            place = rng.choice(places)
            kind, legal_form, suffix = rng.choice(organisation_kinds)
            adjective = rng.choice(adjectives) if "verein" in kind else ""  # all masculine
            name = f"{adjective}{kind} {place}{suffix}"
            organisation_rows.append(
                {
                    "name": name,
                    "legal_form": legal_form,
                    "street": f"{rng.choice(streets)} {rng.randint(1, 120)}",
                    "postcode": rng.choice(("51371", "51373", "51375", "51377", "51379", "51381")),
                    "city": "Leverkusen",
                    "contact_name": f"{rng.choice(first_names)} {rng.choice(last_names)}",
                    "contact_email": f"kontakt{i}@bench.example",
                    "iban": "DE89370400440532013000",
                    "account_holder": name,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        organisation_ids = bulk(Organisation, organisation_rows, returning=Organisation.id)
        applicant_ids = bulk(
            User,
            [
                {
                    "email": f"bench{tag}-org{i}@bench.example",
                    "full_name": row["contact_name"],
                    "password_hash": password_hash,
                    "locale": "de",
                    "active": True,
                    "created_at": now,
                    "confirmed_at": now,
                }
                for i, row in enumerate(organisation_rows)
            ],
            returning=User.id,
        )
        bulk(
            UserRole,
            [{"user_id": i, "role": "applicant", "granted_at": now} for i in applicant_ids],
        )
        bulk(
            Membership,
            [
                {"organisation_id": o, "user_id": u, "is_admin": True, "created_at": now}
                for o, u in zip(organisation_ids, applicant_ids, strict=True)
            ],
        )

        # A call per programme and year for the last four years (the demo calls are this year's).
        programmes = db.session.scalars(select(Programme).order_by(Programme.id)).all()
        for programme in programmes:
            for years_ago in range(1, 4):
                year = now.year - years_ago
                opens = now.replace(year=year, month=1, day=15, hour=0, minute=0)
                db.session.add(
                    Call(
                        programme=programme,
                        title=f"Förderaufruf {programme.code} {year}",
                        opens_at=opens,
                        closes_at=opens + timedelta(days=120),
                        project_start=opens.date().replace(month=5, day=1),
                        project_end=opens.date().replace(month=12, day=31),
                    )
                )
        db.session.flush()
        calls = db.session.scalars(
            select(Call).join(Call.programme).where(Call.opens_at < now)
        ).all()

        # Reference numbers continue from the counters and the counters are moved on.
        counters = {
            (row.code, row.year): row.last_number
            for row in db.session.scalars(select(ReferenceCounter))
        }
        # Like a working office: an application is decided (or withdrawn) some weeks after it
        # was submitted; open ones are recent, except a few that got stuck (overdue).
        outcomes, outcome_weights = ("approved", "rejected", "withdrawn"), (70, 17, 13)
        stuck_share = 0.02

        def progress(age: timedelta) -> tuple[str, timedelta | None]:
            """The status after `age` since submission and, when decided, how long it took."""
            processing = timedelta(days=rng.uniform(10, 80))
            if age > processing and rng.random() >= stuck_share:
                return rng.choices(outcomes, outcome_weights)[0], processing
            done = rng.random() if age > processing else age / processing
            if done < 0.15:
                return "submitted", None
            if done < 0.75:
                return ("changes_requested" if rng.random() < 0.25 else "in_review"), None
            return "decision_proposed", None

        districts = list(DISTRICTS)
        rows = []
        for i in range(applications + drafts):
            call = rng.choice(calls)
            window_end = min(call.closes_at, now)
            moment = call.opens_at + (window_end - call.opens_at) * rng.random()
            status, processing = "draft", None
            if i < applications:
                status, processing = progress(now - moment)
            position = rng.randrange(organisation_count)
            row = {
                "organisation_id": organisation_ids[position],
                "call_id": call.id,
                "status": status,
                "reference": None,
                "created_by_id": applicant_ids[position],
                "created_at": moment - timedelta(days=rng.randint(1, 20)),
                "updated_at": moment,
                "submitted_at": None,
                "decided_at": None,
                "assigned_to_id": None,
                "organisation_data": {},
                "title": f"{rng.choice(project_kinds)} {rng.choice(places)}",
                "district": rng.choice(districts),
                "declarations": {},
                "touched_sections": [],
                "requested_grant": rng.randrange(500, 25_000, 50),
            }
            if status != "draft":
                key = (call.programme.code, moment.year)
                counters[key] = counters.get(key, 0) + 1
                row["reference"] = f"{key[0]}-{key[1]}-{counters[key]:04d}"
                row["submitted_at"] = moment
                if status != "submitted" or rng.random() < 0.3:
                    row["assigned_to_id"] = rng.choice(staff_ids)
                if status in ("approved", "rejected"):
                    row["decided_at"] = moment + processing
            rows.append(row)
        rng.shuffle(rows)  # ids do not follow the submission order, as in real life
        application_ids = bulk(Application, rows, returning=Application.id)

        # An open change request for every application waiting for changes; some are late.
        bulk(
            ChangeRequest,
            [
                {
                    "application_id": application_id,
                    "message": "Bitte reichen Sie die Satzung und einen Kostenvoranschlag nach.",
                    "sections": ["attachments"],
                    "deadline": (row["submitted_at"] + timedelta(days=rng.randint(14, 60))).date(),
                    "requested_by_id": rng.choice(staff_ids),
                    "requested_at": min(row["submitted_at"] + timedelta(days=7), now),
                }
                for application_id, row in zip(application_ids, rows, strict=True)
                if row["status"] == "changes_requested"
            ],
        )
        for (code, year), last_number in counters.items():
            counter = db.session.get(ReferenceCounter, (code, year))
            if counter is None:
                db.session.add(ReferenceCounter(code=code, year=year, last_number=last_number))
            else:
                counter.last_number = last_number
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Application))
        click.echo(
            f"Added {applications:,} submitted applications and {drafts:,} drafts of "
            f"{organisation_count:,} organisations in {clock.monotonic() - started:.1f} s "
            f"({total:,} applications in the database). Staff logins: password {DEMO_PASSWORD}."
        )
