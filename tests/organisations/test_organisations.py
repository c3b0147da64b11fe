"""Can applicants keep their organisation's data and colleagues – and see nobody else's?"""

from __future__ import annotations

from grants.core.audit import AuditEvent
from grants.extensions import db
from grants.organisations.models import Invitation, Membership, Organisation
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.helpers import link_in, log_in, logged_in_client, post_form, queued_mails

PROFILE = {
    "name": "Nachbarschaftshilfe Opladen e.V.",
    "legal_form": "ev",
    "register_court": "Amtsgericht Köln",
    "register_number": "VR 4711",
    "street": "Kölner Straße 12",
    "postcode": "51379",
    "city": "Leverkusen",
    "contact_name": "Erika Mustermann",
    "contact_email": "kontakt@nachbarn.example",
    "account_holder": "Nachbarschaftshilfe Opladen e.V.",
    "iban": "DE89 3704 0044 0532 0130 00",
}


def test_applicant_creates_an_organisation_and_becomes_its_admin(client):
    user = logged_in_client(client)
    response = post_form(client, "/organisations/new", PROFILE)
    assert response.status_code == 302
    organisation = db.session.scalar(
        db.select(Organisation).where(Organisation.name == PROFILE["name"])
    )
    assert organisation.iban == "DE89370400440532013000"  # stored compact
    assert organisation.membership_of(user).is_admin
    assert (
        db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "organisation.created")
        ).object_id
        == organisation.id
    )


def test_invalid_iban_is_refused_with_a_message_and_the_input_is_kept(client):
    logged_in_client(client)
    response = post_form(
        client, "/organisations/new", {**PROFILE, "iban": "DE89 3704 0044 0532 0130 01"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#iban"' in page
    assert 'value="DE89 3704 0044 0532 0130 01"' in page
    assert 'value="Kölner Straße 12"' in page
    assert (
        db.session.scalar(db.select(Organisation).where(Organisation.name == PROFILE["name"]))
        is None
    )


def test_registered_association_needs_its_register_entry(client):
    logged_in_client(client)
    response = post_form(client, "/organisations/new", {**PROFILE, "register_number": ""})
    assert response.status_code == 200
    assert 'href="#register_number"' in response.get_data(as_text=True)


def test_member_edits_the_profile_and_the_audit_names_the_fields(client):
    user = logged_in_client(client)
    organisation = user_organisation(user)
    form = {**PROFILE, "name": organisation.name, "city": "Köln", "postcode": "50667"}
    response = post_form(client, f"/organisations/{organisation.id}/edit", form)
    assert response.status_code == 302
    assert organisation.city == "Köln"
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "organisation.updated")
    )
    assert {"city", "postcode"} <= set(event.details["fields"])


def user_organisation(user) -> Organisation:
    return db.session.scalar(
        db.select(Organisation).join(Membership).where(Membership.user_id == user.id)
    )


def test_applicant_cannot_see_other_organisations_pages(client):
    logged_in_client(client)
    other = OrganisationFactory()
    assert client.get(f"/organisations/{other.id}").status_code == 404
    assert client.get(f"/organisations/{other.id}/edit").status_code == 404
    response = post_form(
        client,
        f"/organisations/{other.id}/invitations",
        {"email": "x@example.org"},
        form_url="/organisations/new",
    )
    assert response.status_code == 404
    assert client.get("/organisations/999999").status_code == 404


def test_organisation_list_shows_only_own_organisations(client):
    user = logged_in_client(client)
    other = OrganisationFactory(name="Fremder Verein e.V.")
    page = client.get("/organisations/").get_data(as_text=True)
    assert user_organisation(user).name in page
    assert other.name not in page


def test_org_admin_invites_a_colleague_who_accepts(client):
    admin = logged_in_client(client)
    organisation = user_organisation(admin)
    response = post_form(
        client,
        f"/organisations/{organisation.id}/invitations",
        {"email": "Kollegin@Example.org"},
        form_url=f"/organisations/{organisation.id}",
    )
    assert response.status_code == 302
    [mail] = queued_mails("kollegin@example.org")
    accept_path = link_in(mail["body"])
    assert organisation.name in mail["subject"]

    post_form(client, "/logout", {}, form_url="/start")
    colleague = UserFactory(email="kollegin@example.org")
    log_in(client, colleague)
    assert post_form(client, accept_path, {}).status_code == 302
    membership = organisation.membership_of(colleague)
    assert membership is not None and not membership.is_admin
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    assert client.get(accept_path).status_code == 404  # single use


def test_invitation_cannot_be_accepted_by_another_account(client):
    admin = logged_in_client(client)
    organisation = user_organisation(admin)
    post_form(
        client,
        f"/organisations/{organisation.id}/invitations",
        {"email": "gemeint@example.org"},
        form_url=f"/organisations/{organisation.id}",
    )
    accept_path = link_in(queued_mails("gemeint@example.org")[0]["body"])
    post_form(client, "/logout", {}, form_url="/start")
    log_in(client, UserFactory(email="jemand-anders@example.org"))
    post_form(client, accept_path, {})
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == organisation.id)
        )
        == 1
    )


def test_invitation_tokens_are_stored_only_as_hashes(client):
    admin = logged_in_client(client)
    organisation = user_organisation(admin)
    post_form(
        client,
        f"/organisations/{organisation.id}/invitations",
        {"email": "neu@example.org"},
        form_url=f"/organisations/{organisation.id}",
    )
    token = link_in(queued_mails("neu@example.org")[0]["body"]).rsplit("/", 1)[1]
    invitation = db.session.scalar(db.select(Invitation))
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64


def test_plain_member_cannot_invite_or_remove(client):
    organisation = OrganisationFactory()
    owner = MembershipFactory(organisation=organisation, is_admin=True)
    member = UserFactory()
    MembershipFactory(organisation=organisation, user=member, is_admin=False)
    log_in(client, member)
    url = f"/organisations/{organisation.id}"
    assert (
        post_form(
            client, f"{url}/invitations", {"email": "x@example.org"}, form_url=url
        ).status_code
        == 403
    )
    assert (
        post_form(client, f"{url}/members/{owner.id}/remove", {}, form_url=url).status_code == 403
    )


def test_org_admin_removes_a_member_but_not_the_last_admin(client):
    admin = logged_in_client(client)
    organisation = user_organisation(admin)
    colleague = MembershipFactory(organisation=organisation, is_admin=False)
    own = organisation.membership_of(admin)
    url = f"/organisations/{organisation.id}"
    assert (
        post_form(client, f"{url}/members/{colleague.id}/remove", {}, form_url=url).status_code
        == 302
    )
    assert post_form(client, f"{url}/members/{own.id}/remove", {}, form_url=url).status_code == 302
    assert [m.user_id for m in organisation.memberships] == [admin.id]
