"""Small helpers shared by the server-rendered pages."""

from __future__ import annotations

from flask import render_template

from corrections.extensions import db


def render_and_commit(template: str, status: int = 200, **context):
    """Render a page, then commit what its request wrote (the audit row of the read).

    In that order: a commit expires every loaded record, and a template that then reads them
    would load each one again (one statement per row of a list)."""
    html = render_template(template, **context)
    db.session.commit()
    return html, status
