"""Count the SQL statements of each request into an X-Query-Count header (for benchmarks).

Off unless GRANTS_COUNT_QUERIES=1 (or COUNT_QUERIES=True in the config).
"""

from __future__ import annotations

from flask import Flask, g, has_app_context
from sqlalchemy import event

from config import env_bool
from grants.extensions import db


def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_app_context() and "query_count" in g:
        g.query_count += 1


def install_query_count(app: Flask) -> None:
    """When enabled, listen on the app's engines and add X-Query-Count to every response."""
    if not app.config.get("COUNT_QUERIES", env_bool("COUNT_QUERIES", False)):
        return
    if app.extensions.get("query_count"):
        return  # installed already
    app.extensions["query_count"] = True
    with app.app_context():  # creating engines only builds pools; nothing connects yet
        engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, "before_cursor_execute", _count_statement)

    @app.before_request
    def start_counting() -> None:
        g.query_count = 0

    @app.after_request
    def report_count(response):
        if "query_count" in g:
            response.headers["X-Query-Count"] = str(g.query_count)
        return response
