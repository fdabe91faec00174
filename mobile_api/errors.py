"""Errors the phone API answers with beyond the common ones."""

from __future__ import annotations

from flask_babel import gettext

from corrections.errors import ApiError


def not_in_supervision() -> ApiError:
    """403 not_in_supervision: nothing is accepted outside the supervision period."""
    return ApiError(
        403,
        "not_in_supervision",
        gettext("You are not under community supervision on this date; nothing was recorded."),
    )
