"""Can administrators manage staff accounts, from the web page and the command line?"""

from __future__ import annotations

from grants.auth.models import find_user_by_email
from grants.cli import DEMO_PASSWORD, DEMO_USERS
from grants.extensions import db
from grants.organisations.models import Organisation
from tests.factories import UserFactory
from tests.helpers import link_in, log_in, logged_in_client, post_form, queued_mails


def test_admin_creates_a_staff_account_that_sets_its_password_by_mail(client):
    logged_in_client(client, "admin")
    response = post_form(
        client,
        "/admin/users/new",
        {
            "full_name": "Petra Prüfer",
            "email": "petra@ki.example",
            "roles": ["staff", "approver"],
            "locale": "de",
        },
    )
    assert response.status_code == 302
    user = find_user_by_email("petra@ki.example")
    assert user.roles == {"staff", "approver"}
    assert user.password_hash is None
    setup_path = link_in(queued_mails("petra@ki.example")[0]["body"])

    post_form(client, "/logout", {}, form_url="/start")
    new_password = "Erstes-Passwort-2026"
    data = {"password": new_password, "password_repeat": new_password}
    assert post_form(client, setup_path, data).status_code == 302
    log_in(client, user, new_password)
    assert client.get("/start").status_code == 200


def test_creating_an_existing_address_shows_an_error(client):
    logged_in_client(client, "admin")
    UserFactory(email="gibts@ki.example", roles=["staff"])
    response = post_form(
        client,
        "/admin/users/new",
        {
            "full_name": "Doppelt",
            "email": "gibts@ki.example",
            "roles": ["staff"],
            "locale": "de",
        },
    )
    assert response.status_code == 200
    assert 'href="#email"' in response.get_data(as_text=True)


def test_staff_account_needs_a_role(client):
    logged_in_client(client, "admin")
    response = post_form(
        client,
        "/admin/users/new",
        {
            "full_name": "Ohne Rolle",
            "email": "ohne@ki.example",
            "locale": "de",
        },
    )
    assert response.status_code == 200
    assert find_user_by_email("ohne@ki.example") is None


def test_admin_changes_roles_and_locks_an_account(client):
    logged_in_client(client, "admin")
    colleague = UserFactory(roles=["staff"])
    url = f"/admin/users/{colleague.id}"
    assert post_form(client, url, {"roles": ["staff", "finance"]}).status_code == 302
    assert colleague.roles == {"staff", "finance"}
    assert post_form(client, f"{url}/active", {}, form_url=url).status_code == 302
    assert colleague.active is False


def test_admin_cannot_take_their_own_admin_role(client):
    admin = logged_in_client(client, "admin")
    response = post_form(client, f"/admin/users/{admin.id}", {"roles": ["staff"]})
    assert response.status_code == 200
    assert "admin" in admin.roles


def test_applicants_are_not_managed_on_the_staff_pages(client):
    logged_in_client(client, "admin")
    applicant = UserFactory(roles=["applicant"])
    assert client.get(f"/admin/users/{applicant.id}").status_code == 404
    assert applicant.email not in client.get("/admin/users").get_data(as_text=True)


def test_create_user_command_creates_a_staff_account(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "Neu@KI.example",
            "--role",
            "staff",
            "--role",
            "finance",
            "--password",
            "Kommando-Zeile-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    user = find_user_by_email("neu@ki.example")
    assert user.roles == {"staff", "finance"} and user.check_password("Kommando-Zeile-2026")
    again = app.test_cli_runner().invoke(
        args=["create-user", "--email", "neu@ki.example", "--role", "staff"]
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_seed_demo_is_idempotent_and_creates_every_demo_login(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    for email, _name, roles in DEMO_USERS:
        user = find_user_by_email(email)
        assert user.roles == set(roles) and user.check_password(DEMO_PASSWORD)
        assert email in result.output
    names = db.session.scalars(db.select(Organisation.name)).all()
    assert sorted(names) == ["Beispiel-Initiative", "Demo-Verein e.V."]


def test_seed_demo_refuses_in_production(app):
    app.config["SEED_DEMO_ALLOWED"] = False
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["SEED_DEMO_ALLOWED"] = True
    assert result.exit_code != 0
    assert find_user_by_email("admin@demo.example") is None
