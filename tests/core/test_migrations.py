"""Do the migrations build the schema the models describe, on PostgreSQL and SQLite?"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from grants.core.schema import include_object
from grants.extensions import db
from tests.conftest import ROOT


def test_models_and_migrations_do_not_differ(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_build_the_schema_on_sqlite(tmp_path):
    path = tmp_path / "fresh.sqlite"
    env = {
        **os.environ,
        "GRANTS_ENV": "dev",
        "GRANTS_DATABASE_URL": f"sqlite:///{path}",
        "FLASK_APP": "wsgi:app",
    }

    def flask(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr

    flask("db", "upgrade")
    tables = set(inspect(create_engine(f"sqlite:///{path}")).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables

    # The triggers that keep the queue's counters work on SQLite too.
    flask("seed-demo")
    with sqlite3.connect(path) as connection:

        def counters_agree() -> bool:
            kept = connection.execute(
                "SELECT call_id, status, count FROM application_status_count WHERE count > 0"
            )
            counted = connection.execute(
                "SELECT call_id, status, count(*) FROM application "
                "WHERE submitted_at IS NOT NULL AND status <> 'draft' GROUP BY call_id, status"
            )
            return sorted(kept) == sorted(counted)

        def in_queue() -> int:
            return connection.execute(
                "SELECT coalesce(sum(count), 0) FROM application_status_count"
            ).fetchone()[0]

        before = in_queue()
        connection.execute(
            "UPDATE application SET status = 'submitted', reference = 'TEST-2026-0001', "
            "submitted_at = CURRENT_TIMESTAMP WHERE status = 'draft'"
        )
        assert in_queue() == before + 1
        assert counters_agree()
        connection.execute("UPDATE application SET status = 'in_review' WHERE status = 'submitted'")
        assert counters_agree()
        connection.execute("DELETE FROM application WHERE status = 'in_review'")
        assert counters_agree()

        # And so do the triggers that keep the search text: on insert (seed-demo), on a new
        # title and on a renamed organisation.
        def search_texts() -> list[tuple[str, str]]:
            return sorted(
                connection.execute(
                    "SELECT application.search_text, lower(coalesce(reference, '') || char(10) "
                    "|| coalesce(title, '') || char(10) || organisation.name) "
                    "FROM application JOIN organisation ON organisation.id = organisation_id"
                )
            )

        assert search_texts() and all(kept == expected for kept, expected in search_texts())
        connection.execute("UPDATE application SET title = 'Neuer Titel'")
        connection.execute("UPDATE organisation SET name = 'Umbenannt e.V.'")
        assert all(kept == expected for kept, expected in search_texts())
        assert "neuer titel\numbenannt e.v." in search_texts()[0][0]
