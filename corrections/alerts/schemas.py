"""Request schemas for working alerts."""

from __future__ import annotations

from corrections.validation import Schema, text

#: A note may run over several lines.
Text = text(2000, multiline=True)


class ResolveIn(Schema):
    """Resolving takes a note saying what was done."""

    note: Text


class DismissIn(Schema):
    """Dismissing (a false positive) takes the reason."""

    reason: Text


class ReassignIn(Schema):
    """Reassigning names the officer (by username) and may say why."""

    officer: text(64)
    note: Text | None = None
