"""Verification, downloads and the letter settings through the web."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from PIL import Image
from weasyprint import HTML

from grants.extensions import db
from grants.letters import operations as letters
from grants.letters.models import ProgrammeAnnex
from tests.factories import MembershipFactory, ProgrammeFactory, UserFactory
from tests.helpers import csrf_token, log_in, logged_in_client, post_form
from tests.letters.support import issued, render_queued, signed_off
from tests.letters.test_letters import pdf_text


def annex_pdf(text: str = "Allgemeine Nebenbestimmungen ANBest-P", pages: int = 2) -> bytes:
    body = "".join(f'<p style="break-after: page">{text} – Seite {n}</p>' for n in range(pages))
    return HTML(string=body).write_pdf()


# --- verification ----------------------------------------------------------------------------


def upload_to_verify(client, data: bytes, filename: str = "bescheid.pdf"):
    """Post a file to the public verification page (with the CSRF token)."""
    files = {"file": (io.BytesIO(data), filename)}
    return post_form(client, "/verify", files, content_type="multipart/form-data")


def test_verify_by_code_shows_only_reference_date_and_kind(client):
    application, _decision, letter = issued("approval")
    response = client.get(f"/verify?code={letter.verification_code.lower()}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert application.reference in page
    assert "verify-result" in page and "kern-alert--success" in page
    assert application.organisation.name not in page  # nothing beyond the three facts
    assert "1.080" not in page


def test_verify_by_unknown_code_says_no(client):
    response = client.get("/verify?code=AAAAA-BBBBB")
    page = response.get_data(as_text=True)
    assert "kern-alert--danger" in page and "verify-result" in page


def test_verify_by_upload_accepts_the_letter_and_rejects_a_modified_copy(client):
    application, _decision, letter = issued("approval")
    data = letters.letter_path(letter).read_bytes()
    response = upload_to_verify(client, data)
    page = response.get_data(as_text=True)
    assert "kern-alert--success" in page and application.reference in page

    changed = data.replace(b"1.080,00", b"9.080,00") if b"1.080,00" in data else data + b"\n"
    assert changed != data
    response = upload_to_verify(client, changed)
    page = response.get_data(as_text=True)
    assert "kern-alert--danger" in page and application.reference not in page


def test_verify_upload_needs_the_csrf_token_and_a_pdf(client):
    _application, _decision, letter = issued("approval")
    data = letters.letter_path(letter).read_bytes()
    response = client.post(
        "/verify",
        data={"file": (io.BytesIO(data), "bescheid.pdf")},
        content_type="multipart/form-data",
    )
    assert letter.reference not in response.get_data(as_text=True)
    response = upload_to_verify(client, b"GIF89a not a pdf", "x.pdf")
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "verify-result" not in page
    assert "Diese Datei ist keine PDF-Datei." in page  # the verification's own message


def test_verify_upload_refuses_files_over_the_limit(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    response = upload_to_verify(client, b"%PDF-" + b"0" * 2000, "big.pdf")
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "verify-result" not in page
    assert "Die Datei ist größer als" in page  # the upload limit's message


# --- downloads -------------------------------------------------------------------------------


def test_members_download_their_letter_and_see_it_on_the_overview(client):
    application, _decision, letter = issued("approval")
    member = application.organisation.memberships[0].user
    log_in(client, member)
    overview = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f"/letters/{letter.id}.pdf" in overview
    response = client.get(f"/letters/{letter.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == letters.letter_path(letter).read_bytes()
    assert letter.filename in response.headers["Content-Disposition"]


def test_other_organisations_get_404_for_a_letter(client):
    _application, _decision, letter = issued("approval")
    logged_in_client(client, "applicant")
    assert client.get(f"/letters/{letter.id}.pdf").status_code == 404
    assert client.get("/letters/999999.pdf").status_code == 404


@pytest.mark.parametrize("role", ["finance", "staff", "approver", "admin"])
def test_staff_side_roles_download_every_letter(client, role):
    _application, _decision, letter = issued("rejection")
    logged_in_client(client, role)
    assert client.get(f"/letters/{letter.id}.pdf").status_code == 200


def test_an_approver_issues_the_letter_again_as_a_new_version(client):
    application, _decision, first = issued("approval")
    approver = UserFactory(roles=["approver"])
    log_in(client, approver)
    url = f"/letters/applications/{application.id}"
    assert first.verification_code in client.get(url).get_data(as_text=True)
    response = post_form(client, f"{url}/reissue", {}, form_url=url)
    assert response.status_code == 302
    (second,) = render_queued()
    assert (second.version, first.version) == (2, 1)


def test_finance_cannot_reissue_and_applicants_cannot_list_letters(client):
    application, _decision, _letter = issued("approval")
    logged_in_client(client, "finance")
    url = f"/letters/applications/{application.id}"
    assert client.get(url).status_code == 200
    assert post_form(client, f"{url}/reissue", {}, form_url="/start").status_code == 403
    member = application.organisation.memberships[0].user
    client.post("/logout", data={"csrf_token": csrf_token(client, "/start")})
    log_in(client, member)
    assert client.get(url).status_code == 403


# --- administration --------------------------------------------------------------------------


def test_admin_changes_the_legal_remedy_and_new_letters_use_it(client):
    admin = UserFactory(roles=["admin"])
    log_in(client, admin)
    page = client.get("/admin/letters").get_data(as_text=True)
    assert "Verwaltungsgericht Köln" in page  # the default is shown
    response = post_form(
        client,
        "/admin/letters",
        {"remedy_text": "Klage beim Verwaltungsgericht Musterstadt.", "contact_email": ""},
    )
    assert response.status_code == 302
    assert letters.effective_settings()["remedy_text"].endswith("Musterstadt.")
    _application, _decision, letter = issued("approval")
    assert "Verwaltungsgericht Musterstadt" in pdf_text(letters.letter_path(letter).read_bytes())


def test_admin_uploads_an_annex_that_is_appended_to_approval_letters(client):
    admin = UserFactory(roles=["admin"])
    log_in(client, admin)
    application, decision, _approver = signed_off("approval")
    programme = application.call.programme
    url = f"/admin/letters/programmes/{programme.id}"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "annex-csrf_token": token,
            "annex-title": "ANBest-P",
            "annex-file": (io.BytesIO(annex_pdf(pages=2)), "anbest-p.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    annex = db.session.scalar(db.select(ProgrammeAnnex))
    assert (annex.title, annex.page_count) == ("ANBest-P", 2)

    (letter,) = render_queued()
    data = letters.letter_path(letter).read_bytes()
    text = pdf_text(data)
    assert "Allgemeine Nebenbestimmungen ANBest-P – Seite 1" in text
    assert "ANBest-P (2 Seiten)" in text  # listed under Anlagen
    assert letter.page_count == letter.snapshot["annexes"][0]["pages"] + 2  # letter + annex
    assert letter.snapshot["annexes"][0]["sha256"] == annex.sha256
    with pikepdf.open(io.BytesIO(data)) as pdf:  # still the letter's catalogue and identifier
        assert pdf.open_metadata().pdfa_status == "3B"
        assert list(pdf.attachments.keys()) == ["bescheid-daten.json"]
        code_digest = hashlib.sha256(letter.verification_code.encode()).hexdigest()[:32]
        assert bytes(pdf.trailer.ID[0]) == code_digest.encode()


def test_annex_upload_refuses_what_is_not_a_pdf(client):
    admin = UserFactory(roles=["admin"])
    log_in(client, admin)
    programme = ProgrammeFactory()
    url = f"/admin/letters/programmes/{programme.id}"
    for content in (b"<html>not a pdf</html>", b"%PDF-1.7 broken\n%%EOF"):
        response = client.post(
            url,
            data={
                "annex-csrf_token": csrf_token(client, url),
                "annex-title": "Falsch",
                "annex-file": (io.BytesIO(content), "falsch.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ProgrammeAnnex.id))) == 0


def test_admin_sets_the_budget_item_of_a_programme(client):
    admin = UserFactory(roles=["admin"])
    log_in(client, admin)
    programme = ProgrammeFactory()
    url = f"/admin/letters/programmes/{programme.id}"
    response = client.post(
        url,
        data={"settings-csrf_token": csrf_token(client, url), "settings-budget_item": "1.3.2.01"},
    )
    assert response.status_code == 302
    assert programme.letter_settings.budget_item == "1.3.2.01"


@pytest.mark.parametrize("role", ["applicant", "staff", "approver", "finance"])
def test_only_admins_reach_the_letter_settings(client, role):
    logged_in_client(client, role)
    assert client.get("/admin/letters").status_code == 403


def test_letters_of_an_applicant_are_hidden_from_members_of_other_organisations(client):
    application, _decision, letter = issued("approval")
    stranger = MembershipFactory().user
    log_in(client, stranger)
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert client.get(f"/letters/{letter.id}.pdf").status_code == 404


def test_an_uploaded_logo_appears_in_new_letters_and_other_files_are_refused(client):
    admin = UserFactory(roles=["admin"])
    log_in(client, admin)
    png = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 80, 160)).save(png, format="PNG")
    response = post_form(
        client,
        "/admin/letters/logo",
        {"logo": (io.BytesIO(png.getvalue()), "logo.png")},
        form_url="/admin/letters",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert client.get("/admin/letters/logo").data == png.getvalue()
    post_form(
        client,
        "/admin/letters/logo",
        {"logo": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")},
        form_url="/admin/letters",
        content_type="multipart/form-data",
    )
    assert client.get("/admin/letters/logo").data == png.getvalue()  # unchanged

    _application, _decision, letter = issued("approval")
    with pikepdf.open(letters.letter_path(letter)) as pdf:
        images = [
            xobject
            for xobject in (pdf.pages[0].Resources.get("/XObject") or {}).values()
            if xobject.get("/Subtype") == "/Image"
        ]
    assert len(images) == 1 and int(images[0].Width) == 40
