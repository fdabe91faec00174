"""What bench/checkin_bench.py and bench/signals_bench.py share: a PostgreSQL database rebuilt
by the migrations, subjects enrolled through the services with real phone tokens, gunicorn with
the deployment's settings (deploy/gunicorn.conf.py), and wrk driving bench/ingest.lua."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from config import ProductionConfig
from corrections import clock, create_app
from corrections.actors import Actor
from corrections.auth.models import Officer
from corrections.auth.services import create_officer
from corrections.casefile.schemas import SubjectIn
from corrections.casefile.services import enrol
from corrections.extensions import db
from corrections.monitoring import services as monitoring
from corrections.monitoring.schemas import OrderIn
from corrections.offices.models import Office
from corrections.subjects.services import phone_login

ROOT = Path(__file__).resolve().parent.parent
SEAT = (24.70, 107.50)
SECRET_KEY = "bench-secret-key"


def empty_postgres(url: str, why: str) -> None:
    """Drop and recreate the public schema of the PostgreSQL database at `url`; exit saying
    `why` when `url` is another engine."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            raise SystemExit(why)
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def build_app(url: str):
    """The app on `url`, its schema dropped and rebuilt by the migrations."""
    empty_postgres(
        url, "the benchmarks run on PostgreSQL (--database-url postgresql+psycopg://...)"
    )

    class Config(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = SECRET_KEY
        # Enrolment and login hash PINs; their cost is not what is measured.
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def enrol_subjects(app, n: int, *, monitored: bool) -> list[str]:
    """`n` subjects in one office, each checking in daily 08:00-20:00 inside a 5 km zone around
    the seat, logged in on a phone of their own; under an approved monitoring order from
    yesterday for a month when `monitored`. Their phone tokens."""
    system = Actor.system()
    tokens = []
    with app.app_context():
        now = clock.now()
        today = clock.local_today()
        db.session.add(Office(code="B01", name="基准司法所", lat=SEAT[0], lon=SEAT[1]))
        db.session.flush()
        officer = create_officer("bench-li", "bench-password-1", "officer", "B01")
        boss = create_officer("bench-boss", "bench-password-1", "supervisor", None)
        db.session.commit()
        for i in range(n):
            body = {
                "name": f"基准{i}",
                "phone": f"1390{i:07d}",
                "pin": "2468",
                "office_code": "B01",
                "category": "probation",
                "level": ("strict", "normal", "lenient")[i % 3],
                "supervision_start": (today - dt.timedelta(days=30)).isoformat(),
                "supervision_end": (today + dt.timedelta(days=365)).isoformat(),
                "home": {"lat": SEAT[0], "lon": SEAT[1]},
                "zones": [
                    {
                        "kind": "allowed",
                        "name": "县城",
                        "lat": SEAT[0],
                        "lon": SEAT[1],
                        "radius_m": 5000,
                    }
                ],
                "checkin": {"every_days": 1, "window_start": "08:00", "window_end": "20:00"},
            }
            subject = enrol(
                SubjectIn.from_plain(body),
                None,
                actor=system,
                now=now,
                grace=dt.timedelta(minutes=15),
            )
            if monitored:
                order = monitoring.request_order(
                    subject,
                    OrderIn.model_validate(
                        {
                            "ground": "left_area_without_approval",
                            "starts_on": today - dt.timedelta(days=2),
                            "ends_on": today + dt.timedelta(days=30),
                            "reason": "基准测试",
                        }
                    ),
                    db.session.get(Officer, officer.id),
                    actor=system,
                    now=now,
                )
                monitoring.approve(order, db.session.get(Officer, boss.id), actor=system, now=now)
            session = phone_login(
                body["phone"],
                "2468",
                f"bench-phone-{i}",
                now=now,
                today=today,
                ip="127.0.0.1",
                lifetime=dt.timedelta(days=1),
            )
            tokens.append(session.token)
            db.session.commit()
    return tokens


def count(app, sql: str) -> int:
    """One number from the benchmark's database."""
    with app.app_context():
        return db.session.scalar(sa.text(sql))


def vacuum_analyze(url: str) -> None:
    """Fresh statistics after the enrolment (as autovacuum would do on its own soon after)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py serving `target` on `port` until stopped."""

    def __init__(self, target: str, port: int, url: str, workers: int | None, extra: list[str]):
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
        }
        if workers is not None:  # else the deployment's own default
            env["WEB_CONCURRENCY"] = str(workers)
        else:
            env.pop("WEB_CONCURRENCY", None)
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (open while gunicorn runs)
            "w+", prefix="bench-gunicorn-", suffix=".log", delete=False
        )
        command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        self.process = subprocess.Popen(
            [*command, *extra, target], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.port = port

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log.name}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer on port {self.port}; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wrk(
    port: int,
    tokens: list[str],
    *,
    kind: str,
    connections: int,
    threads: int,
    seconds: int,
    run: str,
    batch: int = 100,
) -> dict:
    """Run wrk with bench/ingest.lua against the server on `port`; its BENCH figures plus
    wrk's own requests per second."""
    with tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False) as handle:
        handle.write("\n".join(tokens) + "\n")
    env = {
        **os.environ,
        "BENCH_TOKENS": handle.name,
        "BENCH_KIND": kind,
        "BENCH_THREADS": str(threads),
        "BENCH_RUN": run,
        "BENCH_BATCH": str(batch),
        "BENCH_LAT": str(SEAT[0]),
        "BENCH_LON": str(SEAT[1]),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "ingest.lua"),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    os.unlink(handle.name)
    match = re.search(r"^BENCH (\{.*\})$", result.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk said:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    figures["stderr"] = result.stderr.strip()
    return figures


def table(rows: list[tuple[str, dict | None]]) -> None:
    """Print wrk's figures as a Markdown table (docs/performance.md takes it as it is)."""
    print("| server | req/s | p50 | p90 | p99 | 2xx | other |")
    print("|---|---|---|---|---|---|---|")
    for name, f in rows:
        if f is None:
            continue
        other = f["refused"] + f["socket_errors"]
        print(
            f"| {name} | {f['rps']:.0f} | {f['p50_ms']:.1f} ms | {f['p90_ms']:.1f} ms"
            f" | {f['p99_ms']:.1f} ms | {f['acked']} | {other} |"
        )
