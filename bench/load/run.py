"""The load run of issue 9 (item 6): locust, headless, against the production stack on loopback.

    make load
    .venv/bin/python bench/load/run.py [--users 50] [--spawn-rate 5] [--duration 300]
                                       [--products 100000] [--cooperatives 700] [--workers N]
                                       [--pg-admin URL] [--markdown]

Starts its own PostgreSQL cluster (initdb into a temporary directory, a free port; or uses
the server at --pg-admin, in a database created and dropped here), fills it with the
province-scale dataset of the catalogue benchmark (bench/catalogue.py: 700 cooperatives,
100,000 products, 300,000 image rows, the search index), starts the app under gunicorn
(sync workers, from the CPU count) with Redis for the throttles and the facet cache, and runs
bench/load/locustfile.py's buyers against it. Prints p50/p95/p99 (ms) and requests per second
of each request type and in total, and exits non-zero on any failed request or on any
traceback in gunicorn's error log.

tests/test_load.py runs the same for 60 seconds on a smaller dataset (the CI version).
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE.parent))  # bench/: the catalogue benchmark's generator

LOCUSTFILE = HERE / "locustfile.py"
#: gunicorn's sync workers: the usual 2 × CPUs + 1.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1


# --------------------------------------------------------------------------- the data


def prepare_database(url: str, products: int, cooperatives: int) -> float:
    """Migrate the database at `url` and fill it (unless it has products); seconds taken."""
    import catalogue  # bench/catalogue.py
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from config import TestConfig
    from shop import create_app
    from shop.catalog.models import Product
    from shop.extensions import db

    started = time.perf_counter()
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SLOW_QUERY_MS": 60_000}  # bulk inserts are slow
    app = create_app(type("LoadConfig", (TestConfig,), settings))
    with app.app_context():
        upgrade()
        if not db.session.scalar(select(func.count(Product.id))):
            catalogue.populate(products, cooperatives)
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


# --------------------------------------------------------------------------- locust

#: Pages every worker renders once before the run: a fresh worker's first page compiles its
#: templates and loads its catalogues, which is start-up, not load.
WARM_UP = [
    "/san-pham",
    "/san-pham?sector=nong-nghiep&ocop=3",
    "/tim-kiem?q=mat+ong",
    "/san-pham/sp-1",
    "/htx/htx-1",
    "/yeu-cau-bao-gia",
    "/",
]


def warm_up(host: str, workers: int) -> None:
    """Request each WARM_UP page from `workers` × 2 threads at once (any answer will do)."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    def visit(_):
        with requests.Session() as session:
            for path in WARM_UP:
                session.get(host + path, timeout=120, headers={"User-Agent": "warm-up bot"})

    with ThreadPoolExecutor(workers * 2) as pool:
        list(pool.map(visit, range(workers * 2)))


@dataclass
class Row:
    """One line of locust's statistics: a request type, or "Aggregated" (the total)."""

    method: str
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float


@dataclass
class LoadResult:
    rows: list[Row]
    failures: list[str]  # locust's failure lines ("N× method name: error")
    returncode: int
    output: str

    @property
    def total(self) -> Row:
        return next(row for row in self.rows if row.name == "Aggregated")


def _number(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def run_locust(host: str, users: int, spawn_rate: float, seconds: int, workdir: Path) -> LoadResult:
    """Run the locustfile's buyers headless against `host`; read its CSV statistics."""
    prefix = workdir / "locust"
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    rows = []
    stats = Path(f"{prefix}_stats.csv")
    if stats.exists():
        with stats.open(newline="") as f:
            for line in csv.DictReader(f):
                rows.append(
                    Row(
                        method=line["Type"],
                        name=line["Name"],
                        requests=int(line["Request Count"]),
                        failures=int(line["Failure Count"]),
                        p50=_number(line["50%"]),
                        p95=_number(line["95%"]),
                        p99=_number(line["99%"]),
                        rps=_number(line["Requests/s"]),
                    )
                )
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open(newline="") as f:
            for line in csv.DictReader(f):
                failures.append(
                    f"{line['Occurrences']}× {line['Method']} {line['Name']}: {line['Error']}"
                )
    return LoadResult(rows, failures, result.returncode, result.stdout + result.stderr)


@contextmanager
def output_to(path: Path):
    """Send this process's stdout and stderr to `path` meanwhile: what a server started now
    inherits (the app's JSON log lines) goes there, not into the run's report."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def tracebacks(*logs: Path) -> list[str]:
    """Tracebacks in the server's logs (an exception a page hid behind a 500, or worse)."""
    found = []
    for log in logs:
        if log.exists():
            text = log.read_text(errors="replace")
            found += [part[:2000] for part in text.split("Traceback (most recent call last)")[1:]]
    return found


def check(result: LoadResult, *logs: Path) -> list[str]:
    """Everything wrong with a run: failed requests, a locust error, tracebacks; [] if none."""
    problems = list(result.failures)
    if not result.rows:
        problems.append("locust wrote no statistics:\n" + result.output[-3000:])
    elif result.total.failures:
        problems.append(f"{result.total.failures} of {result.total.requests} requests failed")
    if result.returncode != 0:
        problems.append(f"locust exited with {result.returncode}:\n{result.output[-3000:]}")
    problems += [f"traceback in the server's log:\n{t}" for t in tracebacks(*logs)]
    return problems


# --------------------------------------------------------------------------- the table


def table(result: LoadResult, markdown: bool = False) -> str:
    rows = sorted(result.rows, key=lambda r: (r.name == "Aggregated", -r.requests))
    lines = []
    if markdown:
        lines.append("| request | requests | failures | p50 ms | p95 ms | p99 ms | req/s |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            name = "**total**" if r.name == "Aggregated" else f"{r.method} {r.name}"
            lines.append(
                f"| {name} | {r.requests} | {r.failures} | {r.p50:.0f} | {r.p95:.0f} "
                f"| {r.p99:.0f} | {r.rps:.1f} |"
            )
    else:
        lines.append(
            f"{'request':28} {'requests':>9} {'failures':>9} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'req/s':>7}"
        )
        for r in rows:
            name = "total" if r.name == "Aggregated" else f"{r.method} {r.name}"
            lines.append(
                f"{name:28} {r.requests:9d} {r.failures:9d} {r.p50:7.0f} {r.p95:7.0f} "
                f"{r.p99:7.0f} {r.rps:7.1f}"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------- make load


class _Dirs:
    """What tests.pg.Server._start_cluster wants of pytest's tmp_path_factory."""

    def __init__(self, base: Path):
        self.base = base

    def mktemp(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base))
        path.chmod(0o755)
        return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=300, help="seconds")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--cooperatives", type=int, default=700)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--pg-admin", help="use this PostgreSQL server (admin URL) instead of starting one"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    args = parser.parse_args()

    from tests.pg import Server
    from tests.workers import GunicornServer, RedisServer

    base = Path(tempfile.mkdtemp(prefix="cho-htx-load-"))
    base.chmod(0o755)  # initdb runs as postgres when we are root
    dirs = _Dirs(base)
    server = redis = gunicorn = None
    try:
        server = Server(args.pg_admin) if args.pg_admin else Server._start_cluster(dirs)
        url = server.create_database("load")
        redis = RedisServer.find_or_start(dirs.mktemp("redis"))
        print(f"generating {args.cooperatives} cooperatives and {args.products} products…")
        took = prepare_database(url, args.products, args.cooperatives)
        print(f"  ready in {took:.0f} s")
        workdir = dirs.mktemp("gunicorn")
        app_log = workdir / "app.log"
        gunicorn = GunicornServer(
            url,
            workdir,
            workers=args.workers,
            REDIS_URL=redis.url(13),
            # No nginx here: the buyers' X-Forwarded-For is their address (locustfile.py).
            SHOP_TRUSTED_PROXIES="1",
        )
        with output_to(app_log):
            gunicorn.start()
        print(
            f"{args.users} users (spawn rate {args.spawn_rate}/s) for {args.duration} s against "
            f"gunicorn ({args.workers} sync workers) + PostgreSQL + Redis at {gunicorn.url}"
        )
        warm_up(gunicorn.url, args.workers)
        result = run_locust(
            gunicorn.url, args.users, args.spawn_rate, args.duration, dirs.mktemp("locust")
        )
        problems = check(result, gunicorn.error_log, app_log)
        stamp = datetime.now().strftime("%d/%m/%Y %H:%M")
        print(f"\n{args.products:,} products, {args.users} users, {args.duration} s, {stamp}\n")
        print(table(result, args.markdown))
        for problem in problems:
            print(f"\nFAILED: {problem}")
        return 1 if problems else 0
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        if redis is not None:
            redis.stop()
        if server is not None:
            if args.pg_admin:
                server.drop_database("load")
            server.stop()  # a cluster started here; nothing for --pg-admin
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
