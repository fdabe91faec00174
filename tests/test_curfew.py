"""Curfews: the plan's hours at home, judged at once from check-ins and, under a monitoring
order, from background signals (N fixes in a row away from home; one alert a night)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from corrections import clock
from corrections.alerts.models import Alert
from corrections.checkin.curfew import (
    Curfew,
    CurfewTrack,
    CurfewVersion,
    away_from_home,
    curfew_at,
    follow_signal,
    judge_checkin,
)
from corrections.extensions import db
from corrections.signals.models import Signal
from corrections.zones.rules import Fix
from tests.factories import SEAT, phone_login
from tests.test_mobile import away, check_in
from tests.test_signals import track_subject

ZONE = ZoneInfo("Asia/Shanghai")
NIGHT = Curfew(22 * 60, 6 * 60)
HOME = SEAT
RADIUS = 200.0
CEILING = 2000.0


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(dt.UTC)


# --- the pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "night"),
    [
        ("2026-11-27 21:59", None),
        ("2026-11-27 22:00", "2026-11-27"),
        ("2026-11-27 23:59", "2026-11-27"),
        ("2026-11-28 00:00", "2026-11-27"),  # after midnight counts with the evening before
        ("2026-11-28 05:59", "2026-11-27"),
        ("2026-11-28 06:00", None),
    ],
)
def test_the_night_a_moment_belongs_to(when, night):
    found = NIGHT.night_of(local(when), ZONE)
    assert (found.isoformat() if found else None) == night


instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),
    max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
)
minutes = st.integers(0, 24 * 60 - 1)


@settings(max_examples=300, deadline=None)
@given(instants, minutes, minutes)
def test_a_moment_is_in_its_nights_hours_exactly_when_it_has_a_night(at, start, end):
    if start == end:
        with pytest.raises(ValueError):
            Curfew(start, end)
        return
    curfew = Curfew(start, end)
    night = curfew.night_of(at, ZONE)
    candidates = [at.astimezone(ZONE).date() + dt.timedelta(days=d) for d in (-1, 0)]
    inside = [n for n in candidates if curfew.bounds(n, ZONE)[0] <= at < curfew.bounds(n, ZONE)[1]]
    assert inside == ([night] if night else [])


distances = st.floats(0, 5000)
accuracies = st.floats(1, 5000)


@settings(max_examples=200, deadline=None)
@given(distances, accuracies, accuracies)
def test_a_poorer_fix_is_never_more_away_from_home(metres, better, worse):
    better, worse = sorted((better, worse))
    where = away(metres, 90, HOME)
    at = local("2026-11-27 23:00")
    good = away_from_home(Fix(*where, better, at), HOME, RADIUS, CEILING)
    poor = away_from_home(Fix(*where, worse, at), HOME, RADIUS, CEILING)
    assert not (poor and not good)
    if good:
        # Away means the whole circle (accuracy capped at the ceiling) is beyond the radius.
        assert good["distance_from_home_m"] - min(better, CEILING) > RADIUS


def test_a_claimed_accuracy_above_the_ceiling_counts_as_the_ceiling():
    where = away(2300, 0, HOME)
    found = away_from_home(Fix(*where, 50_000, local("2026-11-27 23:00")), HOME, RADIUS, CEILING)
    assert found is not None and found["accuracy_counted_m"] == CEILING


def test_the_curfew_of_the_version_in_force():
    changed = local("2026-11-30 00:00")
    versions = [
        CurfewVersion(NIGHT, local("2026-11-01 09:00"), changed),
        CurfewVersion(None, changed, None),
    ]
    assert curfew_at(versions, local("2026-11-29 23:00")) == NIGHT
    assert curfew_at(versions, local("2026-11-30 23:00")) is None
    assert curfew_at(versions, local("2026-10-31 23:00")) is None  # before any plan


def test_a_check_in_at_night_is_judged_alone_at_once():
    far = Fix(*away(1000, 0, HOME), 30, local("2026-11-28 01:30"))
    found = judge_checkin(far, HOME, NIGHT, radius_m=RADIUS, ceiling_m=CEILING, zone=ZONE)
    assert found.kind == "curfew"
    assert found.evidence["night"] == "2026-11-27" and found.evidence["curfew"] == "22:00–06:00"
    assert 990 < found.evidence["distance_from_home_m"] < 1010
    by_day = Fix(far.lat, far.lon, 30, local("2026-11-28 10:00"))
    assert judge_checkin(by_day, HOME, NIGHT, radius_m=RADIUS, ceiling_m=CEILING, zone=ZONE) is None
    assert judge_checkin(far, None, NIGHT, radius_m=RADIUS, ceiling_m=CEILING, zone=ZONE) is None
    assert judge_checkin(far, HOME, None, radius_m=RADIUS, ceiling_m=CEILING, zone=ZONE) is None


#: A night's fixes: (away from home?, minutes after 21:00 local on 2026-11-27), every 10 minutes.
nights = st.lists(st.booleans(), min_size=1, max_size=80)


def _follow(pattern, confirm=3):
    track, findings = CurfewTrack(), []
    start = local("2026-11-27 21:00")
    for i, is_away in enumerate(pattern):
        where = away(1500 if is_away else 20, 0, HOME)
        fix = Fix(*where, 20, start + dt.timedelta(minutes=10 * i))
        track, found = follow_signal(
            track,
            fix,
            HOME,
            NIGHT,
            confirm_fixes=confirm,
            radius_m=RADIUS,
            ceiling_m=CEILING,
            zone=ZONE,
        )
        if found:
            findings.append((i, found))
    return findings


@settings(max_examples=200, deadline=None)
@given(nights)
def test_signals_raise_one_breach_a_night_after_enough_fixes_away_in_a_row(pattern):
    start = local("2026-11-27 21:00")
    in_hours = [
        NIGHT.night_of(start + dt.timedelta(minutes=10 * i), ZONE) for i in range(len(pattern))
    ]
    findings = _follow(pattern)
    # The first index at which 3 fixes in a row were away inside the same night's hours.
    expected: dict = {}
    run = 0
    for i, is_away in enumerate(pattern):
        night = in_hours[i]
        run = run + 1 if (is_away and night is not None) else 0
        if run >= 3 and night not in expected:
            expected[night] = i
    assert {f.evidence["night"]: i for i, f in findings} == {
        n.isoformat(): i for n, i in expected.items()
    }
    for _, finding in findings:
        assert finding.evidence["confirmed_by_fixes"] == 3
        assert len(finding.evidence["fixes"]) == 3


# --- check-ins, judged at once --------------------------------------------------------------

CURFEW_PLAN = {
    "every_days": 1,
    "window_start": "08:00",
    "window_end": "20:00",
    "curfew_start": "22:00",
    "curfew_end": "06:00",
}


@pytest.fixture
def night_owl(world, client):
    body = world.subject(checkin=CURFEW_PLAN, enrolled_at="2026-11-25T12:00:00+08:00")
    return {**body, "headers": phone_login(client, body["phone"])}


def _alerts(app, subject_id, kind="curfew"):
    with app.app_context():
        found = db.session.scalars(
            select(Alert).where(Alert.subject_id == subject_id, Alert.kind == kind)
        ).all()
        db.session.expunge_all()
        return found


def test_a_check_in_away_from_home_in_the_curfew_hours_opens_the_alert_at_once(
    app, client, night_owl
):
    answer = check_in(
        client,
        night_owl["headers"],
        where=away(1200, 45),
        recorded_at="2026-11-28T01:30:00+08:00",
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["flags"] == ["curfew"]
    [alert] = _alerts(app, night_owl["id"])
    assert alert.evidence["night"] == "2026-11-27"
    assert alert.evidence["source"] == "checkin"
    assert alert.evidence["home_radius_m"] == 200


def test_a_check_in_at_home_at_night_or_away_by_day_is_no_breach(app, client, night_owl):
    # 300 m out but accurate only to 150 m: the circle reaches the home radius.
    near = check_in(
        client,
        night_owl["headers"],
        where=away(300, 0),
        accuracy=150,
        client_id="near",
        recorded_at="2026-11-27T23:00:00+08:00",
    )
    by_day = check_in(
        client,
        night_owl["headers"],
        where=away(3000, 0),
        client_id="day",
        recorded_at="2026-11-28T09:00:00+08:00",
    )
    assert near.get_json()["flags"] == [] and by_day.get_json()["flags"] == []
    assert _alerts(app, night_owl["id"]) == []


def test_no_curfew_in_the_plan_no_breach(app, client, world):
    body = world.subject()
    answer = check_in(
        client,
        phone_login(client, body["phone"]),
        where=away(3000, 0),
        recorded_at="2026-11-28T01:00:00+08:00",
    )
    assert answer.get_json()["flags"] == []


def test_the_subject_page_and_the_api_show_the_curfew(client, night_owl, world):
    from tests.factories import bearer

    shown = client.get(f"/api/v1/subjects/{night_owl['id']}", headers=bearer(client, "admin"))
    checkin = shown.get_json()["checkin"]
    assert (checkin["curfew_start"], checkin["curfew_end"]) == ("22:00", "06:00")


# --- background signals ---------------------------------------------------------------------


def _points(start: str, count: int, metres: float, prefix: str) -> list[dict]:
    first = dt.datetime.fromisoformat(start)
    return [
        {
            "client_id": f"{prefix}-{i}",
            "lat": away(metres, 0)[0],
            "lon": away(metres, 0)[1],
            "accuracy_m": 20.0,
            "recorded_at": (first + dt.timedelta(minutes=10 * i)).isoformat(),
        }
        for i in range(count)
    ]


def test_signals_away_at_night_raise_one_breach_a_night(app, client, world):
    tracked = track_subject(
        world, client, checkin=CURFEW_PLAN, enrolled_at="2026-11-25T12:00:00+08:00"
    )
    send = lambda points: client.post(  # noqa: E731
        "/mobile/v1/signals", json=points, headers=tracked["phone"]
    )
    # Two fixes away, one at home, two away: no run of three.
    broken = _points("2026-11-26T22:30:00+08:00", 2, 1500, "a")
    broken += _points("2026-11-26T22:50:00+08:00", 1, 10, "b")
    broken += _points("2026-11-26T23:00:00+08:00", 2, 1500, "c")
    assert send(broken).status_code == 200
    assert _alerts(app, tracked["id"]) == []
    # The next night: five in a row away from 23:00, then later that night three more.
    assert send(_points("2026-11-27T23:00:00+08:00", 5, 1500, "d")).status_code == 200
    assert send(_points("2026-11-28T02:00:00+08:00", 3, 1500, "e")).status_code == 200
    [alert] = _alerts(app, tracked["id"])
    assert alert.occurrences == 1  # one night, one breach
    assert alert.evidence["night"] == "2026-11-27"
    assert alert.evidence["confirmed_by_fixes"] == 3
    assert alert.evidence["first_away_at"] == "2026-11-27T15:00:00Z"
    with app.app_context():
        flagged = [
            s.client_id
            for s in db.session.scalars(select(Signal).where(Signal.subject_id == tracked["id"]))
            if "curfew" in (s.flags or [])
        ]
    # Every fix away in the hours is marked, counted or not; the one at home is not.
    assert "b-0" not in flagged and {"a-0", "a-1", "c-0", "d-4", "e-2"} <= set(flagged)
    # The next night raises again on the same open alert.
    now = clock.now()
    clock.set_now(local("2026-11-29 08:00"))
    try:
        assert send(_points("2026-11-28T22:10:00+08:00", 3, 1500, "f")).status_code == 200
    finally:
        clock.set_now(now)
    [alert] = _alerts(app, tracked["id"])
    assert alert.occurrences == 2
    assert alert.evidence["night"] == "2026-11-28"


# --- the enrolment form ---------------------------------------------------------------------


def test_the_form_sets_a_curfew_and_the_subject_page_shows_it(app, client, world):
    from tests.test_pages import enrol_fields, login, post_form

    world.officer("li", office_code="T01")
    login(client, "li")
    response = post_form(
        client,
        "/subjects/new",
        "/subjects/new",
        **enrol_fields(curfew_start="22点00", curfew_end="6:00"),
    )
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"]).text
    assert "22:00至06:00须在家" in page


def test_the_form_names_a_curfew_with_one_end_beside_the_empty_box(client, world):
    from tests.test_pages import enrol_fields, login, post_form

    world.officer("li", office_code="T01")
    login(client, "li")
    response = post_form(
        client, "/subjects/new", "/subjects/new", **enrol_fields(curfew_start="22:00")
    )
    assert response.status_code == 422
    assert 'id="curfew_end-error"' in response.text
    assert "填了居家开始时间，也须填结束时间" in response.text
