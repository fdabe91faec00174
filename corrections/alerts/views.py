"""Alert queue pages."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("alerts", __name__, template_folder="templates")


@bp.get("/alerts")
@login_required
def queue():
    """The alert queue."""
    return render_template("alerts/queue.html")
