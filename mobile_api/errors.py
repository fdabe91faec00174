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


def no_monitoring_order(index: int | None = None) -> ApiError:
    """403 no_monitoring_order: positions are tracked only under an order in force (art. 29);
    `index` names the first point recorded outside the order's dates."""
    if index is None:
        return ApiError(
            403,
            "no_monitoring_order",
            gettext("No electronic-monitoring order is in force; nothing was recorded."),
        )
    return ApiError(
        403,
        "no_monitoring_order",
        gettext("A position lies outside the monitoring order's dates; nothing was recorded."),
        {
            f"{index}.recorded_at": gettext(
                "lies outside the dates of the monitoring order in force"
            )
        },
    )
