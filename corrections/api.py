"""Small helpers shared by the JSON APIs."""

from __future__ import annotations

from flask import request
from flask_babel import gettext

from corrections.errors import validation_error


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query argument within [low, high]; 422 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error({name: gettext("must be a whole number")}) from None
    if not low <= value <= high:
        raise validation_error(
            {name: gettext("must be between %(low)s and %(high)s", low=low, high=high)}
        )
    return value


def choice_arg(name: str, choices) -> str | None:
    """An optional query argument that must be one of `choices`."""
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise validation_error(
            {name: gettext("must be one of: %(choices)s", choices=", ".join(choices))}
        )
    return value


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string."""
    return int_arg("page", 1, low=1, high=1_000_000), int_arg("per_page", 50, low=1, high=500)
