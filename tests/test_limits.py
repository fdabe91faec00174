"""Floods and guessing: a per-client limit on failed logins (one client can neither guess across
accounts nor lock them all out), a per-subject limit on check-ins, counts every worker shares,
and expired counts pruned."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
import time

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from corrections import create_app
from corrections.auth import limiter
from corrections.auth.models import RateLimitHit
from corrections.checkin.models import Checkin
from corrections.extensions import db
from tests.api_support import assert_error, row_counts
from tests.factories import PASSWORD, SEAT

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # conftest.DEFAULT_NOW
#: Client addresses (documentation range): only strings in the WSGI environ, never contacted.
ATTACKER, NEIGHBOUR = "192.0.2.66", "192.0.2.10"


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def token_request(client, username="admin", password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def pin_request(client, phone, pin="2468", device_id="phone-1"):
    return client.post(
        "/mobile/v1/auth/login", json={"phone": phone, "pin": pin, "device_id": device_id}
    )


def counts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RateLimitHit))


# --- failed logins per client ---------------------------------------------------------------


def test_fifty_failures_from_one_address_stop_its_logins_whatever_the_account(app, world, at):
    attacker = from_address(app, ATTACKER)
    for n in range(50):  # a few guesses at many names: no one account reaches its own limit
        assert_error(token_request(attacker, f"user{n // 4}", "guess"), 401)
    refused = token_request(attacker)  # the right password, from the same address
    assert_error(refused, 429, code="rate_limited")
    assert int(refused.headers["Retry-After"]) == 15 * 60
    assert_error(pin_request(attacker, "+8613900000001"), 429)
    assert_error(refused, 429)
    # Another address is not affected, nor is the account itself.
    assert token_request(from_address(app, NEIGHBOUR)).status_code == 200
    at(NOW + dt.timedelta(minutes=15))
    assert token_request(attacker).status_code == 200


def test_one_address_cannot_lock_out_every_account(app, world):
    for name in ("li", "wang", "zhao", "sun", "zhou", "wu"):
        world.officer(name)
    attacker = from_address(app, ATTACKER)
    for name in ("li", "wang", "zhao", "sun", "zhou"):
        for _ in range(10):
            assert_error(token_request(attacker, name, "guess"), 401)
    # 50 failures: the address is stopped before it can lock a sixth account.
    for _ in range(10):
        assert_error(token_request(attacker, "wu", "guess"), 429)
    assert token_request(from_address(app, NEIGHBOUR), "wu").status_code == 200


def test_successful_logins_from_one_address_are_not_limited(app, world):
    """Many phones share one carrier NAT address: their logins never count."""
    subjects = [world.subject() for _ in range(3)]
    carrier = from_address(app, NEIGHBOUR)
    for round_ in range(25):
        for subject in subjects:
            response = pin_request(carrier, subject["phone"], device_id=f"phone-{subject['id']}")
            assert response.status_code == 200, round_
        assert token_request(carrier).status_code == 200
    assert counts(app) == 0


def test_the_client_limit_is_configurable(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CLIENT_LOGIN_MAX_FAILURES", 3)
    attacker = from_address(app, ATTACKER)
    for n in range(3):
        assert_error(token_request(attacker, f"user{n}", "guess"), 401)
    assert_error(token_request(attacker), 429)


def test_behind_a_proxy_the_forwarded_address_is_the_client(app, world):
    class BehindProxy(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        PROXY_COUNT = 1
        CLIENT_LOGIN_MAX_FAILURES = 3

    proxied = create_app(BehindProxy)
    proxy = proxied.test_client()
    attacker = {"X-Forwarded-For": ATTACKER}
    for n in range(3):
        body = {"username": f"user{n}", "password": "guess"}
        assert_error(proxy.post("/api/v1/auth/token", json=body, headers=attacker), 401)
    body = {"username": "admin", "password": PASSWORD}
    assert_error(proxy.post("/api/v1/auth/token", json=body, headers=attacker), 429)
    neighbour = {"X-Forwarded-For": NEIGHBOUR}
    assert proxy.post("/api/v1/auth/token", json=body, headers=neighbour).status_code == 200


def test_counts_are_shared_by_every_worker(app, world):
    """Two application processes on one database (two workers, or two servers) share a lock."""

    class SameConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    workers = [app.test_client(), create_app(SameConfig).test_client()]
    for n in range(10):
        assert_error(token_request(workers[n % 2], password="guess"), 401)
    assert_error(token_request(workers[0]), 429)
    assert_error(token_request(workers[1]), 429)


@pytest.fixture
def redis_url(tmp_path):
    """A private Redis server on a Unix socket (no TCP port), when redis-server is installed."""
    pytest.importorskip("redis")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    socket = tmp_path / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.05)  # waiting for a process to start, not timing the code under test
        yield f"redis+unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_with_redis_url_the_counts_live_in_redis(app, world, redis_url):
    from limits.storage import RedisStorage

    from corrections import clock

    clock.set_now(None)  # Redis keeps its own time: the real one

    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = redis_url

    workers = [create_app(WithRedis).test_client() for _ in range(2)]
    assert isinstance(workers[0].application.extensions["rate_limiter"].storage, RedisStorage)
    for n in range(10):
        assert_error(token_request(workers[n % 2], password="guess"), 401)
    locked = token_request(workers[0])
    assert_error(locked, 429)
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert counts(app) == 0  # nothing in the database
    assert isinstance(app.extensions["rate_limiter"].storage, limiter.DatabaseStorage)


# --- pruning --------------------------------------------------------------------------------


def test_failures_of_unknown_names_are_pruned_once_expired(app, world, at):
    client = from_address(app, NEIGHBOUR)
    for n in range(5):
        assert_error(token_request(client, f"nobody-{n}", "guess"), 401)
    assert counts(app) == 10  # five names and the address
    at(NOW + dt.timedelta(minutes=16))
    assert_error(token_request(client, "someone-else", "guess"), 401)
    assert counts(app) == 2  # only the new failure's counts are left


def test_the_scheduler_prunes_expired_counts_and_dead_sessions(app, world, at):
    from corrections.auth.models import OfficerSession
    from corrections.scheduler import SchedulerState, prune_job
    from tests.api_support import web_login

    client = from_address(app, NEIGHBOUR)
    for n in range(3):
        assert_error(token_request(client, f"nobody-{n}", "guess"), 401)
    web_login(app.test_client(), "admin", PASSWORD)  # a session nobody signs out of
    at(NOW + dt.timedelta(minutes=16))
    prune_job(app, SchedulerState(5))
    assert counts(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OfficerSession)) == 1
    at(NOW + dt.timedelta(days=2))  # long past its idle and absolute lifetimes
    prune_job(app, SchedulerState(5))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OfficerSession)) == 0


# --- check-ins per subject ------------------------------------------------------------------


def checkin(client, headers, n: int):
    body = {
        "client_id": f"c-{n}",
        "lat": SEAT[0],
        "lon": SEAT[1],
        "accuracy_m": 20,
        "recorded_at": "2026-11-28T09:59:00+08:00",
    }
    return client.post("/mobile/v1/checkins", json=body, headers=headers)


def test_a_flood_of_checkins_is_refused_with_retry_after(app, client, world, at, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIN_MAX_PER_MINUTE", 5)
    from tests.factories import phone_login

    subject, other = world.subject(), world.subject()
    headers = phone_login(client, subject["phone"])
    for n in range(5):
        assert checkin(client, headers, n).status_code == 201
    before = row_counts(app)
    refused = checkin(client, headers, 99)
    assert_error(refused, 429, code="rate_limited")
    assert int(refused.headers["Retry-After"]) == 60
    assert row_counts(app) == before  # nothing stored
    # Another subject checks in as usual; the flooded one again a minute later.
    assert (
        checkin(client, phone_login(client, other["phone"], device_id="p2"), 1).status_code == 201
    )
    at(NOW + dt.timedelta(seconds=60))
    assert checkin(client, headers, 100).status_code == 201


def test_the_checkin_limit_is_far_above_what_a_phone_sends():
    assert TestingConfig.CHECKIN_MAX_PER_MINUTE == 120
    assert TestingConfig.CLIENT_LOGIN_MAX_FAILURES == 50
    assert TestingConfig.LOGIN_MAX_FAILURES == 10


def test_a_flood_sent_in_parallel_is_counted_one_after_another(app, world, monkeypatch):
    # PostgreSQL counts a check-in inside its write, under the key's lock taken by the read
    # before it: eight phones of one subject at once, a limit of three, exactly three stored.
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises every writing transaction; this is about PostgreSQL")
    monkeypatch.setitem(app.config, "CHECKIN_MAX_PER_MINUTE", 3)
    from tests.factories import phone_login

    subject = world.subject()
    headers = phone_login(app.test_client(), subject["phone"])
    barrier = threading.Barrier(8)
    answers = []

    def send(n):
        client = app.test_client()
        barrier.wait()
        answers.append(checkin(client, headers, n).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [201] * 3 + [429] * 5
    with app.app_context():
        stored = db.session.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.subject_id == subject["id"])
        )
    assert stored == 3


def test_the_checkins_folded_lock_is_the_one_the_limiter_takes(app, world):
    # A refused check-in is counted by limiter.hit() under _lock(key); an accepted one inside
    # its write, under the lock its read took (Folded.lock). They must be one lock, or the two
    # could count past the limit side by side: while a transaction holds the limiter's lock of
    # the subject's key, the check-in's read waits.
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("advisory locks are PostgreSQL's")
    from corrections import clock
    from corrections.checkin.services import SUBJECT_KEY
    from corrections.checkin.store import read_context
    from mobile_api.api import checkin_limit

    subject = world.subject()
    held, read = threading.Event(), threading.Event()

    def checkin_read():
        with app.app_context():
            held.wait(10)
            folded = limiter.folded(checkin_limit(), SUBJECT_KEY)
            read_context(subject["id"], clock.local_today(), clock.now(), folded=folded)
            read.set()
            db.session.rollback()

    with app.test_request_context():
        limiter.hit_in_transaction(checkin_limit(), SUBJECT_KEY.format(subject["id"]))
        reader = threading.Thread(target=checkin_read)
        reader.start()
        held.set()
        assert not read.wait(1.0)  # blocked behind the limiter's lock
        db.session.rollback()
    reader.join(10)
    assert read.is_set()


def test_the_service_counts_a_subjects_checkins_against_the_limit_it_is_given(app, world):
    # record_location_checkin(limit=...) for callers other than the phone's route (SMS and
    # voice check-ins will count the same way): two a minute pass, the third is TooMany and
    # stores nothing, on either engine (counted inside the write on PostgreSQL).
    import datetime as dt

    from corrections import clock
    from corrections.actors import Actor
    from corrections.checkin.services import LocationReport, TooMany, record_location_checkin
    from corrections.checkin.settings import CheckinSettings
    from corrections.subjects.models import Subject

    subject_id = world.subject()["id"]
    two = limiter.Limit("checkins", 2, dt.timedelta(minutes=1))
    with app.test_request_context():
        subject = db.session.get(Subject, subject_id)

        def send(n):
            report = LocationReport(f"s-{n}", SEAT[0], SEAT[1], 20.0, clock.now())
            return record_location_checkin(
                subject,
                report,
                kind="location",
                device_id=None,
                actor=Actor.subject(subject_id, None),
                now=clock.now(),
                settings=CheckinSettings.from_config(app.config),
                limit=two,
            )

        for n in range(2):
            assert send(n).created
            db.session.commit()
        with pytest.raises(TooMany) as refused:
            send(2)
        assert refused.value.wait >= 1
        db.session.rollback()
        stored = db.session.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.subject_id == subject_id)
        )
    assert stored == 2
