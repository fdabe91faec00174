"""Check-in plans: their versions, and the shared rhythms (window shapes) the sweep judges by."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from corrections import clock
from corrections.actors import Actor
from corrections.audit.services import record as audit
from corrections.checkin import curfew as curfew_rules
from corrections.checkin import windows
from corrections.checkin.models import CheckinPlan, WindowShape
from corrections.extensions import db
from corrections.i18n import N_, FieldProblem


class PlanError(FieldProblem):
    """The plan cannot be set as asked; `field` names the reason."""


@dataclass(frozen=True)
class PlanSpec:
    """A rhythm asked for: every N days from HH:MM to HH:MM, and how often a video is due."""

    every_days: int
    window_start_min: int
    window_end_min: int
    video_every_days: int | None = None
    #: The curfew's local bounds in minutes after midnight; both None for no curfew.
    curfew_start_min: int | None = None
    curfew_end_min: int | None = None

    @classmethod
    def of(cls, data) -> PlanSpec:
        """From a CheckinPlanIn (the API's and the form's schema)."""
        return cls(
            every_days=data.every_days,
            window_start_min=windows.parse_hhmm(data.window_start),
            window_end_min=windows.parse_hhmm(data.window_end),
            video_every_days=data.video_every_days,
            curfew_start_min=_minutes(data.curfew_start),
            curfew_end_min=_minutes(data.curfew_end),
        )

    @property
    def shape(self) -> windows.WindowShape:
        return windows.WindowShape(self.every_days, self.window_start_min, self.window_end_min)


def _minutes(hhmm: str | None) -> int | None:
    return None if hhmm is None else windows.parse_hhmm(hhmm)


def pure_shape(row: WindowShape) -> windows.WindowShape:
    """A stored rhythm as the arithmetic sees it."""
    return windows.WindowShape(row.every_days, row.window_start_min, row.window_end_min)


def next_judgement(
    shape: windows.WindowShape, after: dt.datetime, grace: dt.timedelta, zone
) -> dt.datetime:
    """When the first window of the rhythm that ends after `after` can be judged (on any day: a
    plan every N days is looked at daily, its own days are picked in SQL)."""
    n = windows.day_number(after.astimezone(zone).date()) - 1
    while shape.bounds(n, zone)[1] <= after:
        n += 1
    return shape.bounds(n, zone)[1] + grace


def shape_for(spec: PlanSpec, now: dt.datetime, grace: dt.timedelta) -> WindowShape:
    """The stored rhythm of `spec`, created when no plan has had it yet. A new rhythm is judged
    from `now`: every plan that joins it takes effect at `now` or later."""
    found = _find_shape(spec)
    if found is not None:
        return found
    shape = WindowShape(
        every_days=spec.every_days,
        window_start_min=spec.window_start_min,
        window_end_min=spec.window_end_min,
        judged_until=now,
        next_judgement_at=next_judgement(spec.shape, now, grace, clock.local_zone()),
    )
    try:
        with db.session.begin_nested():
            db.session.add(shape)
            db.session.flush()
    except IntegrityError:
        # Another enrolment created the same rhythm a moment ago.
        return _find_shape(spec)
    return shape


def _find_shape(spec: PlanSpec) -> WindowShape | None:
    return db.session.scalar(
        select(WindowShape).where(
            WindowShape.every_days == spec.every_days,
            WindowShape.window_start_min == spec.window_start_min,
            WindowShape.window_end_min == spec.window_end_min,
        )
    )


def start_plan(
    subject_id: int,
    spec: PlanSpec,
    *,
    anchor_day: int,
    effective_from: dt.datetime,
    now: dt.datetime,
    grace: dt.timedelta,
) -> CheckinPlan:
    """Open a plan version for a subject in the current transaction."""
    shape = shape_for(spec, now, grace)
    zone = clock.local_zone()
    first = windows.first_window_day(spec.shape, anchor_day, effective_from, zone)
    # A rhythm already judged past the plan's start (a drill's sweep in the future, a clock set
    # back) would never judge the plan's earlier windows: they are not due, and saying so keeps
    # /me and the sweep in agreement.
    while spec.shape.bounds(first, zone)[1] <= shape.judged_until:
        first += spec.every_days
    plan = CheckinPlan(
        subject_id=subject_id,
        shape=shape,
        video_every_days=spec.video_every_days,
        curfew_start_min=spec.curfew_start_min,
        curfew_end_min=spec.curfew_end_min,
        anchor_day=anchor_day,
        effective_from=effective_from,
        first_day=first,
        created_at=now,
    )
    db.session.add(plan)
    db.session.flush()
    return plan


def change_plan(
    subject_id: int,
    spec: PlanSpec,
    effective_on: dt.date,
    *,
    actor: Actor,
    now: dt.datetime,
    grace: dt.timedelta,
) -> CheckinPlan:
    """Replace the subject's plan from the local day `effective_on` (today or later).

    Windows already judged keep the version they were judged by: a change never reaches into
    the past. Named for today, it takes effect now, so no window that has already begun is
    judged by it; the version it replaces still judges those."""
    zone = clock.local_zone()
    today = now.astimezone(zone).date()
    if effective_on < today:
        raise PlanError("effective_on", N_("must be today or a later day"))
    midnight = dt.datetime.combine(effective_on, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    effective_from = max(midnight, now)
    for version in db.session.scalars(
        select(CheckinPlan)
        .where(CheckinPlan.subject_id == subject_id, CheckinPlan.effective_to.is_(None))
        .with_for_update()
    ):
        version.effective_to = max(effective_from, version.effective_from)
        version.last_day = windows.last_window_day(
            pure_shape(version.shape), version.anchor_day, version.effective_to, zone
        )
    plan = start_plan(
        subject_id,
        spec,
        anchor_day=windows.day_number(effective_on),
        effective_from=effective_from,
        now=now,
        grace=grace,
    )
    audit(
        "plan.change",
        actor,
        now,
        subject_id=subject_id,
        detail={"plan_id": plan.id, "effective_on": effective_on.isoformat()},
    )
    return plan


def plans_of(subject_ids: Sequence[int]) -> dict[int, list[CheckinPlan]]:
    """Every plan version of each subject, oldest first (one statement)."""
    found: dict[int, list[CheckinPlan]] = defaultdict(list)
    if not subject_ids:
        return found
    for plan in db.session.scalars(
        select(CheckinPlan)
        .where(CheckinPlan.subject_id.in_(subject_ids))
        .order_by(CheckinPlan.effective_from, CheckinPlan.id)
    ):
        found[plan.subject_id].append(plan)
    return found


def terms_for(subject_id: int) -> list[windows.PlanTerms]:
    """The subject's plan versions as the arithmetic sees them, oldest first (one statement,
    no ORM loading: a check-in's answer needs no more)."""
    return schedule_for(subject_id)[0]


def schedule_for(
    subject_id: int,
) -> tuple[list[windows.PlanTerms], list[curfew_rules.CurfewVersion]]:
    """The subject's plan versions as the window arithmetic and the curfew rules see them,
    oldest first: one statement, no ORM loading."""
    rows = db.session.execute(
        select(*SCHEDULE_COLUMNS)
        .join(WindowShape, WindowShape.id == CheckinPlan.shape_id)
        .where(CheckinPlan.subject_id == subject_id)
        .order_by(*SCHEDULE_ORDER)
    ).all()
    return schedule_of(rows)


#: What schedule_of() reads of each plan version (checkin_plans joined to window_shapes), and
#: the order of the versions.
SCHEDULE_COLUMNS = (
    WindowShape.every_days,
    WindowShape.window_start_min,
    WindowShape.window_end_min,
    CheckinPlan.anchor_day,
    CheckinPlan.first_day,
    CheckinPlan.last_day,
    CheckinPlan.curfew_start_min,
    CheckinPlan.curfew_end_min,
    CheckinPlan.effective_from,
    CheckinPlan.effective_to,
)
SCHEDULE_ORDER = (CheckinPlan.effective_from, CheckinPlan.id)


def schedule_of(
    rows: Sequence[Sequence],
) -> tuple[list[windows.PlanTerms], list[curfew_rules.CurfewVersion]]:
    """schedule_for()'s answer from its rows of SCHEDULE_COLUMNS, oldest version first."""
    terms = [
        windows.PlanTerms(windows.WindowShape(r[0], r[1], r[2]), r[3], r[4], r[5]) for r in rows
    ]
    curfews = [
        curfew_rules.CurfewVersion(
            None if r[6] is None else curfew_rules.Curfew(r[6], r[7]), r[8], r[9]
        )
        for r in rows
    ]
    return terms, curfews


def plan_in_force(plans: Sequence[CheckinPlan], at: dt.datetime) -> CheckinPlan | None:
    """The version in force at `at`, else the next one to take effect, else the last one."""
    for plan in plans:
        if plan.effective_from <= at and (plan.effective_to is None or at < plan.effective_to):
            return plan
    upcoming = [p for p in plans if p.effective_from > at]
    if upcoming:
        return upcoming[0]
    return plans[-1] if plans else None
