"""Test fixtures: a PostgreSQL database per run, a transaction per test, real Redis/SMTP/worker."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
import redis
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.serving import make_server

from config import TestConfig
from grants import create_app
from grants.extensions import db
from tests.mailserver import MailServer

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = TestConfig.SQLALCHEMY_DATABASE_URI
BROKER_URL = TestConfig.BROKER_URL


def _recreate_database(url: str) -> None:
    """Drop and create the test database on the server named by url."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""
    server = MailServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def upload_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Uploaded files of this run, outside the project (workers get it by environment)."""
    path = tmp_path_factory.mktemp("uploads")
    os.environ["GRANTS_TEST_UPLOAD_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def app(smtp_server: MailServer, upload_root: Path) -> Iterator[Flask]:
    """The application on a freshly migrated PostgreSQL database."""
    _recreate_database(DATABASE_URL)
    redis.Redis.from_url(BROKER_URL).flushdb()
    app = create_app(TestConfig, MAIL_PORT=smtp_server.port, UPLOAD_DIR=str(upload_root))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _database(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    """Run each test in a transaction that is rolled back afterwards.

    Tests marked `worker`, `e2e` or `committed` share the data with other processes, threads or
    app instances, so they commit for real and every table is emptied afterwards.
    """
    shared = any(request.node.get_closest_marker(m) for m in ("worker", "e2e", "committed"))
    ctx = app.app_context()
    ctx.push()
    if shared:
        yield
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        for attempt in range(3):
            try:
                with db.engine.begin() as conn:
                    # Ids keep growing: task messages of earlier tests may still wait in Redis.
                    conn.execute(text(f"TRUNCATE {tables} CASCADE"))
                break
            except OperationalError:
                # A worker still busy with this test's work (e.g. rendering a letter) can
                # deadlock with the TRUNCATE; PostgreSQL aborts one of the two. Try again.
                if attempt == 2:
                    raise
                time.sleep(1)
        ctx.pop()
        return

    connection = db.engine.connect()
    transaction = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=original.registry.scopefunc,
    )
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        transaction.rollback()
        connection.close()
        ctx.pop()


class Client(FlaskClient):
    """Each request starts with an empty `g`, as in production.

    The test's own app context is reused by the requests; without this, values cached in `g`
    (the signed-in user, the CSRF token) would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> Client:
    """A test client; CSRF is on, so forms need their token (see tests.helpers)."""
    app.test_client_class = Client
    return app.test_client()


class Worker:
    """A real `celery worker` process against the test database, Redis and SMTP server.

    `env` adds GRANTS_* settings for this worker only (e.g. a short visibility timeout).
    The worker runs in its own process group, so `kill()` takes its pool processes too.
    """

    running: ClassVar[set[Worker]] = set()  # the workers of this test run

    def __init__(
        self,
        smtp_port: int,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        name: str = "test-worker",
    ):
        self.env = {
            **os.environ,
            "GRANTS_ENV": "test",
            "GRANTS_MAIL_PORT": str(smtp_port),
            "GRANTS_MAIL_SERVER": "127.0.0.1",
            # Retries of transient failures within seconds, not minutes.
            "GRANTS_MAIL_RETRY_BACKOFF": "1",
            "GRANTS_MAIL_RETRY_BACKOFF_MAX": "2",
            "GRANTS_MAIL_RETRY_JITTER": "false",
            **(env or {}),
        }
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"{name}.log"

    def start(self) -> None:
        self.log_path.parent.mkdir(exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "-Q",
                "default,mail,documents",
                "-c",
                str(self.concurrency),
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        Worker.running.add(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("celery worker exited:\n" + self.log_path.read_text())
            if re.search(r"\bready\.", self.log_path.read_text()):
                return
            time.sleep(0.2)
        raise RuntimeError("celery worker did not start:\n" + self.log_path.read_text())

    def stop(self) -> None:
        Worker.running.discard(self)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a crash would."""
        Worker.running.discard(self)
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker(app: Flask, smtp_server: MailServer) -> Iterator[Worker]:
    """One worker process for the whole run (started on first use)."""
    worker = Worker(smtp_server.port)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def own_workers(app: Flask, smtp_server: MailServer) -> Iterator[list[Worker]]:
    """Workers a test starts itself; the shared worker pauses meanwhile, so only they consume."""
    paused = list(Worker.running)
    for worker in paused:
        worker.stop()
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
    for worker in paused:
        worker.start()


@pytest.fixture
def mailbox(smtp_server: MailServer) -> MailServer:
    """The SMTP server, emptied for this test."""
    smtp_server.clear()
    return smtp_server


class LiveServer:
    """The app served by werkzeug in a thread, for the browser."""

    def __init__(self, app: Flask, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app: Flask, smtp_server: MailServer) -> Iterator[LiveServer]:
    """A second app instance whose e-mail links point at the live server."""
    port = free_port()
    served = create_app(
        TestConfig,
        MAIL_PORT=smtp_server.port,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        UPLOAD_DIR=app.config["UPLOAD_DIR"],
    )
    server = LiveServer(served, port)
    yield server
    server.stop()
