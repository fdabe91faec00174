"""What a text input accepts, through every way in: the findings of the security probe.

A NUL or another control character, a direction override, or a required text with nothing
visible in it is refused with 422 naming the field, and nothing is stored (PostgreSQL would
otherwise answer a NUL with a driver error, SQLite would store it). Digits fields take the
digits 0-9 (full-width ones are converted); numbers typed into a form are bounded before they
are converted.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from corrections import text as rules
from corrections.extensions import db
from corrections.subjects.models import Subject
from tests.api_support import AUDIT_TABLES, assert_error, csrf_token_of, row_counts, web_login
from tests.factories import PASSWORD, phone_login, raise_for, subject_body

#: Characters no text field takes, wherever they stand.
REFUSED = {
    "NUL": "王\x00明",
    "NUL alone": "\x00",
    "bell": "王\x07明",
    "escape": "\x1b[31m王明",
    "delete": "王明\x7f",
    "C1 control": "王\x85明",
    "line break": "王\n明",
    "line separator": "王\u2028明",
    "right-to-left override": "王\u202e明",
    "left-to-right isolate": "\u2066王明\u2069",
}
#: Refused in one-line text only: a note may run over several lines.
ONE_LINE_ONLY = (REFUSED["line break"], REFUSED["line separator"])
MULTI_LINE = ("note", "reason")
#: Required text that is blank once the invisible characters are taken out.
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiners": "\u200d\u200c",
    "soft hyphen": "\u00ad",
    "direction marks": "\u200e\u200f",
    "byte order mark": "\ufeff",
    "word joiner and spaces": " \u2060 \u3000",
    "Hangul filler": "\u3164",
    "Braille blank": "\u2800",
}
ARABIC_INDIC = "٢٤٦٨"


@pytest.fixture
def setup(app, client, world, admin):
    """A subject with a logged-in phone and one open alert; returns what the cases need."""
    subject = world.subject(name="王小明")
    with app.app_context():
        alert = raise_for(subject["id"], "geofence_exit", {"distance_outside_m": 900.0}, _now())
        alert_id = alert.id
        db.session.commit()
    return {"subject": subject, "alert": alert_id, "admin": admin, "world": world}


def _now():
    from corrections import clock

    return clock.now()


# --- JSON bodies ---------------------------------------------------------------------------

TOKEN = "/api/v1/auth/token"
OFFICES, OFFICERS, SUBJECTS = "/api/v1/offices", "/api/v1/officers", "/api/v1/subjects"
RESOLVE, DISMISS = "/api/v1/alerts/{alert}/resolve", "/api/v1/alerts/{alert}/dismiss"
PHONE_LOGIN = "/mobile/v1/auth/login"


def token_body(s):
    return {"username": "admin", "password": PASSWORD}


def office_body(s):
    return {"code": "T99", "name": "新所", "lat": 24.5, "lon": 107.1}


def officer_body(s):
    return {
        "username": "newbie",
        "password": "long-enough",
        "role": "officer",
        "office_code": "T01",
    }


def enrol_body(s):
    return subject_body()


def phone_body(s):
    return {"phone": s["subject"]["phone"], "pin": "2468", "device_id": "p-2"}


#: (name, path, a valid body builder, the field, headers: "admin" or None)
JSON_FIELDS = [
    ("token username", TOKEN, token_body, "username", None),
    ("token password", TOKEN, token_body, "password", None),
    ("office code", OFFICES, office_body, "code", "admin"),
    ("office name", OFFICES, office_body, "name", "admin"),
    ("officer office code", OFFICERS, officer_body, "office_code", "admin"),
    ("officer password", OFFICERS, officer_body, "password", "admin"),
    ("subject name", SUBJECTS, enrol_body, "name", "admin"),
    ("subject phone", SUBJECTS, enrol_body, "phone", "admin"),
    ("subject office code", SUBJECTS, enrol_body, "office_code", "admin"),
    ("zone name", SUBJECTS, enrol_body, "zones.0.name", "admin"),
    ("resolve note", RESOLVE, lambda s: {"note": "已核实"}, "note", "admin"),
    ("dismiss reason", DISMISS, lambda s: {"reason": "定位漂移"}, "reason", "admin"),
    ("phone login phone", PHONE_LOGIN, phone_body, "phone", None),
    ("phone login PIN", PHONE_LOGIN, phone_body, "pin", None),
    ("phone login device", PHONE_LOGIN, phone_body, "device_id", None),
]


def _set(body: dict, dotted: str, value) -> dict:
    node = body
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return body


def _delete(body: dict, dotted: str) -> dict:
    node = body
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return body


def _post_json(client, setup, path, body, who):
    headers = setup["admin"] if who == "admin" else {}
    return client.post(path.format(alert=setup["alert"]), json=body, headers=headers)


REFUSED_CASES = [
    pytest.param(case, value, id=f"{case[0]}-{label}")
    for case in JSON_FIELDS
    for label, value in REFUSED.items()
    if not (case[3] in MULTI_LINE and value in ONE_LINE_ONLY)
]


@pytest.mark.parametrize("case, value", REFUSED_CASES)
def test_a_control_character_in_a_json_text_field_is_refused(app, client, setup, case, value):
    _name, path, build, field, who = case
    before = row_counts(app)
    response = _post_json(client, setup, path, _set(build(setup), field, value), who)
    assert_error(response, 422, "validation_error", field=field)
    assert row_counts(app) == before


REQUIRED_JSON_FIELDS = [c for c in JSON_FIELDS if c[0] not in ("officer office code",)]


@pytest.mark.parametrize("value", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("case", REQUIRED_JSON_FIELDS, ids=[c[0] for c in REQUIRED_JSON_FIELDS])
def test_a_required_text_with_nothing_visible_counts_as_missing(app, client, setup, case, value):
    _name, path, build, field, who = case
    before = row_counts(app)
    response = _post_json(client, setup, path, _set(build(setup), field, value), who)
    error = assert_error(response, 422, "validation_error", field=field)
    assert row_counts(app) == before
    missing = _post_json(client, setup, path, _delete(build(setup), field), who)
    assert error["fields"][field] == missing.get_json()["error"]["fields"][field]


def test_invisible_characters_around_a_name_are_not_kept(app, client, setup):
    body = subject_body(name="\u200b\ufeff 陈大文\u00ad\u200e ")
    response = client.post("/api/v1/subjects", json=body, headers=setup["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "陈大文"


def test_a_note_may_have_several_lines_but_no_other_control_character(app, client, setup):
    path = f"/api/v1/alerts/{setup['alert']}/resolve"
    assert_error(
        client.post(path, json={"note": "电话核实\x00"}, headers=setup["admin"]), 422, field="note"
    )
    response = client.post(
        path, json={"note": "电话核实。\r\n\t本人已返回。"}, headers=setup["admin"]
    )
    assert response.status_code == 200, response.get_json()


def test_a_blank_optional_text_is_no_value(app, client, setup):
    body = subject_body(id_number="\u200b ")
    response = client.post("/api/v1/subjects", json=body, headers=setup["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["id_number"] is None


# --- digits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("pin", ARABIC_INDIC),
        ("phone", "١٣٩٠٠٠٠٠١٢٣"),
        ("id_number", "٤٥٠٠٠٠١٩٩٠٠١٠١١٢٣٤"),
        ("checkin.window_start", "٠٨:٠٠"),
    ],
)
def test_digits_fields_take_only_the_digits_0_to_9(app, client, setup, field, value):
    before = row_counts(app)
    body = _set(subject_body(), field, value)
    response = client.post("/api/v1/subjects", json=body, headers=setup["admin"])
    assert_error(response, 422, field=field)
    assert row_counts(app) == before


def test_full_width_digits_are_converted_in_digits_fields(app, client, setup):
    body = subject_body(
        pin="１３５７",
        phone="１３９ ０００９ ９９９９",
        id_number="４５００００１９９００１０１１２３４",
    )
    response = client.post("/api/v1/subjects", json=body, headers=setup["admin"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] == "+8613900099999"
    phone_login(client, "+8613900099999", pin="１３５７")


def test_a_phone_login_with_arabic_indic_digits_is_refused(app, client, setup):
    body = {"phone": setup["subject"]["phone"], "pin": ARABIC_INDIC, "device_id": "p"}
    assert_error(client.post("/mobile/v1/auth/login", json=body), 422, field="pin")


# --- query arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["%00", "%E2%80%AE", "%07", "x%00y"])
@pytest.mark.parametrize(
    "url, arg",
    [
        ("/api/v1/subjects?q={v}", "q"),
        ("/api/v1/subjects?office={v}", "office"),
        ("/api/v1/subjects?status={v}", "status"),
        ("/api/v1/alerts?kind={v}", "kind"),
        ("/api/v1/alerts?office={v}", "office"),
        ("/api/v1/subjects?unknown={v}", "unknown"),
        ("/mobile/v1/checkins?limit={v}", "limit"),
    ],
)
def test_a_control_character_in_a_query_argument_is_refused(app, client, setup, url, arg, value):
    headers = phone_login(client, setup["subject"]["phone"]) if "mobile" in url else setup["admin"]
    before = row_counts(app)
    response = client.get(url.format(v=value), headers=headers)
    assert_error(response, 422, "validation_error", field=arg)
    assert row_counts(app) == before, "a refused search is not audited"


def test_a_nul_search_does_not_match_everyone(app, client, setup):
    setup["world"].subject(name="李四")
    assert_error(client.get("/api/v1/subjects?q=%00", headers=setup["admin"]), 422, field="q")
    web_login(client, "admin", PASSWORD)
    page = client.get("/subjects?q=%00")
    assert page.status_code == 422
    assert "王小明" not in page.text and "李四" not in page.text


def test_a_search_with_nothing_visible_is_no_search(app, client, setup):
    setup["world"].subject(name="李四")
    response = client.get(f"/api/v1/subjects?q={quote(chr(0x200B))}", headers=setup["admin"])
    assert response.status_code == 200
    assert response.get_json()["total"] == 2


@pytest.mark.parametrize("value", ["٣", "9" * 5000, "-" + "9" * 5000, "1_0", "3.0", "३"])
def test_a_whole_number_query_argument_takes_the_digits_0_to_9(app, client, setup, value):
    url = f"/api/v1/subjects/{setup['subject']['id']}/checkins?limit={quote(value)}"
    assert_error(client.get(url, headers=setup["admin"]), 422, field="limit")


def test_a_record_id_in_a_path_takes_the_digits_0_to_9(app, client, setup):
    arabic = "".join(chr(0x0660 + int(d)) for d in str(setup["subject"]["id"]))
    assert_error(client.get(f"/api/v1/subjects/{arabic}", headers=setup["admin"]), 404)
    assert (
        client.get(f"/api/v1/subjects/{setup['subject']['id']}", headers=setup["admin"]).status_code
        == 200
    )


# --- web forms -----------------------------------------------------------------------------


def _enrol_fields(**overrides) -> dict:
    fields = {
        "name": "陈大文",
        "phone": "139 0000 0123",
        "pin": "2468",
        "office_code": "T01",
        "category": "parole",
        "level": "strict",
        "supervision_start": "2026-11-20",
        "supervision_end": "2027-11-19",
        "home_lat": "24.70",
        "home_lon": "107.50",
        "every_days": "2",
        "window_start": "08:00",
        "window_end": "20:00",
        "zones-0-kind": "allowed",
        "zones-0-name": "县城",
        "zones-0-radius_m": "5000",
    }
    fields.update(overrides)
    return fields


def _enrol(client, signed_in: bool = False, **overrides):
    if not signed_in:
        web_login(client, "admin", PASSWORD)
    token = csrf_token_of(client.get("/subjects/new"))
    return client.post("/subjects/new", data={"csrf_token": token, **_enrol_fields(**overrides)})


def test_the_enrol_form_itself_is_good(app, client, setup):
    assert _enrol(client).status_code == 302


@pytest.mark.parametrize("value", [*REFUSED.values(), *INVISIBLE.values()])
@pytest.mark.parametrize("field", ["name", "phone", "zones-0-name"])
def test_the_enrol_form_refuses_bad_text_beside_the_field(app, client, setup, field, value):
    web_login(client, "admin", PASSWORD)  # a sign-in is a session and an audit row
    before = row_counts(app, ignore=("api_tokens",))
    response = _enrol(client, signed_in=True, **{field: value})
    assert response.status_code == 422, response.text[:300]
    assert f'id="{field}-error"' in response.text
    assert row_counts(app, ignore=("api_tokens",)) == before


@pytest.mark.parametrize(
    "field", ["every_days", "home_lat", "zones-0-radius_m", "video_every_days"]
)
@pytest.mark.parametrize("value", ["9" * 5000, "-" + "9" * 5000, "1" + "0" * 4400 + ".5"])
def test_a_huge_number_in_the_enrol_form_is_refused_not_a_server_error(
    app, client, setup, field, value
):
    web_login(client, "admin", PASSWORD)
    before = row_counts(app, ignore=("api_tokens",))
    response = _enrol(client, signed_in=True, **{field: value})
    assert response.status_code == 422, response.text[:300]
    target = "home_lat" if field == "home_lat" else field
    assert f'id="{target}-error"' in response.text
    assert row_counts(app, ignore=("api_tokens",)) == before


@pytest.mark.parametrize(
    "field, value",
    [
        ("every_days", "٣"),
        ("home_lat", "٢٤.٧"),
        ("zones-0-radius_m", "٥٠٠٠"),
        ("pin", ARABIC_INDIC),
    ],
)
def test_the_enrol_form_takes_numbers_in_the_digits_0_to_9(app, client, setup, field, value):
    response = _enrol(client, **{field: value})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text


def test_the_enrol_form_still_converts_full_width_digits(app, client, setup):
    response = _enrol(client, every_days="３", home_lat="２４．７", pin="１３５７")
    assert response.status_code == 302, response.text[:300]
    with app.app_context():
        subject = db.session.scalar(select(Subject).where(Subject.name == "陈大文"))
        assert subject.home_lat == 24.7


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_the_login_form_refuses_a_control_character_in_the_username(app, client, setup, value):
    before = row_counts(app)
    response = web_login(client, value, PASSWORD)
    assert response.status_code == 422
    assert 'id="username-error"' in response.text
    assert row_counts(app) == before, "a refused login is not counted as a try"


@pytest.mark.parametrize("step, field", [("resolve", "note"), ("dismiss", "reason")])
@pytest.mark.parametrize("value", ["已核实\x00", "\u200b\u00ad", "王\u202e明"])
def test_the_alert_step_forms_refuse_bad_text(app, client, setup, step, field, value):
    web_login(client, "admin", PASSWORD)
    page = client.get(f"/alerts/{setup['alert']}")
    before = row_counts(app, ignore=AUDIT_TABLES)
    response = client.post(
        f"/alerts/{setup['alert']}/{step}",
        data={"csrf_token": csrf_token_of(page), field: value},
    )
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error"', response.text)
    # The page shown again is a read of the alert (audited); nothing else is stored.
    assert row_counts(app, ignore=AUDIT_TABLES) == before


# --- the rule itself (corrections.text), without the app ---------------------------------


@pytest.mark.parametrize(
    "value, multiline, kept",
    [
        ("王小明", False, "王小明"),
        ("  王小明\u3000", False, "王小明"),
        ("\u200b\ufeff王小明\u00ad\u200e", False, "王小明"),
        ("王\u200d小明", False, "王\u200d小明"),  # inside, a joiner stays
        ("\u200b", False, ""),
        ("\u2800\u3164\u115f", False, ""),
        ("电话核实。\r\n\t本人已返回。\n", True, "电话核实。\r\n\t本人已返回。"),
        ("👨\u200d👩\u200d👧", False, "👨\u200d👩\u200d👧"),
    ],
)
def test_what_the_rule_keeps(value, multiline, kept):
    assert rules.clean(value, multiline=multiline) == kept


@pytest.mark.parametrize(
    "value, multiline",
    [
        ("\x00", False),
        ("\x00", True),
        ("王\x1f明", True),
        ("王\x7f", True),
        ("王\x9b明", True),
        ("王\n明", False),
        ("王\u2029明", False),
        ("王\u202e明", True),
        ("\u202a王", False),
        ("王\u2068明\u2069", True),
        ("\ud800", False),
    ],
)
def test_what_the_rule_refuses(value, multiline):
    with pytest.raises(rules.TextRefused):
        rules.clean(value, multiline=multiline)


def test_a_password_is_kept_as_typed_unless_blank():
    assert rules.clean(" pass word ", strip=False) == " pass word "
    assert rules.clean("\u200b\u200b", strip=False) == ""


@pytest.mark.parametrize(
    "value, digits", [("２４６８", "2468"), ("+86 １３９", "+86 139"), ("2468", "2468")]
)
def test_full_width_digits_become_ascii(value, digits):
    assert rules.ascii_digits(value) == digits


@pytest.mark.parametrize("value", ["٢٤٦٨", "۲۴۶۸", "२४६८", "১২", "12٣"])
def test_other_scripts_digits_are_refused(value):
    with pytest.raises(rules.TextRefused):
        rules.ascii_digits(value)


@given(st.text())
def test_whatever_the_rule_keeps_is_clean_and_stays_so(value):
    try:
        kept = rules.clean(value)
    except rules.TextRefused:
        return
    assert rules.clean(kept) == kept  # idempotent
    assert not kept or not rules.is_blank(kept)
    assert not any(unicodedata.category(c) == "Cc" for c in kept)
    assert not any(c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for c in kept)
    assert rules.trim(kept) == kept
