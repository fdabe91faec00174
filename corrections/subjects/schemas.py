"""Request bodies about a subject's phone (shared by the API and the pages)."""

from __future__ import annotations

from corrections.validation import Schema, text


class DeviceDecisionIn(Schema):
    """A phone an officer approves for a subject."""

    device_id: text(128)


class DeviceRefusalIn(DeviceDecisionIn):
    """A phone an officer refuses for a subject, and why."""

    reason: text(500, multiline=True)
