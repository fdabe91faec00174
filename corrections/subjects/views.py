"""Subject pages."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("subjects", __name__, template_folder="templates")


@bp.get("/subjects")
@login_required
def index():
    """Subject list."""
    return render_template("subjects/index.html")
