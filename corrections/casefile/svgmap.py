"""A small server-drawn map of one subject: zones, home and recent check-ins, as inline SVG.

No tiles and nothing from the internet: the page's CSP forbids it and the offices' networks are
slow. A local equirectangular projection around the home point is exact enough for a county-sized
picture; distances on the scale bar are true within a fraction of a percent at that size. Colours
and line styles come from classes styled in static/app.css (no inline styles under the CSP);
every mark also differs in shape, so nothing is told by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from corrections.i18n import N_, translate

#: Metres per degree of latitude on the mean Earth sphere (R = 6,371,008.8 m).
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180
WIDTH, HEIGHT, MARGIN = 800, 520, 40
#: The smallest area the map shows, so a lone point does not fill the picture.
MIN_SPAN_M = 600.0


@dataclass(frozen=True)
class MapZone:
    """A zone to draw: a circle (lat, lon, radius_m) or a polygon of (lat, lon) corners."""

    kind: str
    name: str
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    polygon: Sequence[Sequence[float]] | None = None


@dataclass(frozen=True)
class MapPoint:
    """A check-in position; `status` is "accepted" or "flagged"; `label` is its hover text."""

    lat: float
    lon: float
    status: str
    label: str = ""


@dataclass(frozen=True)
class MapLabels:
    """The words drawn on the map, already in the reader's language."""

    title: str = "Map of zones, home and recent check-ins"
    home: str = "Home"
    latest: str = "Latest"
    north: str = "N"


class _Projection:
    """Local equirectangular metres around an origin, then fitted into the picture."""

    def __init__(self, lat0: float, lon0: float):
        self.lat0, self.lon0 = lat0, lon0
        self.kx = METRES_PER_DEGREE * math.cos(math.radians(lat0))
        self.scale, self.cx, self.cy = 1.0, 0.0, 0.0

    def metres(self, lat: float, lon: float) -> tuple[float, float]:
        # The short way round: 179.99 and -179.99 are 0.02 degrees apart, not 359.98.
        east = (lon - self.lon0 + 180.0) % 360.0 - 180.0
        return east * self.kx, (lat - self.lat0) * METRES_PER_DEGREE

    def fit(self, xs: list[float], ys: list[float]) -> None:
        left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
        span_x, span_y = max(right - left, MIN_SPAN_M), max(top - bottom, MIN_SPAN_M)
        self.scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
        self.cx, self.cy = (left + right) / 2, (bottom + top) / 2

    def pixel(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.metres(lat, lon)
        return (
            WIDTH / 2 + (x - self.cx) * self.scale,
            HEIGHT / 2 - (y - self.cy) * self.scale,  # north is up
        )


def render(
    home: tuple[float, float] | None,
    zones: Iterable[MapZone],
    points: Sequence[MapPoint],
    labels: MapLabels | None = None,
) -> Markup | None:
    """The map as an <svg> element, or None when there is nothing with a position to draw.
    `points` come newest first; the newest is ringed and labelled."""
    labels = labels or MapLabels()
    zones = [z for z in zones if _zone_has_shape(z)]
    origin = home or _first_position(zones, points)
    if origin is None:
        return None
    proj = _Projection(*origin)
    xs, ys = _extent(proj, home, zones, points)
    proj.fit(xs, ys)

    parts = [
        f'<svg class="map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="map-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="map-title">{escape(labels.title)}</title>',
        f'<rect class="map-bg" x="0" y="0" width="{WIDTH}" height="{HEIGHT}"/>',
    ]
    for zone in sorted(zones, key=lambda z: z.kind != "allowed"):  # exclusions drawn on top
        parts.append(_zone(proj, zone))
    for zone in zones:
        parts.append(_zone_label(proj, zone))
    if home is not None:
        parts.append(_home(proj, home, labels.home))
    for index, point in reversed(list(enumerate(points))):  # newest drawn last, on top
        parts.append(_point(proj, point, newest=index == 0, latest_label=labels.latest))
    parts.append(_scale_bar(proj.scale))
    parts.append(_north(labels.north))
    parts.append("</svg>")
    return Markup("".join(parts))


def nice_length(max_metres: float) -> float:
    """The longest 1, 2 or 5 × 10^n metres not above `max_metres` (a round scale-bar length)."""
    if max_metres <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(max_metres))
    for step in (5, 2, 1):
        if step * power <= max_metres:
            return float(step * power)
    return float(power)


def distance_text(metres: float) -> str:
    """A scale bar's round length in the reader's units: 500 米, 2 公里, 1.5 公里."""
    if metres >= 1000:
        return translate(N_("%(km)s km"), km=f"{metres / 1000:g}")
    return translate(N_("%(m)s m"), m=f"{metres:g}")


def _zone_has_shape(zone: MapZone) -> bool:
    if zone.polygon:
        return len(zone.polygon) >= 3
    return zone.lat is not None and zone.lon is not None and (zone.radius_m or 0) > 0


def _first_position(zones, points) -> tuple[float, float] | None:
    for zone in zones:
        if zone.lat is not None and zone.lon is not None:
            return zone.lat, zone.lon
        if zone.polygon:
            return tuple(zone.polygon[0])
    if points:
        return points[0].lat, points[0].lon
    return None


def _extent(proj, home, zones, points) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []

    def add(x, y):
        xs.append(x)
        ys.append(y)

    if home is not None:
        add(*proj.metres(*home))
    for zone in zones:
        if zone.polygon:
            for lat, lon in zone.polygon:
                add(*proj.metres(lat, lon))
        else:
            x, y = proj.metres(zone.lat, zone.lon)
            add(x - zone.radius_m, y - zone.radius_m)
            add(x + zone.radius_m, y + zone.radius_m)
    for point in points:
        add(*proj.metres(point.lat, point.lon))
    return xs, ys


def _zone(proj, zone: MapZone) -> str:
    css = f"zone zone-{'exclusion' if zone.kind == 'exclusion' else 'allowed'}"
    title = f"<title>{escape(zone.name)}</title>"
    if zone.polygon:
        corners = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (proj.pixel(a, b) for a, b in zone.polygon)
        )
        return f'<polygon class="{css}" points="{corners}">{title}</polygon>'
    x, y = proj.pixel(zone.lat, zone.lon)
    radius = max(zone.radius_m * proj.scale, 2.0)
    return f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}">{title}</circle>'


def _zone_label(proj, zone: MapZone) -> str:
    if zone.polygon:
        pixels = [proj.pixel(a, b) for a, b in zone.polygon]
        x = sum(p[0] for p in pixels) / len(pixels)
        top = min(p[1] for p in pixels)
        height = max(p[1] for p in pixels) - top
    else:
        x, cy = proj.pixel(zone.lat, zone.lon)
        height = 2 * zone.radius_m * proj.scale
        top = cy - height / 2
    # Inside along the top edge when the shape is big enough to hold it, else just above.
    y = top + 22 if height > 60 else top - 8
    x, y = _clamp(x, y)
    css = f"zone-label zone-label-{'exclusion' if zone.kind == 'exclusion' else 'allowed'}"
    return (
        f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">'
        f"{escape(zone.name)}</text>"
    )


def _home(proj, home, label: str) -> str:
    x, y = proj.pixel(*home)
    corners = ((x - 9, y + 8), (x + 9, y + 8), (x + 9, y - 3), (x, y - 12), (x - 9, y - 3))
    house = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in corners)
    return (
        f'<g class="home"><polygon points="{house}"><title>{escape(label)}</title></polygon>'
        f'<text x="{x + 14:.1f}" y="{y + 6:.1f}">{escape(label)}</text></g>'
    )


def _point(proj, point: MapPoint, *, newest: bool, latest_label: str) -> str:
    x, y = proj.pixel(point.lat, point.lon)
    title = f"<title>{escape(point.label)}</title>" if point.label else ""
    if point.status == "flagged":
        # A diamond, so a flagged check-in differs in shape as well as in colour.
        shape = (
            f'<polygon class="pt pt-flagged" points="{x:.1f},{y - 9:.1f} {x + 9:.1f},{y:.1f} '
            f'{x:.1f},{y + 9:.1f} {x - 9:.1f},{y:.1f}">{title}</polygon>'
        )
    else:
        shape = f'<circle class="pt pt-accepted" cx="{x:.1f}" cy="{y:.1f}" r="7">{title}</circle>'
    if not newest:
        return shape
    tx, ty = _clamp(x + 16, y - 12)
    return (
        f'<circle class="pt-latest" cx="{x:.1f}" cy="{y:.1f}" r="14"/>{shape}'
        f'<text class="pt-latest-label" x="{tx:.1f}" y="{ty:.1f}">{escape(latest_label)}</text>'
    )


def _scale_bar(pixels_per_metre: float) -> str:
    metres = nice_length((WIDTH / 4) / pixels_per_metre)
    length = metres * pixels_per_metre
    x0, y0 = 24.0, HEIGHT - 24.0
    return (
        f'<g class="scale"><rect class="scale-bg" x="{x0 - 10:.1f}" y="{y0 - 34:.1f}" '
        f'width="{length + 20:.1f}" height="46"/>'
        f'<path d="M{x0:.1f},{y0 - 8:.1f} V{y0:.1f} H{x0 + length:.1f} V{y0 - 8:.1f}"/>'
        f'<text x="{x0:.1f}" y="{y0 - 14:.1f}">{distance_text(metres)}</text></g>'
    )


def _north(label: str) -> str:
    x, y = WIDTH - 30.0, 30.0
    return (
        f'<g class="north"><path d="M{x:.1f},{y - 16:.1f} L{x + 8:.1f},{y + 6:.1f} '
        f'L{x:.1f},{y:.1f} L{x - 8:.1f},{y + 6:.1f} Z"/>'
        f'<text x="{x:.1f}" y="{y + 26:.1f}" text-anchor="middle">{escape(label)}</text></g>'
    )


def _clamp(x: float, y: float) -> tuple[float, float]:
    return min(max(x, 40.0), WIDTH - 40.0), min(max(y, 20.0), HEIGHT - 10.0)
