"""Benchmark: POST /mobile/v1/signals under gunicorn on PostgreSQL, batches of `--batch`
points, every subject under an approved monitoring order (so every detector judges each batch).

    .venv/bin/python bench/signals_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench_signals

The database named is emptied and rebuilt by the migrations; `--subjects` subjects are enrolled
through the services, each with a monitoring order approved by a supervisor, and logged in on
their phones. wrk (bench/ingest.lua) sends each request under the next subject's token: `--batch`
new points (their own client ids, one second apart, jittered by a few metres around the
subject's home). Reported: batches and points per second, latency, and points stored against
the points of the 2xx answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subjects", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=None, help="default: deploy/gunicorn.conf.py's"
    )
    args = parser.parse_args()

    started = time.monotonic()
    app = harness.build_app(args.database_url)
    tokens = harness.enrol_subjects(app, args.subjects, monitored=True)
    harness.vacuum_analyze(args.database_url)
    print(f"enrolled {len(tokens)} subjects in {time.monotonic() - started:.0f} s", flush=True)
    run = str(int(time.time()))
    drive = dict(connections=args.connections, threads=args.threads, batch=args.batch)
    with harness.Gunicorn("wsgi:app", 8104, args.database_url, args.workers, []) as server:
        server.wait_ready("/healthz")
        harness.wrk(8104, tokens, kind="signals", seconds=args.warmup, run="w" + run, **drive)
        real = harness.wrk(8104, tokens, kind="signals", seconds=args.seconds, run=run, **drive)
    stored = harness.count(app, f"SELECT count(*) FROM signals WHERE client_id LIKE 'b{run}-%'")
    print("signals:", json.dumps(real), flush=True)
    print()
    harness.table([(f"POST /mobile/v1/signals ({args.batch} a batch)", real)])
    acked_points = real["acked"] * args.batch
    print(f"\npoints per second: {real['rps'] * args.batch:.0f}")
    missing = acked_points - stored
    verdict = "every one stored" if missing <= 0 else f"MISSING {missing}"
    print(f"points acknowledged {acked_points}, stored {stored}: {verdict}")


if __name__ == "__main__":
    main()
