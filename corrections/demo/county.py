"""The demo county as a plan: who the people are and when each of them checks in. Pure: no
database, no clock, no Flask. A seeded random generator makes the same plan for the same day.

Behaviours give the history its texture:
- `steady`: checks in inside every window, near home;
- `forgetful`: misses one or two windows;
- `absent`: stops checking in two days before today (a missed_checkin that stays open);
- `wanderer`: checks in once far outside the allowed zone (geofence_exit);
- `trespasser`: checks in once inside an exclusion zone (exclusion_zone);
- `night_owl`: under a curfew (as every strict subject), also checks in once late at night
  from the township's centre, away from home (curfew).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from corrections.checkin.windows import WindowShape, day_number
from corrections.demo import data

WINDOW_START, WINDOW_END = "08:00", "20:00"
#: Strict (严管) subjects must be at home at night.
CURFEW_START, CURFEW_END = "22:00", "06:00"
#: The first subjects are fixed so the README's tour finds the same things on every load:
#: #1 is a steady subject whose phone the tour logs in with, #2 strays outside the zone
#: yesterday, #3 has stopped checking in, #4 walks into an exclusion zone early on, #5 is out
#: at night under a curfew the day before yesterday.
FIXED = {
    1: {"office": 0, "behaviour": "steady", "category": "probation", "level": "normal"},
    2: {"office": 0, "behaviour": "wanderer", "category": "parole", "level": "strict"},
    3: {"office": 0, "behaviour": "absent", "category": "probation", "level": "normal"},
    4: {"office": 1, "behaviour": "trespasser", "category": "control", "level": "normal"},
    5: {"office": 1, "behaviour": "night_owl", "category": "parole", "level": "strict"},
}
CATEGORY_WEIGHTS = {"probation": 70, "parole": 10, "control": 8, "medical_parole": 12}
LEVEL_WEIGHTS = {"normal": 60, "lenient": 25, "strict": 15}


@dataclass(frozen=True)
class PlannedCheckin:
    """One location check-in the demo subject's phone will send."""

    client_id: str
    lat: float
    lon: float
    accuracy_m: float
    recorded_at: dt.datetime
    #: When the server receives it (the clock is moved here to record it).
    received_at: dt.datetime
    battery_pct: int


@dataclass
class DemoSubject:
    """A synthetic person: the enrolment body (a SubjectIn) and their check-in behaviour."""

    number: int
    body: dict
    behaviour: str
    checkins: list[PlannedCheckin] = field(default_factory=list)

    @property
    def phone(self) -> str:
        return self.body["phone"]


@dataclass
class DemoCounty:
    """Everything the loader writes, decided in advance."""

    today: dt.date
    #: The day the county went live: windows before it predate the system.
    first_day: dt.date
    subjects: list[DemoSubject]


def phone_for(number: int, office_index: int) -> str:
    """Obviously fake mobile numbers: +86 13x 0000 nnnn."""
    return f"+8613{office_index % 10}0000{number:04d}"


def build_county(
    *, seed: int, n_subjects: int, today: dt.date, days: int, now: dt.datetime, zone: ZoneInfo
) -> DemoCounty:
    """Plan `n_subjects` people and `days` days of check-ins up to `now` (local day `today`)."""
    rng = random.Random(seed)
    first_day = today - dt.timedelta(days=days)
    periods = _periods(rng, n_subjects, today, first_day)
    names: set[str] = set()
    subjects = []
    for number in range(1, n_subjects + 1):
        fixed = FIXED.get(number, {})
        office_index = fixed.get("office", (number - len(FIXED) - 1) % len(data.OFFICES))
        name = _unique_name(rng, names)
        start, end = periods[number]
        subject = _subject(rng, number, name, office_index, start, end, fixed)
        subject.checkins = _checkins(rng, subject, first_day, today, now, zone)
        subjects.append(subject)
    return DemoCounty(today=today, first_day=first_day, subjects=subjects)


def _periods(rng, n: int, today: dt.date, first_day: dt.date) -> dict[int, tuple]:
    """Supervision periods: most running for months, some ending soon, a few recent, pending or
    already ended. The fixed subjects run through the whole history."""
    free = [number for number in range(1, n + 1) if number not in FIXED]
    rng.shuffle(free)
    share = {"pending": 0.03, "ended": 0.03, "recent": 0.04, "ending": 0.08}
    kinds = {}
    for kind, fraction in share.items():
        for _ in range(max(1, round(n * fraction)) if len(free) > 8 else 0):
            kinds[free.pop()] = kind
    days = dt.timedelta
    periods = {}
    for number in range(1, n + 1):
        kind = kinds.get(number, "running")
        if kind == "pending":
            start = today + days(rng.randint(3, 20))
            end = start + days(rng.randint(180, 720))
        elif kind == "ended":
            end = first_day - days(rng.randint(5, 60))
            start = end - days(rng.randint(180, 540))
        elif kind == "recent":
            start = first_day + days(rng.randint(1, max(1, (today - first_day).days - 1)))
            end = start + days(rng.randint(180, 720))
        elif kind == "ending":
            start = today - days(rng.randint(180, 700))
            end = today + days(rng.randint(1, 30))
        else:
            start = today - days(rng.randint(30, 540))
            end = today + days(rng.randint(60, 900))
        periods[number] = (start, end)
    return periods


def _unique_name(rng, taken: set[str]) -> str:
    while True:
        surname = (
            rng.choice(data.COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(data.SURNAMES)
        )
        given = "".join(rng.choice(data.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
        name = surname + given
        if name not in taken:
            taken.add(name)
            return name


def _weighted(rng, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _subject(rng, number, name, office_index, start, end, fixed) -> DemoSubject:
    code, office_name, office_lat, office_lon = data.OFFICES[office_index]
    township = office_name.removesuffix("司法所")
    category = fixed.get("category") or _weighted(rng, CATEGORY_WEIGHTS)
    level = fixed.get("level") or _weighted(rng, LEVEL_WEIGHTS)
    every_days = 1 if level != "lenient" or fixed else rng.choice((1, 3, 3, 7))
    home = offset(office_lat, office_lon, rng.uniform(300, 2000), rng.uniform(0, 360))

    if code == data.SEAT_OFFICE:
        zones = [
            {
                "kind": "allowed",
                "name": f"{township}城区",
                "polygon": _town_polygon(office_lat, office_lon),
            }
        ]
    else:
        radius = rng.choice((4000, 5000, 6000))
        zones = [
            {
                "kind": "allowed",
                "name": f"{township}辖区",
                "lat": office_lat,
                "lon": office_lon,
                "radius_m": radius,
            }
        ]
        if rng.random() < 0.1:
            seat_lat, seat_lon = data.COUNTY_SEAT
            zones.append(
                {
                    "kind": "allowed",
                    "name": data.COUNTY_SEAT_NAME,
                    "lat": seat_lat,
                    "lon": seat_lon,
                    "radius_m": 3000,
                }
            )
    behaviour = fixed.get("behaviour")
    if behaviour == "trespasser" or (not fixed and rng.random() < 0.15):
        zones.append(_exclusion_zone(rng, office_lat, office_lon, home))
    if behaviour is None:
        behaviour = _behaviour(
            rng, has_exclusion=zones[-1]["kind"] == "exclusion", every_days=every_days
        )

    body = {
        "name": name,
        "phone": phone_for(number, office_index),
        "pin": data.SUBJECT_PIN,
        "office_code": code,
        "category": category,
        "level": level,
        "supervision_start": start.isoformat(),
        "supervision_end": end.isoformat(),
        "home": {"lat": round(home[0], 6), "lon": round(home[1], 6)},
        "zones": zones,
        "checkin": {
            "every_days": every_days,
            "window_start": WINDOW_START,
            "window_end": WINDOW_END,
        },
    }
    if level == "strict":
        body["checkin"] |= {"curfew_start": CURFEW_START, "curfew_end": CURFEW_END}
    if rng.random() < 0.8:
        body["id_number"] = synthetic_id_number(rng, start)
    return DemoSubject(number=number, body=body, behaviour=behaviour)


def _behaviour(rng, *, has_exclusion: bool, every_days: int) -> str:
    roll = rng.random()
    if has_exclusion and roll < 0.3:
        return "trespasser"
    if roll < 0.04:
        return "wanderer"
    if roll < 0.12:
        return "forgetful"
    if roll < 0.14 and every_days == 1:
        return "absent"
    return "steady"


def standard_zone(code: str, name: str, lat: float, lon: float) -> dict:
    """An office's standard zone: the seat's town polygon, elsewhere a 5 km circle round the
    township's office (the offices stand 8-15 km apart)."""
    township = name.removesuffix("司法所")
    if code == data.SEAT_OFFICE:
        return {"name": f"{township}城区", "polygon": _town_polygon(lat, lon)}
    return {"name": f"{township}辖区", "lat": lat, "lon": lon, "radius_m": 5000}


def _town_polygon(lat: float, lon: float) -> list[list[float]]:
    """An irregular hexagon about 5-6 km around the county seat."""
    corners = []
    for bearing, metres in (
        (0, 5600),
        (60, 5200),
        (120, 5800),
        (180, 5400),
        (240, 6000),
        (300, 5500),
    ):
        corner = offset(lat, lon, metres, bearing)
        corners.append([round(corner[0], 6), round(corner[1], 6)])
    return corners


def _exclusion_zone(rng, office_lat, office_lon, home) -> dict:
    """A small circle inside the township, well away from the subject's home."""
    radius = rng.choice((150, 200, 250, 300))
    while True:
        centre = offset(office_lat, office_lon, rng.uniform(900, 1800), rng.uniform(0, 360))
        if distance_m(centre, home) >= 800 + radius:
            break
    return {
        "kind": "exclusion",
        "name": rng.choice(data.EXCLUSION_ZONE_NAMES),
        "lat": round(centre[0], 6),
        "lon": round(centre[1], 6),
        "radius_m": radius,
    }


def synthetic_id_number(rng, start: dt.date) -> str:
    """An 18-character resident ID with a correct check digit but no real region (450000 is the
    province's own code, never a person's county)."""
    born = start - dt.timedelta(days=rng.randint(20 * 365, 65 * 365))
    body = f"450000{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


# --- check-ins ----------------------------------------------------------------------------


def _window_days(subject: DemoSubject, first_day: dt.date, today: dt.date) -> list[dt.date]:
    start = dt.date.fromisoformat(subject.body["supervision_start"])
    end = dt.date.fromisoformat(subject.body["supervision_end"])
    every = subject.body["checkin"]["every_days"]
    day, last = max(first_day, start), min(today, end)
    found = []
    while day <= last:
        if (day_number(day) - day_number(start)) % every == 0:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


def _checkins(rng, subject, first_day, today, now, zone) -> list[PlannedCheckin]:
    days = _window_days(subject, first_day, today)
    behaviour = subject.behaviour
    skipped: set[dt.date] = set()
    stray_day = None
    later = [d for d in days if d < today]
    if behaviour == "forgetful" and later:
        skipped = set(rng.sample(later, k=min(len(later), rng.choice((1, 1, 2)))))
    elif behaviour == "absent":
        skipped = {d for d in days if d >= today - dt.timedelta(days=2)}
    elif behaviour in ("wanderer", "trespasser") and later:
        if subject.number in FIXED:
            # The tour's wanderer strays yesterday (still open); its trespasser early (worked).
            stray_day = later[-1] if behaviour == "wanderer" else later[0]
        else:
            stray_day = rng.choice(later)

    shape = WindowShape(1, 8 * 60, 20 * 60)
    home = subject.body["home"]["lat"], subject.body["home"]["lon"]
    planned = []
    for day in days:
        if day in skipped:
            continue
        opens, _closes = shape.bounds(day_number(day), zone)
        if day == stray_day:
            minutes = rng.uniform(13 * 60, 17 * 60) - 8 * 60  # strays in the afternoon
            where, accuracy = _stray_point(rng, subject, behaviour)
        else:
            early = rng.random() < 0.7
            minutes = rng.uniform(5, 210) if early else rng.uniform(210, 710)
            where = offset(*home, rng.uniform(0, 150), rng.uniform(0, 360))
            accuracy = round(rng.uniform(8, 40), 1)
        recorded = opens + dt.timedelta(minutes=minutes)
        received = recorded + dt.timedelta(seconds=rng.randint(2, 90))
        if received >= now:
            continue  # not yet: today's window may still be open
        planned.append(
            PlannedCheckin(
                client_id=f"demo-{subject.number:03d}-{day.isoformat()}",
                lat=round(where[0], 6),
                lon=round(where[1], 6),
                accuracy_m=accuracy,
                recorded_at=recorded.replace(microsecond=0),
                received_at=received.replace(microsecond=0),
                battery_pct=rng.randint(15, 100),
            )
        )
    if behaviour == "night_owl" and len(later) >= 2:
        planned.append(_night_out(rng, subject, later[-2], zone))
    return planned


def _night_out(rng, subject: DemoSubject, day: dt.date, zone) -> PlannedCheckin:
    """A check-in at about 23:00 from the township's centre, hundreds of metres from home."""
    office = next(o for o in data.OFFICES if o[0] == subject.body["office_code"])
    where = offset(office[2], office[3], rng.uniform(0, 50), rng.uniform(0, 360))
    recorded = dt.datetime.combine(day, dt.time(23), tzinfo=zone) + dt.timedelta(
        minutes=rng.uniform(0, 50)
    )
    return PlannedCheckin(
        client_id=f"demo-{subject.number:03d}-{day.isoformat()}-night",
        lat=round(where[0], 6),
        lon=round(where[1], 6),
        accuracy_m=round(rng.uniform(10, 25), 1),
        recorded_at=recorded.astimezone(dt.UTC).replace(microsecond=0),
        received_at=(recorded + dt.timedelta(seconds=rng.randint(2, 90)))
        .astimezone(dt.UTC)
        .replace(microsecond=0),
        battery_pct=rng.randint(15, 100),
    )


def _stray_point(rng, subject: DemoSubject, behaviour: str) -> tuple[tuple[float, float], float]:
    if behaviour == "trespasser":
        zone = next(z for z in subject.body["zones"] if z["kind"] == "exclusion")
        return offset(zone["lat"], zone["lon"], rng.uniform(0, 40), rng.uniform(0, 360)), 20.0
    office = next(o for o in data.OFFICES if o[0] == subject.body["office_code"])
    while True:
        # Far beyond every allowed zone (the widest reaches 6 km from the office, the seat 3 km).
        point = offset(office[2], office[3], rng.uniform(12_000, 20_000), rng.uniform(0, 360))
        if distance_m(point, data.COUNTY_SEAT) > 9000:
            return point, round(rng.uniform(10, 30), 1)


# --- small geometry -----------------------------------------------------------------------

EARTH_M_PER_DEG = 111_320.0


def offset(lat: float, lon: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point `metres` away on `bearing_deg` (flat-earth; fine over a county)."""
    bearing = math.radians(bearing_deg)
    dlat = metres * math.cos(bearing) / EARTH_M_PER_DEG
    dlon = metres * math.sin(bearing) / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate distance in metres between two nearby points."""
    dlat = (a[0] - b[0]) * EARTH_M_PER_DEG
    dlon = (a[1] - b[1]) * EARTH_M_PER_DEG * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlon)
