"""URL helpers: safe redirect targets and per-row link patterns."""

from __future__ import annotations

import pytest
from flask import url_for

from grants.core.urls import safe_next, url_pattern


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/review?status=submitted", "/review?status=submitted"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("review", None),
        ("", None),
    ],
)
def test_only_paths_on_this_site_are_followed(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize("endpoint", ["reviews.show", "reviews.assign", "applications.overview"])
def test_url_patterns_build_what_url_for_builds(app, endpoint):
    with app.test_request_context("/"):
        pattern = url_pattern(endpoint, "application_id")
        for application_id in (1, 42, 2_147_483_646):
            assert pattern(application_id) == url_for(endpoint, application_id=application_id)
