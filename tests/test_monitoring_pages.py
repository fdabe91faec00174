"""The monitoring orders on the subject's page: the list, the request form, approve and end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from corrections.extensions import db
from corrections.monitoring.models import MonitoringOrder
from tests.api_support import csrf_token_of, row_counts, web_login
from tests.factories import PASSWORD

FORM = {
    "ground": "court_prohibition_breach",
    "starts_on": "2026-11-28",
    "ends_on": "2027-02-28",
    "reason": "违反禁止令进入酒吧",
}


@pytest.fixture
def scene(app, world):
    world.officer("li", office_code="T01")
    world.officer("boss", role="supervisor")
    return {"subject": world.subject(name="王小明")["id"]}


def signed_in(app, username: str):
    client = app.test_client()
    assert web_login(client, username, PASSWORD).status_code == 302
    return client


def subject_page(client, scene) -> str:
    response = client.get(f"/subjects/{scene['subject']}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, path: str, data: dict, scene):
    token = csrf_token_of(client.get(f"/subjects/{scene['subject']}"))
    return client.post(path, data={**data, "csrf_token": token})


def orders(app) -> list[MonitoringOrder]:
    with app.app_context():
        found = list(db.session.scalars(select(MonitoringOrder).order_by(MonitoringOrder.id)))
        for order in found:
            db.session.expunge(order)
        db.session.remove()
    return found


def test_the_subject_page_offers_a_request_with_the_statutory_grounds(app, scene):
    page = subject_page(signed_in(app, "li"), scene)
    assert "电子定位监管" in page
    assert "违反人民法院禁止令" in page
    assert "无正当理由，未经批准离开所居住的市、县" in page
    assert 'type="date"' in page
    assert "没有电子定位监管" in page


def test_an_officer_requests_and_the_page_shows_it_waiting(app, scene):
    client = signed_in(app, "li")
    response = post(client, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/subjects/{scene['subject']}#monitoring")
    (order,) = orders(app)
    assert (order.status, order.ground, str(order.ends_on)) == (
        "pending",
        FORM["ground"],
        "2027-02-28",
    )
    page = subject_page(client, scene)
    assert "2026-11-28 – 2027-02-28" in page
    assert "等待审批" in page
    # An office officer may withdraw it but not approve it.
    assert f"/monitoring-orders/{order.id}/approve" not in page
    assert f"/monitoring-orders/{order.id}/end" in page


def test_a_supervisor_approves_from_the_page_and_an_officer_ends_it(app, scene):
    li = signed_in(app, "li")
    post(li, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    (order,) = orders(app)
    boss = signed_in(app, "boss")
    assert f"/monitoring-orders/{order.id}/approve" in subject_page(boss, scene)
    assert post(boss, f"/monitoring-orders/{order.id}/approve", {}, scene).status_code == 302
    assert orders(app)[0].status == "approved"
    page = subject_page(li, scene)
    assert "执行中" in page
    assert (
        post(li, f"/monitoring-orders/{order.id}/end", {"reason": "已解除"}, scene).status_code
        == 302
    )
    assert orders(app)[0].status == "ended"
    assert f"/monitoring-orders/{order.id}/end" not in subject_page(li, scene)


def test_an_officer_cannot_approve_by_posting(app, scene):
    li = signed_in(app, "li")
    post(li, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    (order,) = orders(app)
    assert post(li, f"/monitoring-orders/{order.id}/approve", {}, scene).status_code == 403
    assert orders(app)[0].status == "pending"


def test_a_term_over_three_months_comes_back_422_with_the_problem_and_what_was_typed(app, scene):
    client = signed_in(app, "li")
    before = row_counts(app, ignore=("audit_log", "audit_subjects"))
    form = {**FORM, "ends_on": "2027-03-01"}
    response = post(client, f"/subjects/{scene['subject']}/monitoring-orders", form, scene)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "尚未保存" in page
    assert "2027-02-28" in page  # the latest day it may run to
    assert 'value="2027-03-01"' in page
    # F5 reloads the orders page rather than sending the form again.
    canonical = f'data-canonical-url="/subjects/{scene["subject"]}/monitoring-orders#order-form"'
    assert canonical in page
    assert FORM["reason"] in page
    assert row_counts(app, ignore=("audit_log", "audit_subjects")) == before


def test_dates_typed_the_chinese_way_are_taken(app, scene):
    client = signed_in(app, "li")
    form = {**FORM, "starts_on": "２０２６年11月28日", "ends_on": "2027/2/28"}
    response = post(client, f"/subjects/{scene['subject']}/monitoring-orders", form, scene)
    assert response.status_code == 302
    assert str(orders(app)[0].starts_on) == "2026-11-28"


def test_a_missing_ground_and_reason_are_named(app, scene):
    client = signed_in(app, "li")
    form = {**FORM, "ground": "", "reason": "\u200b"}
    response = post(client, f"/subjects/{scene['subject']}/monitoring-orders", form, scene)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') == 2
    assert orders(app) == []


def test_ending_without_a_reason_comes_back_422(app, scene):
    client = signed_in(app, "li")
    post(client, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    (order,) = orders(app)
    response = post(client, f"/monitoring-orders/{order.id}/end", {"reason": " "}, scene)
    assert response.status_code == 422
    assert f'id="end-reason-{order.id}-error"' in response.get_data(as_text=True)
    assert orders(app)[0].status == "pending"


def test_an_overlapping_approval_says_why_on_the_page(app, scene):
    li, boss = signed_in(app, "li"), signed_in(app, "boss")
    post(li, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    post(li, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    first, second = orders(app)
    post(boss, f"/monitoring-orders/{first.id}/approve", {}, scene)
    response = post(boss, f"/monitoring-orders/{second.id}/approve", {}, scene)
    assert response.status_code == 302
    page = boss.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026-11-28" in page and 'class="flash flash-error"' in page
    assert orders(app)[1].status == "pending"


def test_english_readers_get_the_english_gloss(app, scene):
    client = signed_in(app, "li")
    client.set_cookie("lang", "en")
    page = subject_page(client, scene)
    assert "Electronic monitoring orders" in page
    assert "Breach of a court prohibition order (违反人民法院禁止令)" in page


def test_the_supervisor_approves_from_the_list_of_waiting_requests(app, scene):
    li, boss = signed_in(app, "li"), signed_in(app, "boss")
    post(li, f"/subjects/{scene['subject']}/monitoring-orders", FORM, scene)
    (order,) = orders(app)
    page = boss.get("/monitoring-orders").get_data(as_text=True)
    assert "王小明" in page and "违反人民法院禁止令" in page
    assert f"/monitoring-orders/{order.id}/approve" in page
    assert 'href="/monitoring-orders"' in page  # in the main menu
    response = post(boss, f"/monitoring-orders/{order.id}/approve", {"back": "list"}, scene)
    assert response.headers["Location"].endswith("/monitoring-orders")
    assert "王小明" not in boss.get("/monitoring-orders").get_data(as_text=True)
    assert "王小明" in boss.get("/monitoring-orders?status=approved").get_data(as_text=True)
    # An office officer sees the list without the approve button.
    assert "/approve" not in li.get("/monitoring-orders?status=all").get_data(as_text=True)
