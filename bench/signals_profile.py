"""CPU of one batch of POST /mobile/v1/signals in one process, on PostgreSQL, without gunicorn
or wrk: what docs/performance.md's split of a batch's time was measured with.

    .venv/bin/python bench/signals_profile.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench_signals --profile

The database named is emptied and rebuilt by the migrations (bench/harness.py); `--subjects`
subjects are enrolled under an approved monitoring order, and batches of `--batch` new points
(their own client ids, one second apart, jittered by a few metres around the home, as
bench/ingest.lua sends them) are posted with the app's test client, the subjects in turn.
Printed: the process CPU and the wall time per batch of each round; with `--profile`, cProfile's
functions by own time and by cumulative time over one more round.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import random
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import harness  # noqa: E402

from corrections import clock  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=200, help="batches a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    app = harness.build_app(args.database_url)
    tokens = harness.enrol_subjects(app, args.subjects, monitored=True)
    harness.vacuum_analyze(args.database_url)
    client = app.test_client()
    start = clock.now() - dt.timedelta(days=1)
    sent = [0] * len(tokens)

    def post(n: int) -> None:
        who = n % len(tokens)
        first = sent[who]
        sent[who] += args.batch
        body = [
            {
                "client_id": f"p{who}-{first + i}",
                "lat": round(harness.SEAT[0] + (random.random() - 0.5) * 0.0004, 6),
                "lon": round(harness.SEAT[1] + (random.random() - 0.5) * 0.0004, 6),
                "accuracy_m": 12,
                "recorded_at": clock.isoformat(start + dt.timedelta(seconds=first + i)),
            }
            for i in range(args.batch)
        ]
        answer = client.post(
            "/mobile/v1/signals",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/json"},
        )
        if answer.status_code != 200 or answer.get_json()["stored"] != args.batch:
            raise SystemExit(f"batch {n}: {answer.status_code} {answer.get_data(as_text=True)}")

    for n in range(2 * len(tokens)):  # warm up: compiled statements, prepared ones, the pool
        post(n)
    for round_ in range(args.rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(args.batches):
            post(n)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"round {round_ + 1}: {cpu / args.batches * 1000:.1f} ms CPU,"
            f" {wall / args.batches * 1000:.1f} ms wall a batch of {args.batch}",
            flush=True,
        )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for n in range(args.batches):
            post(n)
        profile.disable()
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
