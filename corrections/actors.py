"""Who acts, and from where: every service that reads or changes personal data is told."""

from __future__ import annotations

from dataclasses import dataclass

#: The kinds of actor the audit log knows.
ACTOR_KINDS = ("officer", "subject", "system", "anonymous")


@dataclass(frozen=True)
class Actor:
    """An officer, a subject (their phone), the system or someone not signed in (a failed
    login), with the client address of the request that acted (None for the scheduler, the CLI
    and the demo loader)."""

    kind: str
    id: int | None = None
    ip: str | None = None

    def __post_init__(self):
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    @classmethod
    def anonymous(cls, ip: str | None) -> Actor:
        """Someone not signed in (a failed login), from the address `ip`."""
        return cls("anonymous", None, ip)

    @classmethod
    def system(cls) -> Actor:
        """The scheduler, a command or the demo loader."""
        return cls("system")

    @classmethod
    def officer(cls, officer_id: int, ip: str | None) -> Actor:
        """An officer's account, from the address `ip`."""
        return cls("officer", officer_id, ip)

    @classmethod
    def subject(cls, subject_id: int, ip: str | None) -> Actor:
        """A subject's phone, from the address `ip`."""
        return cls("subject", subject_id, ip)
