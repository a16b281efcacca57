"""Login and guessing defences: no timing tell for unknown names, failed attempts limited per address, booking
codes not revealed on cancel, /display snapshot asks limited, argon2 hashes bounded in number."""

from __future__ import annotations

import os
import threading

from sqlalchemy import func, select

from hall.models import AuditEntry
from hall.passwords import HASH_NICENESS, Passwords, hash_slots
from tests.factories import error_code
from tests.web.test_appointments import at, book, person


def from_address(app, address: str):
    """A test client whose requests come from ``address``."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


def test_an_unknown_username_costs_an_argon2_verification_like_a_real_one(app, svc) -> None:
    # No timing here: while the test holds every hash slot, a login for a name that does not exist must wait for
    # one, because it verifies the password against a dummy hash exactly as for a real account.
    passwords = svc.passwords
    for _ in range(passwords.slots):
        passwords._gate.acquire()
    answers: list[int] = []
    c = app.test_client()
    worker = threading.Thread(
        target=lambda: answers.append(
            c.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "x"}).status_code
        )
    )
    worker.start()
    worker.join(timeout=0.5)
    blocked = worker.is_alive()
    for _ in range(passwords.slots):
        passwords._gate.release()
    worker.join()
    assert blocked, "the unknown name waited for a hash slot"
    assert answers == [401]


def test_failed_logins_are_limited_per_address_whatever_the_username(app, svc) -> None:
    attacker = from_address(app, "10.0.0.66")
    codes = [
        attacker.post("/api/v1/auth/login", json={"username": f"guess{n}", "password": "x"}).status_code
        for n in range(25)
    ]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    r = attacker.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"})
    assert r.status_code == 429 and error_code(r) == "too_many"
    with svc.db.read() as session:
        rows = session.scalar(select(func.count()).where(AuditEntry.action == "auth.login_failed"))
    assert rows == 20, "refused attempts write no audit rows"
    clerk = from_address(app, "10.0.0.7")
    assert clerk.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"}).status_code == 200


def test_successful_logins_do_not_use_up_the_address_limit(app) -> None:
    desk = from_address(app, "10.0.0.8")  # one PC where the clerks of a shift log in one after another
    for n in range(25):
        name = f"clerk{n % 8 + 1}"
        assert desk.post("/api/v1/auth/login", json={"username": name, "password": "demo"}).status_code == 200


def test_booking_cancel_answers_alike_for_an_unknown_code_and_another_persons_booking(app) -> None:
    citizen = from_address(app, "10.0.1.5")
    code = book(citizen, at("14:00"))["booking"]["code"]
    unknown = "000000" if code != "000000" else "000001"
    wrong_owner = citizen.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": person(3)})
    no_such = citizen.post(f"/api/v1/appointments/{unknown}/cancel", json={"id_number": person(3)})
    assert (wrong_owner.status_code, wrong_owner.get_json()) == (no_such.status_code, no_such.get_json())
    assert wrong_owner.status_code == 404 and error_code(wrong_owner) == "booking_not_found"


def test_booking_code_guessing_is_rate_limited(app) -> None:
    guesser = from_address(app, "10.0.1.6")
    codes = [
        guesser.post(f"/api/v1/appointments/{n:06d}/cancel", json={"id_number": person(4)}).status_code
        for n in range(12)
    ]
    assert codes[:10] == [404] * 10 and set(codes[10:]) == {429}
    owner = from_address(app, "10.0.1.7")
    code = book(owner, at("15:00"), who=2)["booking"]["code"]
    assert owner.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": person(2)}).status_code == 200


def test_display_snapshot_requests_are_limited_per_client(app) -> None:
    socketio = app.extensions["hall.socketio"]
    display = socketio.test_client(app, namespace="/display")
    display.get_received("/display")  # the snapshot sent on connect
    for _ in range(30):
        display.emit("snapshot", namespace="/display")
    names = [e["name"] for e in display.get_received("/display")]
    assert names.count("snapshot") == 10
    assert "rate_limited" in names


def test_argon2_runs_at_most_half_the_cores_at_once() -> None:
    assert [hash_slots(n) for n in (1, 2, 4, 8)] == [1, 1, 2, 4]
    passwords = Passwords(fast=True, slots=1)
    stored = passwords.hash("secret-1")
    passwords._gate.acquire()
    done: list[bool] = []
    worker = threading.Thread(target=lambda: done.append(passwords.verify(stored, "secret-1")))
    worker.start()
    worker.join(timeout=0.3)
    waiting = worker.is_alive()
    passwords._gate.release()
    worker.join()
    assert waiting and done == [True], "the second hash waited for the slot"
    assert passwords.verify(None, "secret-1") is False
    production = Passwords()
    assert production.needs_rehash(stored), "production parameters are stronger than the test profile"
    niceness = production._run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert niceness >= os.getpriority(os.PRIO_PROCESS, 0) and niceness >= HASH_NICENESS, "hashes yield the CPU"


def test_limit_counters_are_kept_in_a_file_and_survive_a_restart(db_path, clock) -> None:
    from app import create_app
    from tests.conftest import make_config

    def started():
        return create_app(make_config(db_path, clock, AUTO_MIGRATE=False))

    def stopped(app) -> None:
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()

    first = started()
    assert first.config["RATELIMIT_STORAGE_URI"] == f"hallsqlite://{db_path.parent / 'limits.db'}"
    for n in range(20):
        r = from_address(first, "10.0.2.9").post("/api/v1/auth/login", json={"username": f"g{n}", "password": "x"})
        assert r.status_code == 401
    stopped(first)
    restarted = started()  # a new process would read the same file: nothing of the old app is in memory
    r = from_address(restarted, "10.0.2.9").post("/api/v1/auth/login", json={"username": "g", "password": "x"})
    assert r.status_code == 429, "the counters outlived the restart"
    stopped(restarted)


def test_failed_logins_for_one_username_are_limited_from_any_address(app) -> None:
    wrong = {"username": "clerk2", "password": "x"}
    for n in range(30):
        assert from_address(app, f"10.0.3.{n + 1}").post("/api/v1/auth/login", json=wrong).status_code == 401
    r = from_address(app, "10.0.3.200").post("/api/v1/auth/login", json=wrong)
    assert r.status_code == 429 and error_code(r) == "too_many"
    other = from_address(app, "10.0.3.201").post("/api/v1/auth/login", json={"username": "clerk3", "password": "demo"})
    assert other.status_code == 200, "other accounts are not affected"
