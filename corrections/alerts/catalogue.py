"""The catalogue of alert kinds: one entry per kind, declared by the feature that raises it.

An entry says everything the queue needs to know about a kind: its name, how severe it is at each
supervision level, the one-sentence summary, where its extra evidence comes from and which
detector raises it. The queue itself knows no feature: features hand their entries to
`register()` from the composition root (`corrections.features`), as they hand their detectors to
the sweep. Kinds that the CONTRACT lists but no feature raises yet have a reserved entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, literal

LEVELS = ("strict", "normal", "lenient")
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class AlertKind:
    """One kind of alert, as the queue, the pages and the raising path see it."""

    code: str
    #: The kind's name for filters and headings (lazy: translated for the reader).
    label: object
    #: Severity of a new alert by the subject's supervision level; `default` is for alerts that
    #: concern a case record (no level) and for a level the mapping does not name.
    severity: Mapping[str, str]
    default_severity: str
    #: (alert, evidence) -> the queue's one sentence, in the reader's language.
    summary: Callable[[object, dict], str] | None = None
    #: alert ids -> {alert id: extra evidence}; one query for a whole page of alerts.
    evidence: Callable[[Sequence[int]], dict[int, dict]] | None = None
    #: Plain-language labels of this kind's evidence keys.
    evidence_labels: Mapping[str, object] = field(default_factory=dict)
    #: "ingest" (judged when a report arrives), a sweep detector's name, or None (reserved).
    detector: str | None = None

    def __post_init__(self):
        for level, severity in self.severity.items():
            if level not in LEVELS or severity not in SEVERITIES:
                raise ValueError(f"{self.code}: bad severity {level!r} -> {severity!r}")
        if self.default_severity not in SEVERITIES:
            raise ValueError(f"{self.code}: bad default severity {self.default_severity!r}")

    def severity_for(self, level: str | None) -> str:
        """The severity of a new alert for a subject under `level` (None: a case record)."""
        return self.severity.get(level, self.default_severity) if level else self.default_severity

    def severity_sql(self, level_column):
        """The same decision as `severity_for`, as SQL over a column of levels."""
        default = literal(self.default_severity, String)
        if not self.severity:
            return default
        return case(dict(self.severity), value=level_column, else_=default)

    def describe(self, alert, evidence: dict) -> str:
        """The one sentence for the queue; the kind's name when it has no summary of its own."""
        if self.summary is None:
            return str(self.label)
        return self.summary(alert, evidence)


def same(severity: str) -> dict[str, str]:
    """The same severity at every supervision level."""
    return dict.fromkeys(LEVELS, severity)


def escalated_when_strict(severity: str) -> dict[str, str]:
    """One step more severe under strict supervision (严管), as is at the other levels."""
    higher = SEVERITIES[max(0, SEVERITIES.index(severity) - 1)]
    return {"strict": higher, "normal": severity, "lenient": severity}


#: Kinds of the CONTRACT that no feature raises yet; the feature that comes to raise one declares
#: its entry itself and this reservation goes.
RESERVED = (
    AlertKind("missed_video", _l("Missed video check-in"), same("medium"), "medium"),
    AlertKind("video_rejected", _l("Video check-in rejected"), same("medium"), "medium"),
    AlertKind(
        "checkin_request_unanswered", _l("Check-in request unanswered"), same("medium"), "medium"
    ),
    AlertKind("travel_overdue", _l("Overdue from travel"), same("medium"), "medium"),
)


def _deadline_summary(alert, evidence: dict) -> str:
    what = evidence.get("what")
    due = evidence.get("due_on")
    if what and due:
        return gettext("%(what)s is due on %(due)s.", what=what, due=due)
    return gettext("A deadline is near or past.")


#: A case module's legal clock (legal aid within 7 days, a reconsideration within 60...): it
#: concerns a case record, not a subject, so it has no supervision level.
DEADLINE = AlertKind(
    "deadline",
    _l("Deadline"),
    {},
    "medium",
    summary=_deadline_summary,
    evidence_labels={"what": _l("What is due"), "due_on": _l("Due on")},
)

_kinds: dict[str, AlertKind] = {}


def register(*entries: AlertKind) -> None:
    """Add entries to the catalogue; registering the same entry again changes nothing."""
    for entry in entries:
        known = _kinds.get(entry.code)
        if known is not None and known is not entry:
            raise ValueError(f"alert kind {entry.code!r} is declared twice")
        _kinds[entry.code] = entry


register(*RESERVED, DEADLINE)


def kind(code: str) -> AlertKind:
    """The entry of `code`; KeyError for a kind nobody declared."""
    return _kinds[code]


def codes() -> tuple[str, ...]:
    """Every declared kind, in the order the CONTRACT lists them where it does."""
    order = {code: i for i, code in enumerate(CONTRACT_ORDER)}
    return tuple(sorted(_kinds, key=lambda code: (order.get(code, len(order)), code)))


def entries() -> list[AlertKind]:
    """Every declared entry, in `codes()` order."""
    return [_kinds[code] for code in codes()]


CONTRACT_ORDER = (
    "missed_checkin",
    "missed_video",
    "geofence_exit",
    "exclusion_zone",
    "curfew",
    "impossible_travel",
    "signal_lost",
    "mock_location",
    "device_change",
    "video_rejected",
    "checkin_request_unanswered",
    "travel_overdue",
    "monitoring_order_expiring",
    "deadline",
)


@dataclass(frozen=True)
class ConcernInfo:
    """What the queue shows of the record an alert concerns: a person's name or a case's title,
    and the page that shows the record."""

    name: str
    url: str | None = None
    #: One more line for the alert's page (a subject's phone number).
    detail: str | None = None
    #: The record's office (scoping a filter that names the record).
    office_id: int | None = None


@dataclass(frozen=True)
class ConcernPanel:
    """What the alert's page shows of the record it concerns, drawn by the feature that owns the
    record: a template of that feature (the template loader is shared, no import is needed) and
    its context."""

    template: str
    context: Mapping = field(default_factory=dict)


#: A panel loader: (alert, the officer's actor, when) -> the panel, or None. It reads personal
#: data, so it writes its own audit row.
PanelLoader = Callable[[object, object, object], ConcernPanel | None]

#: Concern type ("subject", or a case module's record type) -> ids -> {id: ConcernInfo}.
_describers: dict[str, Callable[[Sequence[int]], dict[int, ConcernInfo]]] = {}
_panels: dict[str, PanelLoader] = {}


def register_concern(
    concern_type: str,
    describe: Callable[[Sequence[int]], dict[int, ConcernInfo]],
    panel: PanelLoader | None = None,
) -> None:
    """Tell the queue how to name records of `concern_type`, a whole page of ids at a time, and
    (optionally) how to show one on an alert's page."""
    _describers[concern_type] = describe
    if panel is not None:
        _panels[concern_type] = panel


def concern_panel(alert, actor, at) -> ConcernPanel | None:
    """The panel of the record `alert` concerns, if its feature draws one."""
    loader = _panels.get(alert.concern[0])
    return loader(alert, actor, at) if loader is not None else None


def describe_concerns(concern_type: str, ids: Sequence[int]) -> dict[int, ConcernInfo]:
    """Names of the records `ids` of `concern_type`; an unknown type gets its bare ids."""
    describe = _describers.get(concern_type)
    if describe is None:
        return {i: ConcernInfo(f"{concern_type} {i}") for i in ids}
    return describe(ids) if ids else {}
