"""The subject-facing surface: /mobile/v1 JSON for phones."""

from mobile_api.api import bp

__all__ = ["bp"]
