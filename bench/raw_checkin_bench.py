"""Experiment: bench/raw_checkin_wsgi.py (the check-in's two statements by raw psycopg, no
SQLAlchemy) against bare Flask, as bench/checkin_bench.py runs the real one.

    .venv/bin/python bench/raw_checkin_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench_perf
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    app = harness.build_app(args.database_url)
    tokens = harness.enrol_subjects(app, args.subjects, monitored=False)
    harness.vacuum_analyze(args.database_url)
    os.environ["RAW_DSN"] = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    os.environ["DATABASE_URL"] = args.database_url
    drive = dict(connections=32, threads=2)
    rows = []
    for name, target, port in (
        ("bare Flask", "bare_wsgi:app", 8101),
        ("raw psycopg", "raw_checkin_wsgi:app", 8103),
    ):
        with harness.Gunicorn(
            target, port, args.database_url, None, ["--pythonpath", "bench"]
        ) as server:
            server.wait_ready("/")
            harness.wrk(port, tokens, kind="checkin", seconds=3, run=f"w{port}", **drive)
            rows.append(
                (
                    name,
                    harness.wrk(
                        port, tokens, kind="checkin", seconds=args.seconds, run=f"r{port}", **drive
                    ),
                )
            )
    harness.table(rows)
    print(f"\nratio: {rows[1][1]['rps'] / rows[0][1]['rps']:.1%} of bare Flask")


if __name__ == "__main__":
    main()
