"""Benchmark: POST /mobile/v1/checkins under gunicorn on PostgreSQL, against a bare Flask
endpoint that answers a constant (bench/bare_wsgi.py) under the same gunicorn settings.

    .venv/bin/python bench/checkin_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench_checkin

The database named is emptied and rebuilt by the migrations; `--subjects` subjects are enrolled
through the services and logged in on their phones (real tokens). Both servers run
`gunicorn -c deploy/gunicorn.conf.py` with `--workers` workers; wrk (bench/ingest.lua) drives
each at `--connections` connections for `--seconds` seconds after a short warm-up, every
request a new check-in (its own client_id) under the next subject's token. Reported: requests
per second of both and their ratio, p50/p90/p99 latency, and the check-ins stored against the
2xx answers wrk counted (every acknowledged check-in must be stored; a request still in flight
when wrk stops may be stored without being counted).
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
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=None, help="default: deploy/gunicorn.conf.py's"
    )
    parser.add_argument("--skip-bare", action="store_true", help="measure the check-ins only")
    args = parser.parse_args()

    started = time.monotonic()
    app = harness.build_app(args.database_url)
    tokens = harness.enrol_subjects(app, args.subjects, monitored=False)
    harness.vacuum_analyze(args.database_url)
    print(f"enrolled {len(tokens)} subjects in {time.monotonic() - started:.0f} s", flush=True)
    run = str(int(time.time()))
    drive = dict(connections=args.connections, threads=args.threads)

    bare = None
    if not args.skip_bare:
        with harness.Gunicorn(
            "bare_wsgi:app", 8101, args.database_url, args.workers, ["--pythonpath", "bench"]
        ) as server:
            server.wait_ready("/")
            harness.wrk(8101, tokens, kind="checkin", seconds=args.warmup, run="w" + run, **drive)
            bare = harness.wrk(8101, tokens, kind="checkin", seconds=args.seconds, run=run, **drive)
        print("bare Flask:", json.dumps(bare), flush=True)

    with harness.Gunicorn("wsgi:app", 8102, args.database_url, args.workers, []) as server:
        server.wait_ready("/healthz")
        harness.wrk(8102, tokens, kind="checkin", seconds=args.warmup, run="w" + run, **drive)
        real = harness.wrk(8102, tokens, kind="checkin", seconds=args.seconds, run=run, **drive)
    stored = harness.count(app, f"SELECT count(*) FROM checkins WHERE client_id LIKE 'b{run}-%'")
    print("check-ins:", json.dumps(real), flush=True)
    print()
    harness.table([("bare Flask", bare), ("POST /mobile/v1/checkins", real)])
    if bare:
        print(f"\nratio: {real['rps'] / bare['rps']:.1%} of bare Flask")
    missing = real["acked"] - stored
    verdict = "every one stored" if missing <= 0 else f"MISSING {missing}"
    print(f"check-ins acknowledged {real['acked']}, stored {stored}: {verdict}")


if __name__ == "__main__":
    main()
