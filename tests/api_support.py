"""Helpers for the API tests: the CONTRACT error shape, row counts, raw JSON bodies."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from sqlalchemy import func, select

from corrections.extensions import db

#: Counters, not records: the rate limiter counts a refused request too (it kept them in Redis,
#: were REDIS_URL set).
BOOKKEEPING = ("rate_limit_hits",)
#: The audit log keeps what a rejected request asked for ("access.refused"): the one thing a
#: refusal stores. Compare the other tables when checking that a refusal stored nothing.
AUDIT_TABLES = ("audit_log", "audit_subjects")


def last_audit_id(app) -> int:
    """The id of the newest audit entry (0 when there is none), to look at what comes after."""
    from corrections.audit.models import AuditEntry

    with app.app_context():
        newest = db.session.scalar(select(func.max(AuditEntry.id))) or 0
        db.session.remove()
    return newest


def audit_actions_since(app, before: int = 0) -> list[str]:
    """The actions of the audit entries with ids above `before`, oldest first."""
    from corrections.audit.models import AuditEntry

    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.id > before).order_by(AuditEntry.id)
            )
        )
        db.session.remove()
    return actions


def row_counts(app, *, ignore: tuple[str, ...] = ()) -> dict[str, int]:
    """How many rows each table holds but the limiter's counts (a rejected request must leave
    these unchanged)."""
    with app.app_context():
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
            if table.name not in ignore and table.name not in BOOKKEEPING
        }
        db.session.remove()
    return counts


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is the CONTRACT error shape with `status`; `field` is named for a 422."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if code is not None:
        assert error["code"] == code, error
    if field is not None:
        fields = error.get("fields") or {}
        assert field in fields, f"expected {field!r} in {fields!r}"
        assert isinstance(fields[field], str) and fields[field].strip()
    if "fields" in error:
        assert isinstance(error["fields"], dict) and error["fields"], error
    return error


def post_raw(client, path: str, body, headers: dict | None = None, content_type="application/json"):
    """POST `body` as is: bytes/str untouched, anything else through json.dumps (NaN allowed)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body, ensure_ascii=False)
    return client.post(path, data=body, headers={**(headers or {}), "Content-Type": content_type})


#: Marks a key to remove from a body in a parametrized case.
DELETE = object()


def mutate(body: dict, path: str, value) -> dict:
    """A copy of `body` with the dotted `path` set to `value` (or removed, with DELETE)."""
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return body


def csrf_token_of(page) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def web_login(client, username: str, password: str, next_url: str | None = None):
    """Sign in through the /login form, as a browser does; returns the form's response."""
    url = "/login" if next_url is None else f"/login?next={quote(next_url, safe='')}"
    token = csrf_token_of(client.get(url))
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})
