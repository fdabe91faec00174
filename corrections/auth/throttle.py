"""Login throttling as the request sees it: 429 with Retry-After once an account, a phone or a
client address has failed too often.

Two limits, both over LOGIN_FAILURE_WINDOW_MINUTES (default 15):
- per account or phone (`officer:<username>`, `phone:<number>`): LOGIN_MAX_FAILURES (10). Each
  try is counted *before* its secret is checked and forgotten with the others once the secret
  was right; counting first keeps a burst of parallel guesses to the limit.
- per client address, across every account and phone: CLIENT_LOGIN_MAX_FAILURES (50). Only
  failures count, so the phones behind one carrier NAT address log in freely; once an address
  has failed that often, every login from it waits, so one client can neither guess across many
  accounts nor lock out more than a few of them. (A failure is counted after its check, so a
  parallel burst from one address may pass the limit by as many requests as run at once; the
  per-account limit above stays exact.)
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import ngettext

from corrections.auth import limiter
from corrections.errors import ApiError


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def account_limit() -> limiter.Limit:
    """Failed logins of one account or phone."""
    return limiter.Limit("login-account", current_app.config["LOGIN_MAX_FAILURES"], _window())


def client_limit() -> limiter.Limit:
    """Failed logins from one client address, whatever account or phone they named."""
    return limiter.Limit("login-client", current_app.config["CLIENT_LOGIN_MAX_FAILURES"], _window())


def too_many(wait: int) -> ApiError:
    """The 429 with Retry-After (in the CONTRACT shape; a page on the HTML paths)."""
    return ApiError(
        429,
        message=ngettext(
            "Too many failed attempts. Try again in %(num)s minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            -(-wait // 60),
        ),
        headers={"Retry-After": str(wait)},
    )


def _client_key(address: str | None) -> str:
    return f"client:{address or 'unknown'}"


def attempt(key: str, address: str | None) -> None:
    """Before a secret is checked: 429 when the client address or the account `key` has failed
    too often; otherwise the try is counted against `key` until `succeeded(key)`."""
    wait = limiter.full(client_limit(), _client_key(address))
    if wait is None:
        wait = limiter.hit(account_limit(), key)
    if wait is not None:
        raise too_many(wait)


def failed(address: str | None) -> None:
    """The secret was wrong: count the failure against the client address too."""
    limiter.hit(client_limit(), _client_key(address))


def succeeded(key: str) -> None:
    """The secret was right: forget the account's failures (in the caller's transaction)."""
    limiter.clear(account_limit(), key)


def checked(key: str, address: str | None, *, right: bool) -> None:
    """After a secret was checked: forget the account's failures when it was right, count the
    client's failure when it was not."""
    if right:
        succeeded(key)
    else:
        failed(address)
