"""Benchmark: the missed-check-in sweep over many subjects (PostgreSQL).

    .venv/bin/python bench/sweep_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench \
        --subjects 700000 --days 2

The database named is emptied and rebuilt by the migrations. Subjects, plans and check-ins are
generated in the database with generate_series (the service layer is not what is measured
here): every subject checks in daily from 08:00 to 20:00 local time, 95% of them inside each
day's window; the plans took effect before the first day. Timed: the first sweep (catching up
`--days` days), an idle repeat, an idle minute sweep, and the sweep that closes one more day
(the steady-state daily load), with the longest single transaction of each and the statements
it ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import harness  # bench/harness.py, beside this script
import sqlalchemy as sa
from flask_migrate import upgrade

from config import TestingConfig
from corrections import clock, create_app
from corrections.checkin.plans import next_judgement
from corrections.checkin.windows import WindowShape, day_number
from corrections.extensions import db
from corrections.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC
SHAPE = WindowShape(1, 8 * 60, 20 * 60)


def build_app(url: str, batch_size: int):
    harness.empty_postgres(
        url, "the benchmark generates its data with PostgreSQL's generate_series"
    )

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SWEEP_BATCH_SIZE = batch_size

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def populate(n: int, first_day: dt.date, days: int, rate: float, zone) -> None:
    """n subjects in n/500 offices, one daily plan each, and `days` days of check-ins."""
    enrolled = dt.datetime.combine(first_day - dt.timedelta(days=1), dt.time(9), zone)
    grace = dt.timedelta(minutes=15)
    run = db.session.execute
    run(
        sa.text(
            "INSERT INTO offices (code, name, lat, lon, created_at)"
            " SELECT 'B' || g, 'Office ' || g, 24.7, 107.5, :at"
            " FROM generate_series(1, :offices) g"
        ),
        {"offices": max(1, n // 500), "at": enrolled},
    )
    run(
        sa.text(
            "INSERT INTO subjects (name, phone, pin_hash, office_id, category, level,"
            " supervision_start, supervision_end, created_at)"
            " SELECT 'S' || g, '+86139' || lpad(g::text, 8, '0'), 'x',"
            "  1 + (g % :offices), 'probation',"
            "  (ARRAY['strict', 'normal', 'lenient'])[1 + g % 3],"
            "  :start, :end, :at"
            " FROM generate_series(1, :n) g"
        ),
        {
            "n": n,
            "offices": max(1, n // 500),
            "start": first_day,
            "end": first_day + dt.timedelta(days=365),
            "at": enrolled,
        },
    )
    shape_id = run(
        sa.text(
            "INSERT INTO window_shapes (every_days, window_start_min, window_end_min,"
            " judged_until, next_judgement_at) VALUES (1, 480, 1200, :at, :next) RETURNING id"
        ),
        {"at": enrolled, "next": next_judgement(SHAPE, enrolled, grace, zone)},
    ).scalar_one()
    run(
        sa.text(
            "INSERT INTO checkin_plans (subject_id, shape_id, anchor_day, effective_from,"
            " first_day, created_at)"
            " SELECT id, :shape, :anchor, :at, :anchor, :at FROM subjects"
        ),
        {"shape": shape_id, "anchor": day_number(first_day), "at": enrolled},
    )
    db.session.commit()
    for day in range(days):
        add_day_of_checkins(first_day + dt.timedelta(days=day), rate, zone)
        print(f"  check-ins of day {day + 1} of {days}", flush=True)


def add_day_of_checkins(day: dt.date, rate: float, zone) -> None:
    """Check-ins at 12:00 local for a `rate` share of subjects, chosen by hashing the day."""
    noon = dt.datetime.combine(day, dt.time(12), zone)
    db.session.execute(
        sa.text(
            "INSERT INTO checkins (subject_id, client_id, kind, lat, lon, accuracy_m,"
            " recorded_at, received_at, status, flags)"
            " SELECT id, CAST(:client AS varchar), 'location', 24.7, 107.5, 20.0, :at, :at,"
            "  'accepted', '[]'"
            " FROM subjects"
            " WHERE abs(hashtext(id::text || CAST(:client AS text))) % 1000 < :per_mille"
        ),
        {"client": f"b{day.isoformat()}", "at": noon, "per_mille": int(rate * 1000)},
    )
    db.session.commit()


class Transactions:
    """Measures each transaction of the sweep: how long it was open and how many statements."""

    def __init__(self, engine):
        self.longest = 0.0
        self.statements = 0
        self.count = 0
        self._began = None
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "commit", self._end)
        sa.event.listen(engine, "rollback", self._end)
        sa.event.listen(engine, "before_cursor_execute", self._statement)

    def reset(self):
        self.longest, self.statements, self.count = 0.0, 0, 0

    def _begin(self, conn):
        self._began = time.perf_counter()

    def _end(self, conn):
        if self._began is not None:
            self.longest = max(self.longest, time.perf_counter() - self._began)
            self.count += 1
            self._began = None

    def _statement(self, *args):
        self.statements += 1


def timed(label: str, now: dt.datetime, transactions: Transactions) -> float:
    clock.set_now(now)
    transactions.reset()
    began = time.perf_counter()
    results = run_sweep(now)
    result = {"missed_checkin": results["missed_checkin"], "signal_lost": results["signal_lost"]}
    took = time.perf_counter() - began
    print(
        f"{label:<34} {took:7.2f} s  longest transaction {transactions.longest:5.2f} s"
        f" ({transactions.count} transactions, {transactions.statements} statements)  {result}",
        flush=True,
    )
    return took


def add_monitoring(share: float, first_day: dt.date, days: int, zone) -> int:
    """Approved monitoring orders for `share` of the subjects (every k-th), each with a tracking
    state whose last position is recent, as if their phones reported every minute: the
    signal_lost detector then has every order to look at and nothing due."""
    if share <= 0:
        return 0
    step = max(1, round(1 / share))
    approved = dt.datetime.combine(first_day - dt.timedelta(days=1), dt.time(10), zone)
    last_day = first_day + dt.timedelta(days=days + 1)
    run = db.session.execute
    run(
        sa.text(
            "INSERT INTO officers (username, password_hash, role, active, created_at)"
            " VALUES ('bench-boss', 'x', 'supervisor', true, :at)"
        ),
        {"at": approved},
    )
    count = run(
        sa.text(
            "INSERT INTO monitoring_orders (subject_id, ground, starts_on, ends_on, reason,"
            " status, created_by, created_at, approved_by, approved_at)"
            " SELECT s.id, 'police_penalty', :starts, :ends, 'bench', 'approved', o.id, :at,"
            "  o.id, :at FROM subjects s, officers o"
            " WHERE o.username = 'bench-boss' AND s.id % :step = 0"
        ),
        {
            "starts": first_day,
            "ends": first_day + dt.timedelta(days=80),
            "at": approved,
            "step": step,
        },
    ).rowcount
    seen = dt.datetime.combine(last_day, dt.time(8), zone)
    run(
        sa.text(
            "INSERT INTO tracking_states (subject_id, last_lat, last_lon, last_accuracy_m,"
            " last_at, last_received_at, outside_count, outside_run, inside_count,"
            " repeat_count, repeat_raised)"
            " SELECT subject_id, 24.7, 107.5, 15, :seen, :seen, 0, '[]', 0, 1, false"
            " FROM monitoring_orders"
        ),
        {"seen": seen},
    )
    db.session.commit()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--checkin-rate", type=float, default=0.95)
    parser.add_argument("--batch-size", type=int, default=TestingConfig.SWEEP_BATCH_SIZE)
    parser.add_argument(
        "--monitored",
        type=float,
        default=0.1,
        help="share of the subjects under an electronic-monitoring order (tracked, none silent)",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="skip ANALYZE after the bulk load (as if autovacuum had not run yet)",
    )
    args = parser.parse_args()

    first_day = dt.date(2026, 11, 1)
    app = build_app(args.database_url, args.batch_size)
    with app.app_context():
        zone = clock.local_zone()
        print(f"populating {args.subjects:,} subjects, {args.days} days of check-ins")
        began = time.perf_counter()
        populate(args.subjects, first_day, args.days, args.checkin_rate, zone)
        orders = add_monitoring(args.monitored, first_day, args.days, zone)
        print(f"  {orders:,} subjects under a monitoring order")
        print(f"  done in {time.perf_counter() - began:.1f} s")
        if args.analyze:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        transactions = Transactions(db.engine)
        last = first_day + dt.timedelta(days=args.days - 1)
        evening = dt.datetime.combine(last, dt.time(20, 16), zone)
        timed(f"first sweep ({args.days} days)", evening, transactions)
        timed("repeat, nothing new", evening + dt.timedelta(minutes=1), transactions)
        timed("minute sweep, no window closed", evening + dt.timedelta(hours=12), transactions)
        add_day_of_checkins(last + dt.timedelta(days=1), args.checkin_rate, zone)
        if args.analyze:
            db.session.execute(sa.text("ANALYZE checkins"))
            db.session.commit()
        timed("next day's window closes", evening + dt.timedelta(days=1), transactions)


if __name__ == "__main__":
    main()
