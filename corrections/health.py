"""`GET /healthz`: for load balancers and operators. Public, and it shows no personal data."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from corrections import clock
from corrections.extensions import db
from corrections.jobs import services as jobs

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the database answers ("degraded" when the scheduler or the sweep is late);
    503 when it does not."""
    now = clock.now()
    config = current_app.config
    try:
        db.session.execute(text("SELECT 1"))
        sweep = jobs.sweep_health(now, jobs.stale_after(config))
        beat = jobs.last_beat()
    except SQLAlchemyError:
        db.session.rollback()
        response = jsonify(status="down", database="unreachable")
        response.status_code = 503
        return response
    silent = dt.timedelta(seconds=config["SCHEDULER_STALE_AFTER_SECONDS"])
    beat_stale = beat is None or now - beat.beat_at > silent
    return jsonify(
        status="degraded" if sweep.stale or beat_stale else "ok",
        database="ok",
        sweep=sweep.to_dict(),
        scheduler={
            "last_beat_at": clock.isoformat(beat.beat_at) if beat else None,
            "stale": beat_stale,
            "stale_after_seconds": int(silent.total_seconds()),
        },
        checked_at=clock.isoformat(now),
    )
