"""Request bodies of the monitoring orders (shared by the API and the pages)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from corrections.monitoring.models import GROUNDS
from corrections.validation import Schema, text

#: An order's dates: late records are fine, year 1 or 9999 is a typo.
OrderDate = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31))]
#: A reason may run over several lines.
Reason = text(2000, multiline=True)


class OrderIn(Schema):
    """A request for monitoring: the statutory ground, the term and why."""

    ground: Literal[GROUNDS]
    starts_on: OrderDate
    ends_on: OrderDate
    reason: Reason


class EndIn(Schema):
    """Ending an order early (or withdrawing a request) says why."""

    reason: Reason
