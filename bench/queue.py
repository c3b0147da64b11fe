"""Benchmark of the staff queue over HTTP against gunicorn, beside a trivial page of the same app.

    .venv/bin/python -m bench.queue                # 1,000 and 50,000 applications
    .venv/bin/python -m bench.queue --sizes 50000 --reuse

For every size a database grants_bench_<size> is created, migrated and filled with
`flask seed-bench` (unless --reuse finds it filled already), then gunicorn serves the app in
production mode (2 sync workers) and the script signs in as the demo case worker and measures,
after warm-up requests, the median and 95th percentile latency, requests per second and SQL
statements per request (from the X-Query-Count header, see grants/core/querycount.py) with 1
and 4 concurrent clients. The URLs are requested in turn, so that a machine whose speed drifts
during the run (a shared one does) affects them alike; requests per second per URL are
therefore derived: clients ÷ mean latency. Needs PostgreSQL and Redis on 127.0.0.1 (as for
the tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on the path and shadow the standard
# library's `queue` module (psycopg needs it); `python -m bench.queue` avoids that.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
STAFF_EMAIL = "sachbearbeitung@demo.example"
STAFF_PASSWORD = "Demo-Passwort-2026"  # noqa: S105 - the documented demo password
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(server: str, name: str) -> str:
    return f"postgresql+psycopg://{server}/{name}"


def prepare_database(server: str, size: int, reuse: bool) -> str:
    """Create, migrate and seed grants_bench_<size>; with reuse keep a filled one (migrated to
    the newest schema)."""
    name = f"grants_bench_{size}"
    admin = f"postgresql://{server}/postgres"
    url = f"postgresql://{server}/{name}"
    env = {
        **os.environ,
        "GRANTS_ENV": "dev",
        "GRANTS_DATABASE_URL": database_url(server, name),
        "FLASK_APP": "wsgi:app",
    }
    flask = str(VENV_BIN / "flask")
    upgrade = [flask, "db", "upgrade"]
    if reuse:
        try:
            with psycopg.connect(url) as conn:
                count = conn.execute("SELECT count(*) FROM application").fetchone()[0]
        except psycopg.Error:
            count = 0
        if count >= size:
            subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
            print(f"Reusing {name} ({count:,} applications).", flush=True)
            return name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    started = time.monotonic()
    seed = [flask, "seed-bench", "--applications", str(size)]
    subprocess.run(seed, cwd=ROOT, env=env, check=True)  # noqa: S603
    print(f"Seeded {name} in {time.monotonic() - started:.1f} s.", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return name


class Server:
    """gunicorn serving the app in production mode against one database."""

    def __init__(self, server: str, database: str, workers: int):
        self.port = free_port()
        env = {
            **os.environ,
            "GRANTS_ENV": "prod",
            "GRANTS_SECRET_KEY": secrets.token_hex(32),
            "GRANTS_DATABASE_URL": database_url(server, database),
            "GRANTS_BROKER_URL": "redis://127.0.0.1:6379/8",
            "GRANTS_COUNT_QUERIES": "1",
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [
                str(VENV_BIN / "gunicorn"),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "bench.counted_wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def request(port: int, method: str, path: str, cookie: str = "", body: str | None = None):
    """One HTTP request on a new connection (gunicorn's sync workers close it anyway)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def session_cookie(response) -> str:
    """The session cookie from Set-Cookie; it is marked Secure, so we send it back by hand."""
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    raise RuntimeError("no session cookie")


def log_in(port: int) -> str:
    response, data = request(port, "GET", "/login")
    token = CSRF_RE.search(data.decode()).group(1)
    cookie = session_cookie(response)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "email": STAFF_EMAIL, "password": STAFF_PASSWORD}
    )
    response, _data = request(port, "POST", "/login", cookie, body)
    if response.status != 302:
        raise RuntimeError(f"login failed: {response.status}")
    return session_cookie(response)


@dataclass
class Figures:
    median_ms: float
    p95_ms: float
    per_second: float
    queries: str


def measure(
    port: int, paths: list[str], cookie: str, clients: int, requests: int, warmup: int
) -> dict[str, Figures]:
    """Warm up, then `requests` GETs of every path over `clients` threads, interleaved: in
    each round all clients request the first path together, then the next (the order turning
    round by round). A machine whose speed drifts during the run affects every path alike,
    and each path is measured under the load of its own kind only."""
    for path in paths:
        for _ in range(warmup):
            response, _data = request(port, "GET", path, cookie)
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
    latencies: dict[str, list[float]] = {path: [] for path in paths}
    queries: dict[str, set[str]] = {path: set() for path in paths}
    errors: list[str] = []
    lock = threading.Lock()
    together = threading.Barrier(clients)
    rounds = max(requests // clients, 1)

    def client() -> None:
        for number in range(rounds):
            turn = number % len(paths)
            for path in paths[turn:] + paths[:turn]:
                together.wait()
                started = time.perf_counter()
                response, _data = request(port, "GET", path, cookie)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[path].append(elapsed)
                    queries[path].add(response.getheader("X-Query-Count", "?"))
                    if response.status != 200:
                        errors.append(f"{path}: {response.status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"status {sorted(set(errors))}")
    figures = {}
    for path, times in latencies.items():
        times.sort()
        figures[path] = Figures(
            median_ms=statistics.median(times) * 1000,
            p95_ms=times[max(int(len(times) * 0.95) - 1, 0)] * 1000,
            # Each client waits for its answer before the next request: `clients` requests
            # of this path in flight would complete at this rate.
            per_second=clients / statistics.fmean(times),
            queries="/".join(sorted(queries[path])),
        )
    return figures


def programme_id(server: str, database: str, code: str) -> int:
    with psycopg.connect(f"postgresql://{server}/{database}") as conn:
        return conn.execute("SELECT id FROM programme WHERE code = %s", (code,)).fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres@127.0.0.1:5432", help="user@host:port")
    parser.add_argument("--sizes", default="1000,50000", help="applications per run")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per URL")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clients", default="1,4", help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--search",
        default="opladen,kulturverein opladen",
        help="search terms measured, comma-separated (default: a broad and a narrow one)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep a filled bench database")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    client_counts = [int(c) for c in options.clients.split(",")]

    print(f"Load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    results = []
    for size in sizes:
        database = prepare_database(options.server, size, options.reuse)
        komman = programme_id(options.server, database, "KOMMAN")
        urls = [
            ("trivial: /imprint", "/imprint"),
            ("queue: first page", "/review"),
            ("queue: filter", f"/review?status=submitted&programme={komman}"),
            ("queue: district", "/review?district=1"),
            ("queue: assigned to me", "/review?assigned=me"),
            ("queue: overdue", "/review?overdue=1"),
            ("queue: by organisation", "/review?sort=organisation&dir=asc"),
            ("queue: by status", "/review?sort=status"),
            *(
                (f"queue: search {term!r}", f"/review?{urllib.parse.urlencode({'q': term})}")
                for term in options.search.split(",")
            ),
        ]
        server = Server(options.server, database, options.workers)
        try:
            cookie = log_in(server.port)
            for clients in client_counts:
                figures = measure(
                    server.port,
                    [path for _label, path in urls],
                    cookie,
                    clients,
                    options.requests,
                    options.warmup,
                )
                for label, path in urls:
                    results.append((size, clients, label, path, figures[path]))
        finally:
            server.stop()

    print(f"\nLoad average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = f"{'apps':>7} {'clients':>7}  {'URL':<48} {'median ms':>9} {'p95 ms':>8}"
    print(f"\n{header} {'req/s':>7} {'queries':>7}")
    for size, clients, _label, path, f in results:
        print(
            f"{size:>7} {clients:>7}  {path:<48} {f.median_ms:>9.1f} {f.p95_ms:>8.1f} "
            f"{f.per_second:>7.1f} {f.queries:>7}"
        )
    print("\nqueue median / trivial median (goal: at most 3):")
    for size in sizes:
        for clients in client_counts:
            rows = {r[2]: r[4] for r in results if r[0] == size and r[1] == clients}
            trivial = rows["trivial: /imprint"].median_ms
            ratios = ", ".join(
                f"{label.split(': ', 1)[1]} {rows[label].median_ms / trivial:.1f}×"
                for label in rows
                if label.startswith("queue")
            )
            print(f"  {size:>7} applications, {clients} client(s): {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
