"""Can people register, confirm, sign in and reset their password – and nothing more?"""

from __future__ import annotations

from datetime import timedelta

from grants.auth.models import User, find_user_by_email
from grants.core.audit import AuditEvent
from grants.extensions import db
from tests.factories import PASSWORD, UserFactory
from tests.helpers import link_in, log_in, post_form, queued_mails

NEW_PASSWORD = "Ganz-Neues-Passwort-7"


def _register(client, email="neu@example.org", **overrides):
    data = {
        "full_name": "Neue Person",
        "email": email,
        "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD,
        "privacy": "y",
        **overrides,
    }
    return post_form(client, "/register", data)


def test_registration_creates_an_unconfirmed_applicant_and_queues_the_confirmation(client):
    response = _register(client, email="Neu@Example.org ")
    assert response.status_code == 302
    user = find_user_by_email("neu@example.org")
    assert user.email == "neu@example.org"
    assert user.roles == {"applicant"}
    assert user.confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")
    [mail] = queued_mails("neu@example.org")
    assert "/confirm/" in mail["body"]
    assert (
        db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "user.registered")
        ).object_id
        == user.id
    )


def test_registration_with_errors_keeps_the_typed_values(client):
    response = _register(client, password="kurz", password_repeat="anders")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="neu@example.org"' in page and 'value="Neue Person"' in page
    assert 'href="#password"' in page  # the error summary links to the field
    assert 'aria-describedby="password-hint password-error"' in page
    assert find_user_by_email("neu@example.org") is None


def test_registering_a_known_address_looks_the_same_and_creates_nothing(client):
    existing = UserFactory(email="bekannt@example.org")
    response = _register(client, email="bekannt@example.org")
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == _register(client, email="frei@example.org").headers["Location"]
    )
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(User).where(User.email == "bekannt@example.org")
        )
        == 1
    )
    [notice] = queued_mails(existing.email)
    assert "/confirm/" not in notice["body"]


def test_confirmation_link_confirms_the_account_and_allows_sign_in(client):
    _register(client)
    confirm_path = link_in(queued_mails("neu@example.org")[0]["body"])
    assert client.get(confirm_path).status_code == 302
    assert find_user_by_email("neu@example.org").confirmed_at is not None
    response = post_form(client, "/login", {"email": "neu@example.org", "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/start"


def test_forged_confirmation_link_is_refused(client):
    _register(client)
    confirm_path = link_in(queued_mails("neu@example.org")[0]["body"])
    assert client.get(confirm_path[:-3] + "xyz").status_code == 400
    assert find_user_by_email("neu@example.org").confirmed_at is None


def test_unconfirmed_account_cannot_sign_in(client):
    _register(client)
    response = post_form(client, "/login", {"email": "neu@example.org", "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/confirm"
    assert client.get("/start").status_code == 302


def test_wrong_password_and_unknown_email_look_the_same(client):
    UserFactory(email="da@example.org")
    wrong = post_form(client, "/login", {"email": "da@example.org", "password": "falsch-falsch"})
    unknown = post_form(client, "/login", {"email": "weg@example.org", "password": "falsch-falsch"})
    assert wrong.status_code == unknown.status_code == 200

    def strip(response):  # the pages differ only in the typed e-mail and the CSRF token
        page = response.get_data(as_text=True)
        page = page.replace("da@example.org", "X").replace("weg@example.org", "X")
        return "\n".join(line for line in page.splitlines() if "csrf_token" not in line)

    assert strip(wrong) == strip(unknown)
    assert "E-Mail-Adresse oder Passwort" in strip(wrong) or "password is wrong" in strip(wrong)


def test_sign_in_goes_only_to_local_next_pages(client):
    user = UserFactory()
    response = post_form(
        client,
        "/login?next=https://evil.example/",
        {"email": user.email, "password": PASSWORD},
        form_url="/login",
    )
    assert response.headers["Location"] == "/start"


def test_locked_account_cannot_sign_in(client):
    user = UserFactory(active=False)
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/start").status_code == 302


def test_sign_out_ends_the_session(client):
    log_in(client, UserFactory())
    assert client.get("/start").status_code == 200
    assert post_form(client, "/logout", {}, form_url="/start").status_code == 302
    assert client.get("/start").status_code == 302


def test_password_reset_token_works_once(client):
    user = UserFactory(email="vergessen@example.org")
    assert post_form(client, "/password/forgot", {"email": user.email}).status_code == 302
    reset_path = link_in(queued_mails(user.email)[0]["body"])
    data = {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    assert post_form(client, reset_path, data).status_code == 302
    log_in(client, user, NEW_PASSWORD)
    post_form(client, "/logout", {}, form_url="/start")
    assert client.get(reset_path).status_code == 400  # used: the password changed


def test_expired_reset_token_is_refused(app, client):
    user = UserFactory()
    post_form(client, "/password/forgot", {"email": user.email})
    reset_path = link_in(queued_mails(user.email)[0]["body"])
    app.config["RESET_TOKEN_MAX_AGE"] = timedelta(seconds=-1)
    try:
        assert client.get(reset_path).status_code == 400
    finally:
        app.config["RESET_TOKEN_MAX_AGE"] = timedelta(hours=2)


def test_password_reset_answers_the_same_for_unknown_addresses(client):
    UserFactory(email="da@example.org")
    known = post_form(client, "/password/forgot", {"email": "da@example.org"})
    unknown = post_form(client, "/password/forgot", {"email": "weg@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert queued_mails("weg@example.org") == []
    assert len(queued_mails("da@example.org")) == 1


def test_post_without_csrf_token_is_refused(client):
    user = UserFactory()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/start").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client):
    log_in(client, UserFactory())
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
