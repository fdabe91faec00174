"""The enrolment form, and turning what an officer typed into the API's SubjectIn body.

The form only collects text; SubjectIn (the schema the API validates with) decides what is valid,
so the page and the API accept exactly the same subjects. Before that, the form forgives how
people type: full-width digits and punctuation, 2026/1/5 or 2026年1月5日 for dates, 8:00 for 08:00,
and a zone row without a centre is centred on the home.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput, TimeInput

from corrections import geo_china
from corrections.casefile.schemas import SubjectIn
from corrections.i18n import statutory_term
from corrections.validation import field_errors, typed_number, typed_text

#: Statutory terms: the Chinese name is the legal one and is shown as is; English is a gloss.
CATEGORY_TERMS = {
    "control": ("管制", _l("Control")),
    "probation": ("缓刑", _l("Probation")),
    "parole": ("假释", _l("Parole")),
    "medical_parole": ("暂予监外执行", _l("Temporary service outside prison")),
}
LEVEL_TERMS = {
    "strict": ("严管", _l("Strict supervision")),
    "normal": ("普管", _l("Normal supervision")),
    "lenient": ("宽管", _l("Lenient supervision")),
}
ZONE_ROWS = 3


#: A statutory term in Chinese for Chinese readers, "English (中文)" for the others.
term = statutory_term


class Marked:
    """Marks a field as required on the page; SubjectIn does the checking."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


def _choices(terms: dict) -> list[SelectChoice]:
    return [SelectChoice("", gettext("— choose —"))] + [
        SelectChoice(code, term(terms, code)) for code in terms
    ]


def _zone_kinds() -> list[SelectChoice]:
    return [
        SelectChoice("allowed", _l("Allowed area (must stay inside)")),
        SelectChoice("exclusion", _l("Forbidden area (must stay out)")),
    ]


def _coord_sources() -> list[SelectChoice]:
    return [
        SelectChoice("wgs84", _l("A phone's GPS or Tianditu (WGS-84)")),
        SelectChoice("gcj02", _l("Amap or Tencent maps (GCJ-02)")),
        SelectChoice("bd09", _l("Baidu maps (BD-09)")),
    ]


def _text(label, hint_type: str | None = None, required: bool = False, **kwargs) -> StringField:
    render_kw = {"autocomplete": "off"}
    if hint_type:
        render_kw["inputmode"] = hint_type
    return StringField(
        label, validators=[Marked()] if required else [], render_kw=render_kw, **kwargs
    )


class ZoneRowForm(Form):
    """One optional circular zone."""

    kind = SelectField(
        _l("Kind"),
        choices=_zone_kinds,
        validate_choice=False,
    )
    name = _text(_l("Name of the area"))
    lat = _text(_l("Centre latitude"), "decimal")
    lon = _text(_l("Centre longitude"), "decimal")
    radius_m = _text(_l("Radius in metres"), "numeric")


class EnrolForm(FlaskForm):
    """Enrol a subject: the person, the check-in plan and up to three circles and one polygon."""

    name = _text(_l("Full name"), required=True)
    phone = _text(_l("Mobile phone number"), "tel", required=True)
    pin = _text(_l("PIN for the phone app (4 to 8 digits)"), "numeric", required=True)
    office_code = SelectField(_l("Judicial office"), validators=[Marked()], validate_choice=False)
    category = SelectField(_l("Category"), validators=[Marked()], validate_choice=False)
    level = SelectField(_l("Supervision level"), validators=[Marked()], validate_choice=False)
    supervision_start = StringField(
        _l("Supervision starts on"), validators=[Marked()], widget=DateInput()
    )
    supervision_end = StringField(
        _l("Supervision ends on"), validators=[Marked()], widget=DateInput()
    )
    id_number = _text(_l("Resident ID number (optional)"))
    emergency_contact_name = _text(_l("Emergency contact's name (optional)"))
    emergency_contact_phone = _text(_l("Emergency contact's phone (optional)"), "tel")
    coord_source = SelectField(
        _l("Where the coordinates come from"),
        choices=_coord_sources,
        default="wgs84",
        validate_choice=False,
    )
    home_lat = _text(_l("Home latitude"), "decimal", required=True)
    home_lon = _text(_l("Home longitude"), "decimal", required=True)
    every_days = _text(_l("Check in every how many days"), "numeric", required=True, default="1")
    window_start = StringField(
        _l("Check-in window opens at"), validators=[Marked()], widget=TimeInput(), default="08:00"
    )
    window_end = StringField(
        _l("Check-in window closes at"), validators=[Marked()], widget=TimeInput(), default="20:00"
    )
    video_every_days = _text(_l("Video check-in every how many days (optional)"), "numeric")
    curfew_start = StringField(_l("At home from (optional)"), widget=TimeInput())
    curfew_end = StringField(_l("At home until (optional)"), widget=TimeInput())
    zones = FieldList(FormField(ZoneRowForm), min_entries=ZONE_ROWS, max_entries=ZONE_ROWS)
    polygon_kind = SelectField(
        _l("Kind"),
        choices=_zone_kinds,
        validate_choice=False,
    )
    polygon_name = _text(_l("Name of the area"))
    polygon = TextAreaField(_l("Corners"), render_kw={"rows": 5, "autocomplete": "off"})
    #: Adds the chosen office's standard zone (its township's area) as an allowed zone.
    use_office_zone = BooleanField(_l("Use the office's standard area as an allowed area"))
    #: Shown with the warnings (corrections.casefile.checks): ticked, they do not stop enrolment.
    confirm_warnings = BooleanField(_l("I have checked, enrol anyway"))

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        #: The offices offered, by code (the standard zone comes from the chosen one).
        self.offices = {o.code: o for o in offices}
        self.office_code.choices = [SelectChoice(o.code, o.name) for o in offices]
        if len(offices) > 1:
            self.office_code.choices.insert(0, SelectChoice("", gettext("— choose —")))
        self.category.choices = _choices(CATEGORY_TERMS)
        self.level.choices = _choices(LEVEL_TERMS)


@dataclass
class Enrolment:
    """What the form made of the input: the schema object, or problems keyed by form field."""

    data: SubjectIn | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_enrolment(form: EnrolForm) -> Enrolment:
    """Build SubjectIn from the form; every problem is named by the form field that holds it."""
    builder = _Builder(form)
    body = builder.body()
    try:
        data = SubjectIn.from_plain(body)
    except ValidationError as error:
        for loc, message in field_errors(error).items():
            builder.problem(builder.field_for(loc), message)
        return Enrolment(errors=builder.errors)
    if builder.errors:
        return Enrolment(errors=builder.errors)
    return Enrolment(data=data)


def warning_list(form: EnrolForm, warnings) -> list[tuple[str, str, str]]:
    """(form field id, label, sentence) for each warning, for the banner above the form."""
    builder = _Builder(form)
    builder.body()
    listed = []
    for warning in warnings:
        name = builder.field_for(warning.field)
        target = _field_named(form, name)
        if target is None:
            listed.append(("", "", warning.message()))
        else:
            listed.append((target.id, _field_label(name, target), warning.message()))
    return listed


def _field_named(form: EnrolForm, name: str):
    target = form
    for part in name.split("-"):
        target = target[int(part)] if part.isdigit() else getattr(target, part, None)
        if target is None:
            return None
        if isinstance(target, FormField):
            target = target.form
    return target if hasattr(target, "errors") else None


def put_errors(form: EnrolForm, errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """Show each problem beside its field; returns (field id, label, message) for the summary."""
    summary = []
    for name, message in errors.items():
        target = _field_named(form, name)
        if target is None:
            summary.append(("", "", message))
            continue
        target.errors = [message]
        summary.append((target.id, _field_label(name, target), message))
    return summary


def _field_label(name: str, target) -> str:
    row = re.match(r"zones-([0-9]+)-", name)
    if row:
        return gettext("Zone %(n)s, %(field)s", n=int(row.group(1)) + 1, field=target.label.text)
    if name.startswith("polygon"):
        return gettext("Area drawn by its corners, %(field)s", field=target.label.text)
    return str(target.label.text)


class _Builder:
    """Turns typed text into a SubjectIn JSON body, remembering where each part came from."""

    def __init__(self, form: EnrolForm):
        self.form = form
        self.errors: dict[str, str] = {}
        #: Position in body["zones"] → the form field prefix it came from.
        self.zone_sources: list[str] = []
        #: Positions in body["zones"] of circles that took the home as their centre.
        self.centred_on_home: set[int] = set()

    def problem(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def body(self) -> dict:
        f = self.form
        body: dict = {}
        self._put(body, "name", _clean(f.name.data))
        self._put(body, "phone", _clean(f.phone.data))
        self._put(body, "pin", _clean(f.pin.data))
        self._put(body, "office_code", f.office_code.data or None)
        self._put(body, "category", f.category.data or None)
        self._put(body, "level", f.level.data or None)
        self._put(body, "supervision_start", _date(f.supervision_start.data))
        self._put(body, "supervision_end", _date(f.supervision_end.data))
        id_number = _clean(f.id_number.data).replace(" ", "")
        self._put(body, "id_number", id_number or None)
        contact: dict = {}
        self._put(contact, "name", _clean(f.emergency_contact_name.data))
        self._put(contact, "phone", _clean(f.emergency_contact_phone.data))
        if contact:
            body["emergency_contact"] = contact
        home: dict = {}
        self._put(home, "lat", _number(f.home_lat.data))
        self._put(home, "lon", _number(f.home_lon.data))
        body["home"] = home
        checkin: dict = {}
        self._put(checkin, "every_days", _number(f.every_days.data))
        self._put(checkin, "window_start", _time(f.window_start.data))
        self._put(checkin, "window_end", _time(f.window_end.data))
        self._put(checkin, "video_every_days", _number(f.video_every_days.data))
        self._put(checkin, "curfew_start", _time(f.curfew_start.data))
        self._put(checkin, "curfew_end", _time(f.curfew_end.data))
        body["checkin"] = checkin
        body["zones"] = self._zones(home)
        # Unknown values go to SubjectIn, which names them; the converted home and centres
        # are what is stored.
        body["coord_source"] = f.coord_source.data or "wgs84"
        return body

    @staticmethod
    def _put(target: dict, key: str, value) -> None:
        # An empty box is left out, so SubjectIn says "is required" (or uses its default).
        if value is not None and value != "":
            target[key] = value

    def _zones(self, home: dict) -> list[dict]:
        zones = []
        for index, row in enumerate(self.form.zones):
            r = row.form
            typed = [
                _clean(r.name.data),
                _clean(r.lat.data),
                _clean(r.lon.data),
                _clean(r.radius_m.data),
            ]
            if not any(typed):
                continue
            zone = {"kind": r.kind.data or "allowed"}
            self._put(zone, "name", typed[0])
            if not typed[1] and not typed[2]:
                # Centred on the home: a problem with it is the home's, named there once.
                self._put(zone, "lat", home.get("lat"))
                self._put(zone, "lon", home.get("lon"))
                self.centred_on_home.add(len(zones))
            else:
                self._put(zone, "lat", _number(r.lat.data))
                self._put(zone, "lon", _number(r.lon.data))
            self._put(zone, "radius_m", _number(r.radius_m.data))
            zones.append(zone)
            self.zone_sources.append(f"zones-{index}-")
        polygon = self._polygon()
        if polygon is not None:
            zones.append(polygon)
            self.zone_sources.append("polygon")
        standard = self._office_zone()
        if standard is not None:
            zones.append(standard)
            self.zone_sources.append("use_office_zone")
        return zones

    def _office_zone(self) -> dict | None:
        f = self.form
        if not f.use_office_zone.data:
            return None
        office = f.offices.get(f.office_code.data or "")
        if office is None:
            return None  # no office chosen: office_code says so
        if not office.standard_zone:
            self.problem("use_office_zone", gettext("This office has no standard area yet."))
            return None
        # Stored in WGS-84, while SubjectIn turns the whole body from coord_source into WGS-84:
        # given in that datum, it comes back where it was (to well under a metre).
        source = f.coord_source.data or geo_china.WGS84
        zone = {"kind": "allowed", **office.standard_zone}
        if source in geo_china.SOURCES and "polygon" in zone:
            zone["polygon"] = [
                list(geo_china.from_wgs84(lat, lon, source)) for lat, lon in zone["polygon"]
            ]
        elif source in geo_china.SOURCES:
            zone["lat"], zone["lon"] = geo_china.from_wgs84(zone["lat"], zone["lon"], source)
        return zone

    def _polygon(self) -> dict | None:
        f = self.form
        text = f.polygon.data or ""
        name = _clean(f.polygon_name.data)
        if not text.strip() and not name:
            return None
        corners = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = _clean(line)
            if not line:
                continue
            parts = [p for p in re.split(r"[\s,;]+", line) if p]
            values = [_number(p) for p in parts]
            if len(values) != 2 or not all(isinstance(v, int | float) for v in values):
                self.problem(
                    "polygon",
                    gettext(
                        "Line %(n)s: write a latitude and a longitude, e.g. 24.70, 107.50", n=number
                    ),
                )
                return None
            corners.append(values)
        zone = {"kind": f.polygon_kind.data or "allowed", "polygon": corners}
        self._put(zone, "name", name)
        return zone

    def field_for(self, loc: str) -> str:
        """The form field behind a SubjectIn error location such as "zones.1.radius_m"."""
        parts = loc.split(".")
        head = parts[0]
        if head == "home":
            return {"lat": "home_lat", "lon": "home_lon"}.get(
                parts[1] if len(parts) > 1 else "", "home_lat"
            )
        if head == "emergency_contact":
            return "emergency_contact_" + (parts[1] if len(parts) > 1 else "phone")
        if head == "checkin":
            return parts[1] if len(parts) > 1 else "every_days"
        if head == "zones" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            source = self.zone_sources[index] if index < len(self.zone_sources) else "polygon"
            leaf = parts[2] if len(parts) > 2 else "name"
            if source == "use_office_zone":
                return source
            if source == "polygon":
                return {"name": "polygon_name", "kind": "polygon_kind"}.get(leaf, "polygon")
            if index in self.centred_on_home and leaf in ("lat", "lon"):
                return "home_" + leaf
            return source + leaf
        return head


_clean = typed_text
_number = typed_number


_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")


def _date(value: str | None) -> str | None:
    text = _clean(value)
    match = _DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text or None


def _time(value: str | None) -> str | None:
    text = _clean(value)
    match = re.fullmatch(r"([0-9]{1,2})\s*[:.点时]\s*([0-9]{2})\s*分?", text)
    if match:
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    return text or None
