"""Request schemas for working alerts."""

from __future__ import annotations

from corrections.validation import Schema, text

Text = text(2000)


class ResolveIn(Schema):
    """Resolving takes a note saying what was done."""

    note: Text


class DismissIn(Schema):
    """Dismissing (a false positive) takes the reason."""

    reason: Text
