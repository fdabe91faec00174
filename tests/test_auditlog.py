"""The bureau's audit page: who may open it, what its filters find, the CSV export; both audited."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io

import pytest
from sqlalchemy import select

from corrections import clock
from corrections.actors import Actor
from corrections.audit.models import AuditEntry, AuditSubject
from corrections.audit.services import record
from corrections.auth.models import Officer
from corrections.extensions import db
from tests.api_support import web_login
from tests.factories import PASSWORD

ADDRESS = "198.51.100.23"


@pytest.fixture
def bureau(world):
    """Two offices, an officer each, a supervisor, a viewer; three subjects; a few entries."""
    world.office(code="T02", name="第二司法所", lat=24.9, lon=107.8)
    world.officer("li", office_code="T01")
    world.officer("zhao", office_code="T02")
    world.officer("boss", role="supervisor")
    world.officer("wall", role="viewer")
    people = {
        "wang": world.subject(name="王小明")["id"],
        "ouyang": world.subject(name="欧阳建华", office_code="T02")["id"],
        "chen": world.subject(name="陈静")["id"],
    }
    with world.app.app_context():
        ids = {o.username: o.id for o in db.session.scalars(select(Officer))}
        # Start from a clean log (enrolment wrote rows).
        db.session.execute(AuditSubject.__table__.delete())
        db.session.execute(AuditEntry.__table__.delete())
        li = Actor.officer(ids["li"], "10.0.0.5")
        zhao = Actor.officer(ids["zhao"], "10.0.0.9")
        # Saturday 2026-11-28 in Asia/Shanghai starts at 2026-11-27T16:00Z.
        at = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 28th
        record(
            "subject.list",
            li,
            at,
            shown=[people["wang"], people["chen"]],
            detail={"ids": [people["wang"], people["chen"]], "args": {"q": "王"}},
        )
        record("subject.read", li, at + dt.timedelta(minutes=1), subject_id=people["wang"])
        earlier = dt.datetime(2026, 11, 27, 15, 59, tzinfo=dt.UTC)  # 23:59 on the 27th
        record("subject.read", zhao, earlier, subject_id=people["ouyang"])
        record(
            "subject.login",
            Actor.subject(people["chen"], "10.1.1.1"),
            earlier,
            subject_id=people["chen"],
            detail={"device_id": "p1"},
        )
        db.session.commit()
    return {"people": people, "officers": ids, "world": world}


@pytest.fixture
def page(client, bureau):
    """A client signed in as the supervisor, calling from ADDRESS, reading English."""
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    client.set_cookie("lang", "en")
    web_login(client, "boss", PASSWORD)
    return client


def entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return rows


def table_of(page: str) -> str:
    """The rows of the page's table, as text a person reads (entities undone)."""
    if "<tbody>" not in page:
        return ""
    return html.unescape(page[page.index("<tbody>") : page.index("</tbody>")])


@pytest.mark.parametrize("who", ["admin", "boss"])
def test_admins_and_supervisors_open_the_audit_page(client, bureau, who):
    web_login(client, who, PASSWORD)
    response = client.get("/admin/audit")
    assert response.status_code == 200
    assert "审计日志" in response.text  # Chinese by default
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", ["li", "wall"])
def test_office_officers_and_the_wall_may_not_and_the_attempt_is_audited(app, client, bureau, who):
    web_login(client, who, PASSWORD)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
    refused = entries(app, "access.refused")
    assert [r.detail["path"] for r in refused] == ["/admin/audit", "/admin/audit/export.csv"]
    assert entries(app, "audit.read") == entries(app, "audit.export") == []


def test_the_page_shows_who_what_whom_when_and_from_where(page, bureau):
    body = table_of(page.get("/admin/audit").text)
    assert "li" in body and "zhao" in body and "陈静's phone" in body
    assert "Opened a subject's file" in body and "Looked at a list of subjects" in body
    assert "2026-11-28 00:30:00" in body  # in TIMEZONE, not UTC
    assert "10.0.0.5" in body
    assert "2 people shown (searched: Name or phone number: 王)" in body


def test_searching_by_officer(page, bureau):
    body = table_of(page.get(f"/admin/audit?officer={bureau['officers']['zhao']}").text)
    assert "欧阳建华" in body and "王小明" not in body


def test_searching_by_name_finds_the_lists_the_person_appeared_in(page, bureau):
    body = table_of(page.get("/admin/audit", query_string={"subject": "陈静"}).text)
    assert "Looked at a list of subjects" in body  # the list that showed 陈静 among others
    assert "Subject's phone signed in" in body  # and what 陈静's own phone did
    assert "Opened a subject's file" not in body  # 王小明's file, not 陈静's


def test_searching_by_subject_number(page, bureau):
    wang = bureau["people"]["wang"]
    body = table_of(page.get(f"/admin/audit?subject={wang}").text)
    assert body.count("<tr") == 2  # the list and the file


def test_searching_by_action_and_by_local_day(page, bureau):
    body = table_of(page.get("/admin/audit?action=subject.read&from=2026-11-28&to=2026-11-28").text)
    assert body.count("<tr") == 1 and "王小明" in body  # 23:59 on the 27th is another day
    body = table_of(page.get("/admin/audit?action=subject.read&to=2026-11-27").text)
    assert body.count("<tr") == 1 and "欧阳建华" in body


def test_a_wrong_day_is_said_beside_the_field(page, bureau):
    response = page.get("/admin/audit?from=28/11/2026")
    assert response.status_code == 200
    assert "Write the day as YYYY-MM-DD" in response.text


def test_reading_the_log_is_itself_audited_with_the_search_and_the_names_shown(app, page, bureau):
    page.get("/admin/audit", query_string={"subject": "陈静", "action": "subject.list"})
    [row] = entries(app, "audit.read")
    assert row.actor_id == bureau["officers"]["boss"] and row.ip == ADDRESS
    assert row.detail["filters"] == {"subject": "陈静", "action": "subject.list"}
    with app.app_context():
        shown = set(
            db.session.scalars(
                select(AuditSubject.subject_id).where(AuditSubject.entry_id == row.id)
            )
        )
    assert shown == {bureau["people"]["wang"], bureau["people"]["chen"]}


def test_paging_keeps_the_filters(page, bureau):
    with bureau["world"].app.app_context():
        actor = Actor.officer(bureau["officers"]["li"], None)
        for minute in range(60):
            record("alert.list", actor, clock.now() - dt.timedelta(minutes=minute), detail={})
        db.session.commit()
    first = page.get("/admin/audit?action=alert.list")
    assert table_of(first.text).count("<tr") == 50
    assert "action=alert.list" in first.text[first.text.index('class="pager"') :]
    second = page.get("/admin/audit?action=alert.list&page=2")
    assert table_of(second.text).count("<tr") == 10


# --- the export ------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads the Chinese right
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_export_is_csv_with_the_filters_applied(page, bureau):
    response = page.get("/admin/audit/export.csv?action=subject.read")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert [r["subject_name"] for r in rows] == ["王小明", "欧阳建华"]  # newest first
    assert rows[0]["actor"] == "li" and rows[0]["ip"] == "10.0.0.5"
    assert rows[0]["at_local"] == "2026-11-28 00:31:00"
    assert rows[0]["at_utc"] == "2026-11-27T16:31:00Z"


def test_the_export_names_every_subject_a_list_showed(page, bureau):
    [row] = read_csv(page.get("/admin/audit/export.csv?action=subject.list"))
    wang, chen = bureau["people"]["wang"], bureau["people"]["chen"]
    assert row["shown_subject_ids"] == " ".join(str(i) for i in sorted((wang, chen)))


def test_the_export_is_audited_before_it_streams(app, page, bureau):
    response = page.get("/admin/audit/export.csv?officer=" + str(bureau["officers"]["li"]))
    [row] = entries(app, "audit.export")
    assert row.detail == {"filters": {"officer_id": bureau["officers"]["li"]}, "entries": 2}
    assert row.ip == ADDRESS
    assert len(read_csv(response)) == 2


def test_a_large_log_is_exported_whole_in_batches(page, bureau, monkeypatch):
    from corrections.auditlog import services

    monkeypatch.setattr(services, "EXPORT_BATCH", 7)
    with bureau["world"].app.app_context():
        actor = Actor.officer(bureau["officers"]["li"], None)
        same_moment = clock.now()  # many at one instant: the keyset must not skip or repeat
        for _ in range(30):
            record("alert.list", actor, same_moment, detail={})
        db.session.commit()
    rows = read_csv(page.get("/admin/audit/export.csv?action=alert.list"))
    assert len(rows) == 30 and len({r["id"] for r in rows}) == 30


def test_what_people_typed_cannot_become_a_spreadsheet_formula(page, bureau):
    with bureau["world"].app.app_context():
        actor = Actor.officer(bureau["officers"]["li"], "=cmd|' /C calc'!A0")
        record("subject.list", actor, clock.now(), detail={"args": {"q": "=1+1"}})
        db.session.commit()
    rows = read_csv(page.get("/admin/audit/export.csv?action=subject.list"))
    [typed] = [r for r in rows if "calc" in r["ip"]]
    assert typed["ip"].startswith("'=")
