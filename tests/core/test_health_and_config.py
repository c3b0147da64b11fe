"""Does the app report its health, refuse an incomplete production setup and send safe headers?"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import TestConfig
from grants import create_app
from tests.conftest import ROOT


def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.committed
def test_healthz_is_503_when_the_broker_is_down():
    app = create_app(TestConfig, BROKER_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["broker"].startswith("error")


@pytest.mark.committed
def test_healthz_is_503_when_the_database_is_down():
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")


def _start_production(env_vars: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTS_")}
    env.update({"GRANTS_ENV": "prod", **env_vars})
    code = "from grants import create_app; create_app()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_its_secrets():
    result = _start_production({"GRANTS_SECRET_KEY": "s3cr3t"})
    assert result.returncode != 0
    assert "GRANTS_DATABASE_URL" in result.stderr and "GRANTS_BROKER_URL" in result.stderr
    assert "GRANTS_SECRET_KEY" not in result.stderr.split("set", 1)[-1]


def test_production_starts_with_its_secrets_and_secure_cookies():
    result = _start_production(
        {
            "GRANTS_SECRET_KEY": "s3cr3t",
            "GRANTS_DATABASE_URL": TestConfig.SQLALCHEMY_DATABASE_URI,
            "GRANTS_BROKER_URL": TestConfig.BROKER_URL,
        }
    )
    assert result.returncode == 0, result.stderr


def test_production_cookies_are_secure():
    from config import ProdConfig

    assert ProdConfig.SESSION_COOKIE_SECURE and ProdConfig.REMEMBER_COOKIE_SECURE


def test_pages_send_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_user_input_is_escaped(client):
    from tests.helpers import post_form

    response = post_form(
        client, "/register", {"full_name": "<script>alert(1)</script>", "email": "kein-email"}
    )
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_postgresql_sessions_run_without_jit_compilation(app):
    from sqlalchemy import text

    from grants.extensions import db

    assert db.session.execute(text("SHOW jit")).scalar() == "off"
