"""Query arguments under the text rule (corrections.text), shared by the JSON APIs and the pages.

Every argument's name and value has already been checked for control and direction characters
(corrections.validation.check_query_text runs before each request); these helpers read one
argument: blank (nothing visible) counts as absent, whole numbers take the digits 0-9 and are
bounded before they are converted.
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext

from corrections import text as rules
from corrections.errors import validation_error
from corrections.i18n import translate

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
#: More digits than this are out of every range (and are never handed to int()).
_MAX_DIGITS = 18


def text_arg(name: str, max_length: int | None = None) -> str | None:
    """An optional text argument, cleaned; None when absent or blank; 422 when too long."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = rules.clean(raw)
    except rules.TextRefused as refused:
        raise validation_error({name: translate(str(refused))}) from None
    if max_length is not None and len(value) > max_length:
        raise validation_error(
            {name: gettext("must have at most %(max_length)s characters", max_length=max_length)}
        )
    return value or None


def whole_number(value: str) -> int | None:
    """The whole number written in `value` (digits 0-9, full-width ones converted), or None.
    One of more than 18 digits counts as ±10**18, which no range holds: int() is never asked
    to convert thousands of digits."""
    try:
        digits = rules.ascii_digits(rules.clean(value))
    except rules.TextRefused:
        return None
    if not _WHOLE_NUMBER.fullmatch(digits):
        return None
    if len(digits.lstrip("+-")) > _MAX_DIGITS:
        return -(10**_MAX_DIGITS) if digits.startswith("-") else 10**_MAX_DIGITS
    return int(digits)


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query argument within [low, high]; 422 naming it otherwise."""
    raw = text_arg(name)
    if raw is None:
        return default
    value = whole_number(raw)
    if value is None:
        raise validation_error({name: gettext("must be a whole number")})
    if not low <= value <= high:
        raise validation_error(
            {name: gettext("must be between %(low)s and %(high)s", low=low, high=high)}
        )
    return value


def page_arg(name: str = "page", high: int = 1_000_000) -> int:
    """A page number for a page (forgiving, unlike the API): anything but a whole number from 1
    up counts as 1, and one above `high` as `high` (its offset must fit the database's integer)."""
    value = whole_number(request.args.get(name) or "")
    return min(value, high) if value is not None and value >= 1 else 1


def choice_arg(name: str, choices) -> str | None:
    """An optional query argument that must be one of `choices`."""
    value = text_arg(name)
    if value is not None and value not in choices:
        raise validation_error(
            {name: gettext("must be one of: %(choices)s", choices=", ".join(choices))}
        )
    return value


def query_record() -> dict[str, str]:
    """The query arguments as an audit record keeps them: each value without its invisible
    ends, and those left blank dropped (a filter made of a zero-width space filtered nothing)."""
    record = {}
    for name, value in request.args.items():
        value = rules.trim(value)
        if value:
            record[name] = value
    return record


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string."""
    return int_arg("page", 1, low=1, high=1_000_000), int_arg("per_page", 50, low=1, high=500)
