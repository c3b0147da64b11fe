"""Is every UI string translated into German, and does the page language follow the visitor?"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import render_template_string

from grants.notifications.mail import render_mail
from tests.helpers import csrf_token

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "grants" / "translations"
MAPPING = TRANSLATIONS / "babel.cfg"
GERMAN_PO = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
# The same keywords as `make messages`: babel's defaults (`_`, `gettext`, `ngettext`, ...)
# plus `_l`, the name lazy_gettext is imported under.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}

# A printf-style conversion (named or not, with flags, width and precision), or "%%".
# Any other "%" counts as a placeholder of its own, because the templates always apply
# `%` to the translated text (Jinja's newstyle gettext), so a stray "%" breaks the page.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]|%")


def _extracted_messages() -> dict[tuple[str, str | None], str]:
    """Every translatable message in the code and templates, as (msgid, context) -> place."""
    with MAPPING.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(MAPPING))
    # Like `pybabel extract .`, but without walking node_modules and .venv: at the top level
    # only the folders named by the mapping (grants/, templates/) can hold matching files.
    top_level = {pattern.split("/", 1)[0] for pattern, _method in method_map}

    def searched(path: str) -> bool:
        relative = Path(path).relative_to(ROOT)
        name = relative.name
        return not name.startswith((".", "_")) and (len(relative.parts) > 1 or name in top_level)

    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=searched
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _german_catalogue():
    with GERMAN_PO.open("rb") as fileobj:
        return read_po(fileobj, locale="de")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _strings(value: str | tuple | list) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_the_extraction_finds_plain_lazy_and_template_strings():
    found = {msgid for msgid, _context in _extracted_messages()}
    assert "Sign in" in found  # a template, _()
    assert "Password" in found  # a form label, lazy_gettext imported as _l
    assert "Hello %(name)s," in found  # an e-mail template with a keyword placeholder


def test_every_ui_string_has_a_german_translation():
    catalogue = _german_catalogue()
    untranslated = []
    for (msgid, context), place in sorted(_extracted_messages().items(), key=lambda m: m[1]):
        entry = catalogue.get(msgid, context)
        if entry is None:
            untranslated.append(f"{place}: {msgid!r} is missing from messages.po")
        elif entry.fuzzy:
            untranslated.append(f"{place}: {msgid!r} is fuzzy")
        elif not all(s.strip() for s in _strings(entry.string)):
            untranslated.append(f"{place}: {msgid!r} has no German text")
    assert not untranslated, "run `make messages` and translate:\n" + "\n".join(untranslated)


def test_the_german_catalogue_has_no_fuzzy_entries():
    fuzzy = [entry.id for entry in _german_catalogue() if entry.id and entry.fuzzy]
    assert fuzzy == []


def test_german_texts_keep_the_placeholders_of_the_english_text():
    mismatched = []
    for entry in _german_catalogue():
        if not entry.id:
            continue
        expected = set().union(*(_placeholders(s) for s in _strings(entry.id)))
        for german in _strings(entry.string):
            if german and _placeholders(german) != expected:
                mismatched.append((entry.id, german))
    assert not mismatched, "\n".join(f"{msgid!r} -> {german!r}" for msgid, german in mismatched)


def test_pages_are_german_by_default(client):
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="de"' in page
    assert "Anmelden" in page
    assert "Passwort vergessen?" in page
    assert ">Passwort<" in page  # a lazily translated form label


def test_the_language_switch_shows_pages_in_english_and_back_in_german(client):
    response = client.post(
        "/language",
        data={"locale": "en", "next": "/login", "csrf_token": csrf_token(client, "/login")},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")

    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Forgot your password?" in page
    assert ">Password<" in page
    assert "Anmelden" not in page

    client.post(
        "/language",
        data={"locale": "de", "next": "/login", "csrf_token": csrf_token(client, "/login")},
    )
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="de"' in page
    assert "Passwort vergessen?" in page


@pytest.mark.parametrize(
    ("locale", "subject", "greeting"),
    [
        ("de", "Bitte bestätigen Sie Ihre E-Mail-Adresse", "Guten Tag Ada Muster,"),
        ("en", "Please confirm your e-mail address", "Hello Ada Muster,"),
    ],
)
def test_e_mails_are_written_in_the_language_of_the_recipient(locale, subject, greeting):
    rendered_subject, body = render_mail(
        "auth/confirm",
        locale,
        user=SimpleNamespace(full_name="Ada Muster"),
        confirm_url="https://example.org/confirm/token",
        max_age_days=3,
    )
    assert rendered_subject == subject
    assert body.startswith(greeting)
    assert ("3 Tage" in body) == (locale == "de")


def test_e_mails_rendered_during_a_german_page_follow_the_recipient(app):
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Please confirm your e-mail address') }}") == (
            "Bitte bestätigen Sie Ihre E-Mail-Adresse"
        )
        subject, body = render_mail(
            "auth/confirm",
            "en",
            user=SimpleNamespace(full_name="Ada Muster"),
            confirm_url="https://example.org/confirm/token",
            max_age_days=3,
        )
        assert subject == "Please confirm your e-mail address"
        assert body.startswith("Hello Ada Muster,")
        # The page itself stays German afterwards.
        assert render_template_string("{{ _('Please confirm your e-mail address') }}") == (
            "Bitte bestätigen Sie Ihre E-Mail-Adresse"
        )
