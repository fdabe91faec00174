"""Benchmark: the missed-check-in sweep over many subjects.

    .venv/bin/python bench/sweep_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench \
        --subjects 100000 --days 7

The database named is emptied and rebuilt by the migrations. Subjects, plans and check-ins are
bulk-inserted (the service layer is not what is measured here); 95% of subjects check in inside
each daily window. Timed: the first sweep (catching up all days), an idle repeat, and the sweep
that closes one more day (the steady-state daily load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

import sqlalchemy as sa
from corrections.alerts.sweep import run_sweep
from flask_migrate import upgrade

from config import TestingConfig
from corrections import clock, create_app
from corrections.checkin.models import Checkin
from corrections.checkin.windows import day_number
from corrections.extensions import db
from corrections.offices.models import Office
from corrections.subjects.models import CheckinPlan, Subject

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


def build_app(url: str):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def populate(n: int, first_day: dt.date, days: int, checkin_rate: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    offices = max(1, n // 500)
    db.session.execute(
        sa.insert(Office),
        [
            {"code": f"B{i:05d}", "name": f"Office {i}", "lat": 24.7, "lon": 107.5}
            for i in range(offices)
        ],
    )
    office_ids = db.session.scalars(sa.select(Office.id)).all()
    chunk = 10_000
    for start in range(0, n, chunk):
        rows = [
            {
                "name": f"S{i}",
                "phone": f"+86139{i:08d}",
                "pin_hash": "x",
                "office_id": office_ids[i % len(office_ids)],
                "category": "probation",
                "level": rng.choice(("strict", "normal", "lenient")),
                "supervision_start": first_day,
                "supervision_end": first_day + dt.timedelta(days=365),
            }
            for i in range(start, min(n, start + chunk))
        ]
        ids = db.session.scalars(sa.insert(Subject).returning(Subject.id), rows).all()
        db.session.execute(
            sa.insert(CheckinPlan),
            [
                {
                    "subject_id": sid,
                    "every_days": 1,
                    "window_start_min": 8 * 60,
                    "window_end_min": 20 * 60,
                    "anchor_day": day_number(first_day),
                }
                for sid in ids
            ],
        )
        checkins = []
        for sid in ids:
            for d in range(days):
                if rng.random() < checkin_rate:
                    local_noon = dt.datetime.combine(
                        first_day + dt.timedelta(days=d), dt.time(4, 0), UTC
                    )
                    checkins.append(
                        {
                            "subject_id": sid,
                            "client_id": f"b{d}",
                            "kind": "location",
                            "lat": 24.7,
                            "lon": 107.5,
                            "accuracy_m": 20.0,
                            "recorded_at": local_noon,
                            "received_at": local_noon,
                            "status": "accepted",
                            "flags": [],
                        }
                    )
        if checkins:
            db.session.execute(sa.insert(Checkin), checkins)
        db.session.commit()
        print(f"  populated {min(n, start + chunk):,} / {n:,} subjects", flush=True)


def timed(label: str, now: dt.datetime) -> float:
    began = time.perf_counter()
    result = run_sweep(now)["missed_checkin"]
    took = time.perf_counter() - began
    print(f"{label:<32} {took:8.2f} s  {result}", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--checkin-rate", type=float, default=0.95)
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="skip ANALYZE after the bulk load (as if autovacuum had not run yet)",
    )
    args = parser.parse_args()

    first_day = dt.date(2026, 11, 1)
    app = build_app(args.database_url)
    with app.app_context():
        print(f"populating {args.subjects:,} subjects, {args.days} days of check-ins")
        began = time.perf_counter()
        populate(args.subjects, first_day, args.days + 1, args.checkin_rate)
        print(f"  done in {time.perf_counter() - began:.1f} s")
        if args.analyze and db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        last = first_day + dt.timedelta(days=args.days - 1)
        evening = dt.datetime.combine(last, dt.time(13, 0), UTC)  # 21:00 in Asia/Shanghai
        clock.set_now(evening)
        timed(f"first sweep ({args.days} days)", evening)
        timed("repeat, nothing new", evening + dt.timedelta(minutes=1))
        timed("minute sweep, no window closed", evening + dt.timedelta(hours=12))
        timed("next day's window closes", evening + dt.timedelta(days=1))


if __name__ == "__main__":
    main()
