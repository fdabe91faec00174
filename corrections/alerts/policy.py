"""Pure alert policy: which steps an officer may take on an alert, and the queue's order.

`allowed_steps` is the one rule: the service refuses a step it does not allow (409), and the
page shows exactly the buttons it allows.
"""

from __future__ import annotations

from typing import Protocol

from corrections.alerts.catalogue import SEVERITIES

#: Queue order: most severe first.
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
STEPS = ("ack", "release", "resolve", "dismiss", "reassign")
#: Roles that may give an alert to another officer of its office.
REASSIGNING_ROLES = ("admin", "supervisor")
#: Roles that work alerts; a viewer watches the wall and takes no step.
WORKING_ROLES = ("admin", "supervisor", "officer")


class AlertState(Protocol):
    status: str
    owner_id: int | None


class Worker(Protocol):
    id: int
    role: str


def allowed_steps(alert: AlertState, officer: Worker) -> frozenset[str]:
    """The steps `officer` may take on `alert` now.

    - ack: an open alert nobody owns;
    - release: an acknowledged alert, by its owner, or by a supervisor or admin (who may take it
      back from an officer who is away);
    - resolve, dismiss: an unresolved alert nobody else owns;
    - reassign: an unresolved alert, by a supervisor or admin (to an officer of its office).
    """
    if officer.role not in WORKING_ROLES or alert.status not in ("open", "acknowledged"):
        return frozenset()
    mine = alert.owner_id == officer.id
    free_or_mine = alert.owner_id is None or mine
    steps = {"resolve", "dismiss"} if free_or_mine else set()
    if alert.status == "open" and alert.owner_id is None:
        steps.add("ack")
    if alert.status == "acknowledged" and (mine or officer.role != "officer"):
        steps.add("release")
    if officer.role in REASSIGNING_ROLES:
        steps.add("reassign")
    return frozenset(steps)
