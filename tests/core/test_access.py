"""Does every endpoint declare who may use it, and is the rule enforced?"""

from __future__ import annotations

import pytest

from tests.helpers import logged_in_client


def test_every_endpoint_declares_an_access_rule(app):
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not getattr(app.view_functions[rule.endpoint], "access_rule", None)
    ]
    assert missing == []


def _protected_get_urls(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if view.access_rule != "public" and "GET" in rule.methods:
            values = dict.fromkeys(rule.arguments, 1)
            yield rule.endpoint, rule.build(values)[1]


def test_anonymous_visitors_are_sent_to_login_from_every_protected_page(app, client):
    for endpoint, url in _protected_get_urls(app):
        response = client.get(url)
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/login"), endpoint


@pytest.mark.parametrize("role", ["applicant", "staff", "approver", "finance"])
def test_only_admins_reach_admin_pages(client, role):
    logged_in_client(client, role)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403


def test_staff_cannot_use_applicant_pages(client):
    logged_in_client(client, "staff")
    assert client.get("/organisations/").status_code == 403
    assert client.get("/organisations/new").status_code == 403
