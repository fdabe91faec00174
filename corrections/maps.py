"""The one map component: what a page hands to `static/map.js`, and the tile service settings.

A page builds a `MapData` (zones, home, check-ins, offices), already in the reader's language,
and renders it with the `map_view` macro (`templates/_map.html`); map.js draws it with the
vendored Leaflet. Every text a mark shows is written here on the server, so the script holds no
words of its own and the data is read as text, never as markup.

Coordinates are WGS-84 throughout. With no tile service configured the map draws on a plain
background, labelled with office and zone names; `MAP_TILE_URL` points it at an intranet tile
service (docs/maps.md), and the page's CSP admits that service's hosts for images only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from babel.dates import format_date, format_skeleton
from flask import current_app
from flask_babel import get_locale, gettext, ngettext

from corrections import clock

#: Point statuses as check-ins carry them; anything else is drawn as accepted.
FLAGGED = "flagged"


def tile_settings(config) -> dict | None:
    """The configured tile layers for map.js, or None for the plain background."""
    url = config.get("MAP_TILE_URL") or ""
    if not url:
        return None
    return {
        "url": url,
        "labels_url": config.get("MAP_LABEL_TILE_URL") or "",
        "attribution": config.get("MAP_TILE_ATTRIBUTION") or "",
        "subdomains": config.get("MAP_TILE_SUBDOMAINS") or "abc",
        "max_zoom": int(config.get("MAP_TILE_MAX_ZOOM") or 18),
    }


def tile_hosts(config) -> list[str]:
    """The origins the tile layers load from, for the CSP's img-src ({s} spelled out)."""
    tiles = tile_settings(config)
    if tiles is None:
        return []
    hosts: list[str] = []
    for url in (tiles["url"], tiles["labels_url"]):
        if not url:
            continue
        parts = urlsplit(url.split("?", 1)[0])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        names = [parts.netloc]
        if "{s}" in parts.netloc:
            names = [parts.netloc.replace("{s}", s) for s in tiles["subdomains"]]
        for name in names:
            origin = f"{parts.scheme}://{name}"
            if origin not in hosts:
                hosts.append(origin)
    return hosts


def day_label(day: dt.date) -> str:
    """A day as the picker names it: 12月3日（周四）, Dec 3 (Thu)."""
    locale = get_locale()
    return gettext(
        "%(date)s (%(weekday)s)",
        date=format_skeleton("MMMd", day, locale=locale),
        weekday=format_date(day, "EEE", locale=locale),
    )


@dataclass
class MapData:
    """Everything one map shows. Longitudes are kept within half a turn of the first one
    added, so a county astride the antimeridian is drawn whole rather than split in two."""

    zones: list[dict] = field(default_factory=list)
    points: list[dict] = field(default_factory=list)
    offices: list[dict] = field(default_factory=list)
    home: dict | None = None
    #: Join the points in time order with a line (a subject's movements over some days).
    track: bool = False
    #: The local days (YYYY-MM-DD, oldest first) the track spans: the day picker offers each.
    days: list[str] = field(default_factory=list)
    #: The day the map shows first (an alert's day); None shows them all.
    day: str | None = None
    #: A sentence under the day picker about what the map leaves out (a week cut short).
    note: str | None = None
    #: When a cap cut the week short: the moment from which every position is drawn (the day
    #: picker says which days are incomplete).
    whole_from: dt.datetime | None = None
    _lon0: float | None = None

    def _lon(self, lon: float) -> float:
        if self._lon0 is None:
            self._lon0 = lon
        return self._lon0 + (lon - self._lon0 + 180.0) % 360.0 - 180.0

    def add_home(self, lat: float | None, lon: float | None, title: str) -> None:
        """The subject's home; nothing when it has no position."""
        if lat is not None and lon is not None:
            self.home = {"lat": lat, "lon": self._lon(lon), "title": title}

    def add_zone(
        self,
        *,
        kind: str,
        name: str,
        lat: float | None = None,
        lon: float | None = None,
        radius_m: float | None = None,
        polygon: Sequence[Sequence[float]] | None = None,
        broken: bool = False,
    ) -> None:
        """An allowed or exclusion zone: a circle or a polygon of (lat, lon) corners; `broken`
        marks the zone an alert is about."""
        zone: dict = {"kind": kind, "name": name, "broken": broken}
        if polygon:
            zone["polygon"] = [[c[0], self._lon(c[1])] for c in polygon]
        elif lat is not None and lon is not None and radius_m:
            zone.update(lat=lat, lon=self._lon(lon), radius_m=radius_m)
        else:
            return
        self.zones.append(zone)

    def add_point(
        self,
        lat: float | None,
        lon: float | None,
        *,
        status: str,
        lines: Iterable[str],
        accuracy_m: float | None = None,
        focus: bool = False,
        day: str | None = None,
        source: str | None = None,
        alert: bool = False,
    ) -> None:
        """A position (a check-in, a background signal or an alert's fix); `lines` are what a
        tap on it shows, `focus` marks the one the page is about (drawn above everything else),
        `alert` the other positions of the alert (emphasised), `day` (a local date,
        YYYY-MM-DD) lets the day picker show one day of a track, `source` is "checkin" or
        "signal"."""
        if lat is None or lon is None:
            return
        self.points.append(
            {
                "lat": lat,
                "lon": self._lon(lon),
                "status": FLAGGED if status == FLAGGED else "accepted",
                "accuracy_m": accuracy_m,
                "focus": focus,
                "alert": alert or focus,
                "lines": [line for line in lines if line],
                "day": day,
                "source": source,
            }
        )

    def add_office(
        self,
        name: str,
        lat: float,
        lon: float,
        *,
        lines: Iterable[str] = (),
        code: str | None = None,
        zone: dict | None = None,
    ) -> None:
        """A judicial office, labelled with its name; `code` and its standard `zone` serve the
        enrolment form (the office chosen, its area offered in one click)."""
        office = {"name": name, "lat": lat, "lon": self._lon(lon), "lines": [x for x in lines if x]}
        if code is not None:
            office["code"] = code
        if zone:
            office["zone"] = zone
        self.offices.append(office)

    def day_choices(self) -> list[dict]:
        """The day picker's buttons: all days first, then each day of the track oldest first
        ("12月3日（周四）"), each with what it shows in words (for the status line and screen
        readers). Empty when the map has no track of dated points."""
        if not self.track or not any(p.get("day") for p in self.points):
            return []
        days = sorted(set(self.days) | {p["day"] for p in self.points if p.get("day")})
        cut = self.whole_from.astimezone(clock.local_zone()) if self.whole_from else None
        every = self._summary(
            gettext("%(num)s days", num=len(days)), [p for p in self.points if p.get("day")]
        )
        if cut is not None:
            every = gettext(
                "%(summary)s; all drawn from %(time)s on",
                summary=every,
                time=cut.strftime("%Y-%m-%d %H:%M"),
            )
        choices = [{"value": "", "label": gettext("All days"), "summary": every}]
        for value in days:
            shown = day_label(dt.date.fromisoformat(value))
            summary = self._summary(shown, [p for p in self.points if p.get("day") == value])
            if cut is not None and value < cut.date().isoformat():
                summary = gettext("%(summary)s; not all drawn", summary=summary)
            elif cut is not None and value == cut.date().isoformat():
                summary = gettext(
                    "%(summary)s; all drawn from %(time)s on",
                    summary=summary,
                    time=cut.strftime("%H:%M"),
                )
            choices.append({"value": value, "label": shown, "summary": summary})
        return choices

    @staticmethod
    def _summary(when: str, points: list[dict]) -> str:
        if not points:
            return gettext("%(when)s: no positions", when=when)
        flagged = sum(1 for p in points if p["status"] == FLAGGED)
        return ngettext(
            "%(when)s: %(num)s position, %(flagged)s flagged",
            "%(when)s: %(num)s positions, %(flagged)s flagged",
            len(points),
            when=when,
            flagged=flagged,
        )

    def is_empty(self) -> bool:
        """True when there is nothing to draw."""
        return not (self.zones or self.points or self.offices or self.home)

    def as_dict(self) -> dict:
        """The JSON map.js reads."""
        return {
            "zones": self.zones,
            "points": self.points,
            "offices": self.offices,
            "home": self.home,
            "track": self.track,
            "days": self.days,
            "day": self.day,
            "tiles": tile_settings(current_app.config),
            # The scale bar's units, as the distances elsewhere are written (米, 公里).
            "units": {"m": gettext("%(m)s m"), "km": gettext("%(km)s km")},
        }
