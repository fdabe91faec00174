"""The password policy, for every role and every way an account gets a password (the API, the
CLI, the administration pages, one's own change): pure, no database.

- at least PASSWORD_MIN_LENGTH (default 10) characters, not counting spaces around it, so a
  blank password (eight spaces) is refused;
- not the username, nor the username with a few characters added: without the username the
  password must still have the minimum length (so "li-2026" is refused for the account "li",
  while "demo-admin-2026" for "admin" keeps ten characters of its own);
- not one of the passwords most often found in leaks: Django's list of 20,000
  (common-passwords.txt.gz, from Django 5.2, BSD licence, compiled by Royce Williams) and a
  few common among Chinese users (common-passwords-zh.txt).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from corrections.i18n import N_, FieldProblem

HERE = Path(__file__).resolve().parent
DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 256


class PasswordRefused(FieldProblem):
    """The password breaks the policy; the message says which rule, in plain words."""

    def __init__(self, message: str, **params):
        super().__init__("password", message, **params)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The lower-cased common passwords."""
    with gzip.open(HERE / "common-passwords.txt.gz", "rt", encoding="utf-8") as listed:
        words = {line.strip() for line in listed}
    for line in (HERE / "common-passwords-zh.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.add(line.strip())
    words.discard("")
    return frozenset(words)


def check_password(password: str, username: str, min_length: int = DEFAULT_MIN_LENGTH) -> None:
    """PasswordRefused when `password` may not be used for the account `username`."""
    core = password.strip()
    if not core:
        raise PasswordRefused(N_("the password must not be blank"))
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(N_("the password may have at most %(n)s characters"), n=MAX_LENGTH)
    if len(core) < min_length:
        raise PasswordRefused(N_("the password needs at least %(n)s characters"), n=min_length)
    name = username.strip().casefold()
    folded = core.casefold()
    if name and folded == name:
        raise PasswordRefused(N_("the password must not be the username"))
    if name and name in folded and len(folded.replace(name, "")) < min_length:
        raise PasswordRefused(
            N_(
                "the password must not be the username with a few characters added: "
                "without the username it still needs %(n)s characters"
            ),
            n=min_length,
        )
    if folded in common_passwords():
        raise PasswordRefused(
            N_("this password is one of the most common ones and easy to guess; choose another")
        )
