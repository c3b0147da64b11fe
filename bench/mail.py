"""Benchmark of e-mail delivery: 10,000 notifications through the outbox, Redis and two workers.

    .venv/bin/python -m bench.mail                    # 10,000 mails, 20 submissions per case
    .venv/bin/python -m bench.mail --mails 2000 --submissions 10

1. A fresh database (grants_bench_mail) is migrated and given the demo data; Redis database 13
   is emptied; a local SMTP server (aiosmtpd, in a process of its own) counts what arrives and
   notices duplicates by the X-Grants-Outbox-Id header; two `celery worker` processes (one pool
   process each, production settings: late acknowledgement, prefetch 1) consume the mail queue.
2. 10,000 notifications are queued the way the application queues them (`deliver_event`: an
   in-app message and an e-mail rendered as text and HTML, written to the outbox, committed in
   batches of 500 and dispatched after each commit). The script measures the time until the SMTP
   server has received all of them.
3. Submissions of complete applications are timed (in-process test client, real PostgreSQL and
   Redis, the same workers running): first with the SMTP server reachable, then with it stopped.

Needs PostgreSQL and Redis on 127.0.0.1 and the test extras (`make install-test`), because
drafts are completed with the test suite's helper.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432")
DATABASE = "grants_bench_mail"
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OUTBOX_ID_RE = re.compile(rb"X-Grants-Outbox-Id: (\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The SMTP server, in its own process so that it does not compete for the GIL ----------------


def _serve_smtp(port: int, total, duplicates, ready) -> None:
    from aiosmtpd.controller import Controller

    seen: set[bytes] = set()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            match = OUTBOX_ID_RE.search(envelope.content)
            key = match.group(1) if match else None
            with total.get_lock():
                total.value += 1
                if key is not None:
                    if key in seen:
                        duplicates.value += 1
                    seen.add(key)
            return "250 OK"

    deadline = time.monotonic() + 30
    while True:  # after a restart the port may still be held for a moment
        # A loaded machine may need more than aiosmtpd's default second to start the thread.
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=30)
        try:
            controller.start()
            break
        except Exception:
            with contextlib.suppress(Exception):
                controller.stop()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    ready.set()
    while True:
        time.sleep(3600)


# Spawned, not forked: the benchmark process has threads by then (the broker connection's),
# and a forked child can hang on a lock one of them held.
SPAWN = multiprocessing.get_context("spawn")


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.total = SPAWN.Value("i", 0)
        self.duplicates = SPAWN.Value("i", 0)
        self.process = None

    def start(self) -> None:
        ready = SPAWN.Event()
        self.process = SPAWN.Process(
            target=_serve_smtp,
            args=(self.port, self.total, self.duplicates, ready),
            daemon=True,
        )
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError(f"SMTP server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(10)


# Database, workers, app ----------------------------------------------------------------------


def prepare_database(env: dict[str, str]) -> None:
    with psycopg.connect(f"postgresql://{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    subprocess.run(  # noqa: S603 - our own virtualenv's flask, fixed arguments
        [str(ROOT / ".venv" / "bin" / "flask"), "db", "upgrade"],
        cwd=ROOT,
        env={**env, "FLASK_APP": "wsgi:app"},
        check=True,
        capture_output=True,
    )


def start_workers(
    env: dict[str, str], count: int, pool: str, concurrency: int
) -> list[subprocess.Popen]:
    workers = []
    (ROOT / "var").mkdir(exist_ok=True)
    for number in range(1, count + 1):
        log_path = ROOT / "var" / f"bench-mail-worker{number}.log"
        process = subprocess.Popen(  # noqa: S603 - this interpreter's celery, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "-Q",
                "mail,default",
                "-P",
                pool,
                "-c",
                str(concurrency),
                "-n",
                f"bench{number}@%h",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        workers.append(process)
    return workers


def wait_for_workers(app, count: int, seconds: float = 90) -> None:
    """Wait until `count` workers answer a ping."""
    celery = app.extensions["celery"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(celery.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError("the workers did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# The measurements ----------------------------------------------------------------------------


def create_recipients(app, count: int = 100) -> None:
    """`count` applicants (half of them English-speaking) to receive the notifications."""
    from grants.auth.models import User, UserRole
    from grants.core.models import utcnow
    from grants.extensions import db

    with app.app_context():
        for number in range(count):
            user = User(
                email=f"empfaenger{number}@bench.example",
                full_name=f"Empfängerin {number}",
                locale="en" if number % 2 else "de",
                confirmed_at=utcnow(),
            )
            user.role_rows.append(UserRole(role="applicant"))
            db.session.add(user)
        db.session.commit()
        db.session.remove()


def queue_notifications(app, count: int, batch: int = 500) -> float:
    """Queue `count` notifications (in-app + mail) in batches; returns the seconds it took.

    Each `deliver_event` call tells up to 100 recipients, as one event with many recipients
    does (e.g. every member of an organisation).
    """
    from sqlalchemy import select

    from grants.applications.models import Application
    from grants.auth.models import User
    from grants.extensions import db
    from grants.notifications.events import application_path, deliver_event

    def load():
        # As `notify` does, the recipients are loaded by a query for every event (after a
        # commit, objects loaded before would each be refreshed by a query of their own).
        application = db.session.scalars(select(Application).order_by(Application.id)).first()
        users = db.session.scalars(
            select(User).where(User.email.like("%@bench.example")).order_by(User.id)
        ).all()
        return application, users

    with app.app_context():
        started = time.perf_counter()
        queued = in_batch = 0
        while queued < count:
            application, users = load()
            recipients = users[: min(len(users), count - queued, batch - in_batch)]
            deliver_event(
                "payout_recorded",
                recipients,
                link_for=lambda u, a=application: application_path(a, u),
                params={"reference": application.reference or "–"},
                application=application,
                actor=users[0],
            )
            queued += len(recipients)
            in_batch += len(recipients)
            if in_batch >= batch or queued >= count:
                db.session.commit()  # dispatches this batch to Redis
                in_batch = 0
        db.session.remove()
        return time.perf_counter() - started


def completed_drafts(app, count: int) -> list[int]:
    """`count` complete drafts of the demo applicant in the open IKOE call."""
    from sqlalchemy import select

    from grants.applications import operations
    from grants.auth.models import find_user_by_email
    from grants.core.models import utcnow
    from grants.extensions import db
    from grants.organisations.models import Organisation
    from grants.programmes.models import Call, Programme
    from tests.applications.test_application_flow import complete_application

    with app.app_context():
        applicant = find_user_by_email("antrag@demo.example")
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name == "Demo-Verein e.V.")
        )
        call = db.session.scalars(
            select(Call).join(Programme).where(Programme.code == "IKOE", Call.closes_at > utcnow())
        ).first()
        ids = []
        for _ in range(count):
            application = operations.create_draft(call, organisation, applicant)
            complete_application(application, applicant)
            ids.append(application.id)
        db.session.commit()
        db.session.remove()
        return ids


def time_submissions(app, application_ids: list[int]) -> list[float]:
    """Milliseconds per submission request, each through the check page's form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        "/login",
        data={
            "email": "antrag@demo.example",
            "password": "Demo-Passwort-2026",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302, response.status_code
    times = []
    for application_id in application_ids:
        page = client.get(f"/applications/{application_id}/check").get_data(as_text=True)
        token = CSRF_RE.search(page).group(1)
        started = time.perf_counter()
        response = client.post(
            f"/applications/{application_id}/submit",
            data={"csrf_token": token, "seen_status": "draft"},
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        assert f"/applications/{application_id}" in response.headers["Location"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", default="threads", help="the worker pool (prefork, threads)")
    parser.add_argument("--concurrency", type=int, default=4, help="per worker process")
    args = parser.parse_args()

    smtp_port = free_port()
    env = {
        **os.environ,
        "GRANTS_ENV": "dev",
        "GRANTS_DATABASE_URL": f"postgresql+psycopg://{PG_SERVER}/{DATABASE}",
        "GRANTS_BROKER_URL": BROKER_URL,
        "GRANTS_CELERY_EAGER": "0",
        "GRANTS_MAIL_BACKEND": "smtp",
        "GRANTS_MAIL_SERVER": "127.0.0.1",
        "GRANTS_MAIL_PORT": str(smtp_port),
        "GRANTS_MAIL_TIMEOUT": "5",
        "GRANTS_UPLOAD_DIR": str(ROOT / "var" / "bench-uploads"),
    }
    os.environ.update(env)
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    print(f"Preparing {DATABASE} …", flush=True)
    prepare_database(env)

    from grants import create_app
    from grants.cli import seed_demo
    from grants.extensions import db

    app = create_app()
    app.config.update(DEBUG=False, TESTING=False)
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    create_recipients(app)
    drafts = completed_drafts(app, 2 * args.submissions + 13)

    smtp = SmtpServer(smtp_port)
    smtp.start()
    workers: list[subprocess.Popen] = []
    print(f"Load average before: {os.getloadavg()[0]:.1f} (2 CPUs)", flush=True)
    try:
        # 1. End to end: the workers deliver while the notifications are being queued.
        workers = start_workers(env, args.workers, args.pool, args.concurrency)
        wait_for_workers(app, args.workers)
        print(
            f"\n1. Queueing {args.mails:,} notifications while {args.workers} worker processes "
            f"(pool {args.pool}, concurrency {args.concurrency}) deliver …",
            flush=True,
        )
        started = time.perf_counter()
        queue_seconds = queue_notifications(app, args.mails)
        wait_for_mails(smtp, args.mails, started)
        total_seconds = time.perf_counter() - started
        print(f"  queued (rendered, written, committed, dispatched): {queue_seconds:6.1f} s")
        print(f"  all {args.mails:,} received by the SMTP server:       {total_seconds:6.1f} s")

        # 2. Delivery alone: queue with the workers stopped, then start them and drain.
        stop_workers(workers)
        print(f"\n2. Queueing {args.mails:,} more with the workers stopped, then draining …")
        queue_seconds = queue_notifications(app, args.mails)
        print(f"  queued in {queue_seconds:.1f} s; starting the workers", flush=True)
        started = time.perf_counter()
        workers = start_workers(env, args.workers, args.pool, args.concurrency)
        wait_for_mails(smtp, 2 * args.mails, started)
        drain_seconds = time.perf_counter() - started
        print(
            f"  all {args.mails:,} delivered {drain_seconds:6.1f} s after the workers were "
            f"started (their start-up included): {args.mails / drain_seconds:.0f} mails/s"
        )
        with psycopg.connect(f"postgresql://{PG_SERVER}/{DATABASE}") as conn:
            done = conn.execute(
                "SELECT count(*) FROM outbox_message WHERE status = 'done'"
            ).fetchone()[0]
        print(f"  duplicates received: {smtp.duplicates.value}; outbox rows done: {done:,}")

        # 3. Submissions: the request talks to PostgreSQL and Redis, never to the SMTP server.
        # Reachable and unreachable rounds alternate, so that changes of the machine's load
        # affect both alike.
        print(f"\n3. Timing {args.submissions} submissions per case, in rounds of 5 …")
        results: dict[str, list[float]] = {"reachable": [], "unreachable": []}
        remaining = iter(drafts)
        time_submissions(app, [next(remaining) for _ in range(3)])  # warm-up
        for _round in range(max(1, args.submissions // 5)):
            for case in ("reachable", "unreachable"):
                if case == "unreachable":
                    smtp.stop()
                elif smtp.process is None or not smtp.process.is_alive():
                    smtp = SmtpServer(smtp_port)
                    smtp.start()
                results[case] += time_submissions(app, [next(remaining) for _ in range(5)])
        for case, values in results.items():
            print(
                f"  mail server {case:11s} median {statistics.median(values):6.1f} ms, "
                f"p95 {percentile(values, 0.95):6.1f} ms, max {max(values):6.1f} ms "
                f"({len(values)} requests)"
            )
        print(f"\nLoad average after: {os.getloadavg()[0]:.1f}")
    finally:
        stop_workers(workers)
        smtp.stop()


def wait_for_mails(smtp: SmtpServer, count: int, started: float, limit: float = 900) -> None:
    while smtp.total.value < count:
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"only {smtp.total.value} of {count} mails arrived")
        time.sleep(0.05)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        process.terminate()
    for process in workers:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
