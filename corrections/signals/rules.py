"""Pure decisions about a batch of background positions, continuing a subject's track.

`judge_batch(track, points, zones_on, thresholds, ceiling)` takes what the rules remember of the
track (`Track`), the batch's points and the zones in force on each local day, and returns the
new track, every point's flags and the findings to raise. No database, no clock, no Flask.

Points are judged in the order they were recorded. A point recorded before the track's last fix
arrived late: its own facts are judged (a simulated location, an exclusion zone) but it does not
rewrite the sequence already judged (the run of fixes outside, the travel speed, the run of
repeated coordinates), since the batches after it were judged without it. See docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from corrections.checkin.curfew import Curfew, CurfewTrack, follow_signal
from corrections.checkin.rules import judge_travel
from corrections.signals.settings import Thresholds
from corrections.zones.rules import Finding, Fix, ZoneShape, fix_evidence, judge_zones

#: Flags a signal may carry.
OUTSIDE = "outside"  # wholly outside every allowed zone (counts towards a confirmed exit)
EXCLUSION = "exclusion_zone"
MOCK = "mock_location"
TRAVEL = "impossible_travel"
REPEATED = "repeated_coordinates"
INACCURATE = "inaccurate"  # claimed accuracy above the ceiling (counted as the ceiling)
NO_ACCURACY = "no_accuracy"  # no accuracy sent (counted as the ceiling)
LATE = "late"  # recorded before the track's last fix: judged alone
CURFEW = "curfew"  # away from home inside the curfew hours (counts towards a breach)
FLAGS = (OUTSIDE, EXCLUSION, MOCK, TRAVEL, REPEATED, INACCURATE, NO_ACCURACY, LATE, CURFEW)

#: The keys of a fix's evidence (zones.rules.fix_evidence).
POSITION_KEYS = ("lat", "lon", "accuracy_m", "accuracy_counted_m", "recorded_at")
#: How many of an exit's first fixes its evidence lists.
RUN_EVIDENCE = 10


@dataclass(frozen=True)
class Point:
    """One background position as the rules take it; `accuracy_m` None when none was sent."""

    lat: float
    lon: float
    accuracy_m: float | None
    at: dt.datetime
    mock_location: bool | None = None

    def fix(self, ceiling_m: float) -> Fix:
        """The point as a fix; no accuracy counts as the ceiling (the subject's benefit)."""
        accuracy = self.accuracy_m if self.accuracy_m is not None else ceiling_m
        return Fix(self.lat, self.lon, accuracy, self.at)


@dataclass(frozen=True)
class Track:
    """What the rules remember of a subject's track (signals.models.TrackingState)."""

    last: Fix | None = None
    outside_count: int = 0
    outside_run: tuple[dict, ...] = ()
    exit_confirmed: bool = False
    inside_count: int = 0
    repeat_count: int = 0
    repeat_since: dt.datetime | None = None
    repeat_raised: bool = False
    curfew: CurfewTrack = CurfewTrack()


@dataclass(frozen=True)
class Household:
    """What the curfew rule needs of the subject: the home, the curfew of the plan version in
    force at an instant, the home radius, and the local time zone the hours are read in."""

    home: tuple[float, float] | None
    curfew_at: Callable[[dt.datetime], Curfew | None]
    radius_m: float
    zone: ZoneInfo


@dataclass(frozen=True)
class Cleared:
    """A confirmed exit that cleared: the subject is back inside."""

    evidence: dict


@dataclass
class Judged:
    """The outcome of a batch: the new track, each point's flags (in the order given), the
    findings to raise and whether a confirmed exit cleared."""

    track: Track
    flags: list[list[str]]
    findings: list[Finding] = field(default_factory=list)
    cleared: Cleared | None = None


def judge_batch(
    track: Track,
    points: Sequence[Point],
    zones_on: Callable[[dt.datetime], list[ZoneShape]],
    thresholds: Thresholds,
    ceiling_m: float,
    household: Household | None = None,
) -> Judged:
    """Judge `points` (any order) after `track`; `zones_on(at)` gives the zones in force when a
    point was recorded; `household` the curfew's facts (None: no curfew rule)."""
    flags: list[list[str]] = [[] for _ in points]
    findings: list[Finding] = []
    cleared: Cleared | None = None
    order = sorted(range(len(points)), key=lambda i: points[i].at)
    for i in order:
        point = points[i]
        fix = point.fix(ceiling_m)
        marks = flags[i]
        if point.accuracy_m is None:
            marks.append(NO_ACCURACY)
        elif point.accuracy_m > ceiling_m:
            marks.append(INACCURATE)
        if point.mock_location:
            marks.append(MOCK)
            findings.append(Finding("mock_location", {**fix_evidence(fix, ceiling_m)}))
        zone_findings = judge_zones(fix, zones_on(point.at), accuracy_ceiling_m=ceiling_m)
        exits = [f for f in zone_findings if f.kind == "geofence_exit"]
        for finding in zone_findings:
            if finding.kind == "exclusion_zone":
                marks.append(EXCLUSION)
                findings.append(finding)
        late = track.last is not None and point.at < track.last.at
        if late:
            marks.append(LATE)
            continue
        changes, found, back = _follow(track, fix, point, exits, thresholds, ceiling_m, marks)
        findings.extend(found)
        if household is not None:
            changes["curfew"], breach = _curfew(track, fix, household, thresholds, ceiling_m, marks)
            if breach is not None:
                findings.append(breach)
        # One new Track a point: each step reads only what the steps before it left alone.
        track = replace(track, **changes)
        if back is not None:
            cleared = back
    return Judged(track, flags, findings, cleared)


def _follow(track, fix, point, exits, thresholds, ceiling_m, marks):
    """One in-order point: travel, the runs outside and inside, the run of repeats. What
    changes in the track (a dict of its fields), the findings, the exit cleared."""
    found: list[Finding] = []
    cleared = None
    travel = judge_travel(
        track.last, fix, max_kmh=thresholds.impossible_travel_kmh, accuracy_ceiling_m=ceiling_m
    )
    if travel is not None:
        marks.append(TRAVEL)
        found.append(travel)
    changes, repeat = _repeats(track, point, thresholds, ceiling_m, marks)
    if repeat is not None:
        found.append(repeat)
    if exits:
        marks.append(OUTSIDE)
        evidence = exits[0].evidence
        step = {
            **fix_evidence(fix, ceiling_m),
            "nearest_zone": evidence["nearest_zone"],
            "distance_outside_m": evidence["distance_outside_m"],
            "margin_m": evidence["margin_m"],
        }
        run = track.outside_run + ((step,) if len(track.outside_run) < RUN_EVIDENCE else ())
        changes.update(outside_count=track.outside_count + 1, outside_run=run, inside_count=0)
        if not track.exit_confirmed and changes["outside_count"] >= thresholds.exit_confirm_fixes:
            outside = replace(track, outside_count=changes["outside_count"], outside_run=run)
            found.append(_confirmed_exit(outside, evidence, step, thresholds))
            changes["exit_confirmed"] = True
    elif track.exit_confirmed:
        inside = track.inside_count + 1
        if inside >= thresholds.exit_clear_fixes:
            cleared = Cleared(
                {
                    **fix_evidence(fix, ceiling_m),
                    "fixes_inside": inside,
                    "fixes_outside": track.outside_count,
                    "outside_from": track.outside_run[0]["recorded_at"]
                    if track.outside_run
                    else None,
                }
            )
            changes.update(exit_confirmed=False, inside_count=0, outside_count=0, outside_run=())
        else:
            changes["inside_count"] = inside
    else:
        changes.update(outside_count=0, outside_run=())
    changes["last"] = fix
    return changes, found, cleared


def _curfew(track: Track, fix: Fix, household: Household, thresholds, ceiling_m, marks):
    """One in-order point against the night's curfew (checkin.curfew): the night's new run,
    and the breach it confirms."""
    night, breach = follow_signal(
        track.curfew,
        fix,
        household.home,
        household.curfew_at(fix.at),
        confirm_fixes=thresholds.curfew_confirm_fixes,
        radius_m=household.radius_m,
        ceiling_m=ceiling_m,
        zone=household.zone,
    )
    if night.away_count:
        marks.append(CURFEW)
    return night, breach


def _confirmed_exit(track: Track, evidence: dict, step: dict, thresholds: Thresholds) -> Finding:
    farthest = max(track.outside_run, key=lambda s: s["distance_outside_m"])
    return Finding(
        "geofence_exit",
        {
            **{k: step[k] for k in POSITION_KEYS if k in step},
            "nearest_zone": evidence["nearest_zone"],
            "distance_outside_m": evidence["distance_outside_m"],
            "margin_m": evidence["margin_m"],
            "allowed_zones": evidence["allowed_zones"],
            "source": "signals",
            "confirmed_by_fixes": track.outside_count,
            "confirm_threshold": thresholds.exit_confirm_fixes,
            "first_outside_at": track.outside_run[0]["recorded_at"],
            "farthest_outside_m": farthest["distance_outside_m"],
            "fixes": list(track.outside_run),
        },
    )


def _repeats(track: Track, point: Point, thresholds: Thresholds, ceiling_m: float, marks):
    """Exactly the same coordinates again: a receiver at rest still jitters in the last
    decimals; a replayed or typed-in position does not. The run's new fields, the finding."""
    last = track.last
    if last is None or (point.lat, point.lon) != (last.lat, last.lon):
        return {"repeat_count": 1, "repeat_since": point.at, "repeat_raised": False}, None
    count = track.repeat_count + 1
    since = track.repeat_since or last.at
    run = {"repeat_count": count, "repeat_since": since}
    minutes = (point.at - since).total_seconds() / 60
    if count < thresholds.repeat_fixes or minutes < thresholds.repeat_minutes:
        return run, None
    marks.append(REPEATED)
    if track.repeat_raised:
        return run, None
    finding = Finding(
        "mock_location",
        {
            **fix_evidence(point.fix(ceiling_m), ceiling_m),
            "reason": "repeated_coordinates",
            "repeated_fixes": count,
            "repeated_since": fix_evidence(Fix(point.lat, point.lon, 0, since))["recorded_at"],
            "repeated_minutes": round(minutes, 1),
            "threshold_fixes": thresholds.repeat_fixes,
            "threshold_minutes": thresholds.repeat_minutes,
        },
    )
    return {**run, "repeat_raised": True}, finding
