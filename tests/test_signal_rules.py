"""The pure batch rules of background positions (signals.rules), without a database."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from corrections.signals.rules import OUTSIDE, Point, Track, judge_batch
from corrections.signals.settings import Thresholds
from corrections.zones.rules import ZoneShape

SEAT = (24.70, 107.50)
ZONE = ZoneShape(id=1, kind="allowed", name="县城", lat=SEAT[0], lon=SEAT[1], radius_m=5000)
T0 = dt.datetime(2026, 11, 28, 2, tzinfo=dt.UTC)
LIMITS = Thresholds()
CEILING = 2000.0


def zones(at):
    return [ZONE]


def fix(outside: bool, minute: int, jitter: float = 0.0) -> Point:
    # Inside: near the seat; outside: 0.1 degree north (about 6 km beyond the edge).
    lat = SEAT[0] + (0.1 if outside else 0.0) + jitter
    return Point(lat, SEAT[1] + jitter, 15.0, T0 + dt.timedelta(minutes=minute))


def run(batches, track=None):
    track = track or Track()
    findings = []
    for batch in batches:
        judged = judge_batch(track, batch, zones, LIMITS, CEILING)
        track = judged.track
        findings += judged.findings
    return track, findings


def exits(findings):
    return [f for f in findings if f.kind == "geofence_exit"]


sequences = st.lists(st.booleans(), min_size=1, max_size=60)


def longest_run(pattern) -> int:
    best = current = 0
    for outside in pattern:
        current = current + 1 if outside else 0
        best = max(best, current)
    return best


@settings(max_examples=100, deadline=None)
@given(sequences)
def test_an_exit_is_raised_only_after_enough_fixes_outside_in_a_row(pattern):
    points = [fix(outside, minute * 10) for minute, outside in enumerate(pattern)]
    _, findings = run([points])
    if longest_run(pattern) < LIMITS.exit_confirm_fixes:
        assert exits(findings) == []
    else:
        assert exits(findings)
        assert all(
            f.evidence["confirmed_by_fixes"] == LIMITS.exit_confirm_fixes for f in exits(findings)
        )
    # Each exit needs its own run, and a clear (three inside) between two of them.
    runs = sum(1 for i, outside in enumerate(pattern) if outside and (i == 0 or not pattern[i - 1]))
    assert len(exits(findings)) <= runs


@settings(max_examples=100, deadline=None)
@given(sequences, st.data())
def test_batches_are_judged_incrementally_however_the_track_is_cut(pattern, data):
    points = [fix(outside, minute * 10) for minute, outside in enumerate(pattern)]
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(points) - 1)), max_size=8)))
    batches = [points[a:b] for a, b in zip([0, *cuts], [*cuts, len(points)], strict=True)]
    whole_track, whole = run([points])
    cut_track, pieces = run([b for b in batches if b])
    assert [f.kind for f in pieces] == [f.kind for f in whole]
    assert cut_track == whole_track


@settings(max_examples=100, deadline=None)
@given(sequences, st.randoms(use_true_random=False))
def test_a_batch_in_any_order_is_judged_in_time_order(pattern, rng):
    points = [fix(outside, minute * 10) for minute, outside in enumerate(pattern)]
    shuffled = list(points)
    rng.shuffle(shuffled)
    ordered = judge_batch(Track(), points, zones, LIMITS, CEILING)
    mixed = judge_batch(Track(), shuffled, zones, LIMITS, CEILING)
    assert [f.kind for f in mixed.findings] == [f.kind for f in ordered.findings]
    assert mixed.track == ordered.track
    # Each point keeps its own flags, wherever it was in the batch.
    by_time = {p.at: flags for p, flags in zip(shuffled, mixed.flags, strict=True)}
    assert [by_time[p.at] for p in points] == ordered.flags


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-0.0004, 0.0004), min_size=5, max_size=80))
def test_a_subject_at_home_with_gps_drift_raises_nothing(jitters):
    # Up to about 45 m of drift, one fix a minute: no zone, travel or repeat finding.
    points = [fix(False, minute, jitter) for minute, jitter in enumerate(jitters)]
    _, findings = run([points])
    assert findings == []


def test_a_bad_fix_is_kept_and_marked_not_dropped():
    points = [fix(False, 0), fix(True, 1), fix(False, 2)]
    judged = judge_batch(Track(), points, zones, LIMITS, CEILING)
    assert len(judged.flags) == 3
    assert OUTSIDE in judged.flags[1]
    # Out and back in a minute is 11 km a minute: impossible travel, both ways.
    assert [f.kind for f in judged.findings] == ["impossible_travel", "impossible_travel"]


def test_an_exit_clears_after_enough_fixes_back_inside():
    out = [fix(True, m * 10) for m in range(3)]
    back = [fix(False, 30 + m * 10) for m in range(3)]
    first = judge_batch(Track(), out, zones, LIMITS, CEILING)
    assert first.track.exit_confirmed
    two = judge_batch(first.track, back[:2], zones, LIMITS, CEILING)
    assert two.cleared is None and two.track.exit_confirmed
    three = judge_batch(two.track, back[2:], zones, LIMITS, CEILING)
    assert three.cleared is not None
    assert three.cleared.evidence["fixes_inside"] == 3
    assert not three.track.exit_confirmed


def test_late_points_are_judged_alone():
    track = judge_batch(Track(), [fix(False, 100)], zones, LIMITS, CEILING).track
    late = [fix(True, m) for m in range(5)]
    judged = judge_batch(track, late, zones, LIMITS, CEILING)
    assert exits(judged.findings) == []
    assert all("late" in flags for flags in judged.flags)
    assert judged.track.last == track.last


def test_no_accuracy_counts_as_the_ceiling_so_a_fix_near_the_edge_is_not_outside():
    # 1 km beyond the 5 km edge: outside with 15 m accuracy, not with an unknown one.
    lat = SEAT[0] + 6000 / 111_000
    points = [Point(lat, SEAT[1], None, T0 + dt.timedelta(minutes=m)) for m in range(5)]
    judged = judge_batch(Track(), points, zones, LIMITS, CEILING)
    assert exits(judged.findings) == []
    assert all("no_accuracy" in flags for flags in judged.flags)


def test_identical_fixes_need_both_the_count_and_the_time():
    still = [Point(24.7012345, 107.5012345, 5.0, T0 + dt.timedelta(seconds=s)) for s in range(40)]
    judged = judge_batch(Track(), still, zones, LIMITS, CEILING)
    assert judged.findings == []  # 40 identical in 40 seconds: a phone that just repeated itself
    slow = [
        Point(24.7012345, 107.5012345, 5.0, T0 + dt.timedelta(minutes=2 * m)) for m in range(25)
    ]
    judged = judge_batch(Track(), slow, zones, LIMITS, CEILING)
    assert [f.evidence["reason"] for f in judged.findings] == ["repeated_coordinates"]


def test_random_walk_replay_raises_exactly_the_expected_alerts():
    # A day of fixes every 5 minutes: at home, a walk out of the zone for an hour, home again;
    # drift on every fix, uploads in shuffled batches of up to 20.
    rng = random.Random(7)
    points = []
    for m in range(0, 24 * 60, 5):
        away = 600 <= m < 660
        jitter = rng.uniform(-0.0003, 0.0003)
        points.append(fix(away, m, jitter))
    # The walk out and back in 5 minutes is 11 km each way: keep it honest with a ramp.
    for i, p in enumerate(points):
        m = (p.at - T0).total_seconds() / 60
        if 560 <= m < 600 or 660 <= m < 700:
            share = (m - 560) / 40 if m < 600 else (700 - m) / 40
            points[i] = Point(SEAT[0] + 0.1 * share, p.lon, p.accuracy_m, p.at)
    batches = []
    i = 0
    while i < len(points):
        size = rng.randint(1, 20)
        batch = points[i : i + size]
        rng.shuffle(batch)
        batches.append(batch)
        i += size
    track, findings = run(batches)
    assert [f.kind for f in findings] == ["geofence_exit"]
    assert not track.exit_confirmed  # back inside, cleared
