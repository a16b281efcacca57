"""Who may do what, and how bad input is refused: one JSON error shape, 4xx, nothing half-written."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.factories import act, elderly_id, error_code, issue, item_code

WINDOW_ACTIONS = ["call-next", "recall", "no-show", "start", "complete", "pause", "open", "close", "resume"]


@pytest.mark.parametrize("action", WINDOW_ACTIONS + ["transfer", "park"])
def test_anonymous_gets_401_on_every_window_action(client, action) -> None:
    r = client.post(f"/api/v1/windows/1/{action}", json={})
    assert r.status_code == 401 and error_code(r) == "unauthenticated"


@pytest.mark.parametrize("action", WINDOW_ACTIONS)
def test_a_clerk_of_another_window_gets_403(staff, action) -> None:
    r = staff("clerk2").post(f"/api/v1/windows/1/{action}")
    assert r.status_code == 403 and error_code(r) == "wrong_window"


def test_the_kiosk_device_can_issue_but_not_call(kiosk) -> None:
    issue(kiosk)
    r = kiosk.post("/api/v1/windows/1/call-next")
    assert r.status_code == 403 and error_code(r) == "forbidden_role"


@pytest.mark.parametrize("username", ["leader", "manager", "admin"])
def test_supervisors_may_act_on_any_window(kiosk, staff, username) -> None:
    issue(kiosk)
    assert act(staff(username), 3, "call-next")["ticket"]["window"] == 3


def test_staff_can_issue_at_the_guide_desk(staff) -> None:
    clerk = staff("clerk1")
    t = issue(clerk, [item_code(clerk)], channel="guide")
    assert t["channel"] == "guide"


def test_anonymous_cannot_issue_and_unknown_tokens_are_anonymous(client, app) -> None:
    r = client.post("/api/v1/tickets", json={"items": ["YB001"]})
    assert r.status_code == 401
    bad = app.test_client()
    bad.environ_base["HTTP_AUTHORIZATION"] = "Bearer not-a-real-token"
    assert bad.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 401


def test_ticket_read_needs_staff_or_the_tracking_secret(kiosk, client, staff) -> None:
    t = issue(kiosk)
    token = t["track_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/tickets/{t['id']}").status_code == 401
    assert client.get(f"/api/v1/tickets/{t['id']}?token=nope").status_code == 403
    other = issue(kiosk)
    other_token = other["track_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/tickets/{t['id']}?token={other_token}").status_code == 403
    mine = client.get(f"/api/v1/tickets/{t['id']}?token={token}")
    assert mine.status_code == 200 and mine.get_json()["ticket"]["number"] == t["number"]
    assert staff("clerk5").get(f"/api/v1/tickets/{t['id']}").status_code == 200
    assert staff("clerk5").get("/api/v1/tickets/999999").status_code == 404


def test_login_logout_and_me(app) -> None:
    c = app.test_client()
    assert c.get("/api/v1/auth/me").status_code == 401
    r = c.post("/api/v1/auth/login", json={"username": "clerk3", "password": "wrong"})
    assert r.status_code == 401 and error_code(r) == "bad_credentials"
    c = login(app, "clerk3")
    me = c.get("/api/v1/auth/me").get_json()["user"]
    assert me["username"] == "clerk3" and me["role"] == "clerk" and me["window"] == 3
    assert c.post("/api/v1/auth/logout").status_code == 204
    assert c.get("/api/v1/auth/me").status_code == 401


def test_demo_accounts_are_refused_in_production(app) -> None:
    app.extensions["hall"].production = True
    r = app.test_client().post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"})
    assert r.status_code == 403 and error_code(r) == "demo_account_disabled"


def test_passwords_are_stored_as_argon2_hashes(svc) -> None:
    from sqlalchemy import select

    from hall.models import User

    with svc.db.read() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


BAD_ISSUES = [
    ({"items": []}, 422, "invalid"),
    ({"items": ["NOPE"]}, 422, "unknown_item"),
    ({"items": ["YB001", "YB002", "YB003"]}, 422, "invalid"),
    ({"items": "YB001"}, 422, "invalid"),
    ({"items": ["YB001"], "priority": "vip"}, 422, "invalid"),
    ({"items": ["YB001"], "channel": "fax"}, 422, "invalid"),
    ({"items": ["YB001"], "color": "red"}, 422, "invalid"),
    ({"items": ["YB001"], "id_number": "110101195001011230"}, 422, "id_checksum"),
    ({"items": ["YB001"], "id_number": "12345"}, 422, "id_format"),
    ({}, 422, "invalid"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_ISSUES)
def test_bad_issue_requests_are_refused_and_burn_no_number(kiosk, body, status, code) -> None:
    r = kiosk.post("/api/v1/tickets", json=body)
    assert r.status_code == status and error_code(r) == code
    assert issue(kiosk)["number"] == "A001"  # nothing half-written: the counter did not move


def test_elderly_priority_checks_the_age_from_the_id(kiosk) -> None:
    young = "110101" + "20000101" + "123"
    from hall.idcard import make_valid

    r = kiosk.post("/api/v1/tickets", json={"items": ["YB001"], "priority": "elderly", "id_number": make_valid(young)})
    assert r.status_code == 422 and error_code(r) == "not_elderly"
    t = issue(kiosk, ["YB001"], priority="elderly", id_number=elderly_id(1950))
    assert t["number"] == "L001" and t["id_masked"] == "1101**********" + elderly_id(1950)[-4:]


def test_joint_ticket_needs_two_departments(kiosk) -> None:
    a1, a2 = item_code(kiosk, queue="A", index=0), item_code(kiosk, queue="A", index=1)
    r = kiosk.post("/api/v1/tickets", json={"items": [a1, a2]})
    assert r.status_code == 422 and error_code(r) == "same_department"


def test_malformed_json_and_wrong_methods(kiosk, staff) -> None:
    r = kiosk.post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert r.status_code == 400 and error_code(r) == "bad_request"
    r = staff("clerk1").get("/api/v1/windows/1/call-next")
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"
    r = kiosk.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and error_code(r) == "not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "bad_transfer"),
        ({"to_window": 2, "to_item": "YB001"}, "bad_transfer"),
        ({"to_window": 99}, "window_not_found"),
        ({"to_window": 1}, "same_window"),
        ({"to_item": "NOPE"}, "unknown_item"),
        ({"to_window": 2, "position": "middle"}, "invalid"),
        ({"to_window": "two"}, "invalid"),
    ],
)
def test_bad_transfers(kiosk, staff, body, code) -> None:
    issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next"), act(clerk, 1, "start")
    r = clerk.post("/api/v1/windows/1/transfer", json=body)
    assert 400 <= r.status_code < 500 and error_code(r) == code
    # the ticket is still being served at window 1
    assert clerk.get("/api/v1/windows/1").get_json()["window"]["current"]["status"] == "serving"


def test_actions_without_a_current_ticket_and_unknown_windows(staff) -> None:
    clerk = staff("manager")
    for action in ("recall", "no-show", "start", "complete"):
        r = clerk.post(f"/api/v1/windows/1/{action}")
        assert r.status_code == 409 and error_code(r) == "no_current_ticket"
    r = clerk.post("/api/v1/windows/42/call-next")
    assert r.status_code == 404 and error_code(r) == "window_not_found"
    r = clerk.post("/api/v1/windows/1/park", json={"missing": []})
    assert r.status_code == 422


def test_wrong_order_of_window_actions_is_a_409(kiosk, staff) -> None:
    issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    r = clerk.post("/api/v1/windows/1/complete")
    assert r.status_code == 409 and error_code(r) == "invalid_transition"
    assert r.get_json()["error"]["details"] == {"state": "called", "action": "complete"}
    r = clerk.post("/api/v1/windows/1/park", json={"missing": ["x"]})
    assert r.status_code == 409


def test_openapi_document_lists_the_endpoints(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/items",
        "/api/v1/windows/{number}/call-next",
        "/api/v1/windows/{number}/transfer",
        "/api/v1/hall/load",
        "/api/v1/auth/login",
    ):
        assert path in paths, path
    assert "ErrorSchema" in str(spec["components"]) or "Error" in str(spec["components"])


def test_a_kiosk_is_rate_limited(app, kiosk) -> None:
    app.config["ISSUE_RATE_LIMIT"] = "3 per minute"
    code = item_code(kiosk)
    for _ in range(3):
        issue(kiosk, [code])
    r = kiosk.post("/api/v1/tickets", json={"items": [code]})
    assert r.status_code == 429 and error_code(r) == "too_many"
    other = app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-kiosk-2"
    assert issue(other, [code])["number"] == "A004"  # limits are per kiosk


def test_login_attempts_are_throttled(app) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    c = app.test_client()
    for _ in range(3):
        assert c.post("/api/v1/auth/login", json={"username": "clerk1", "password": "x"}).status_code == 401
    r = c.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"})
    assert r.status_code == 429 and error_code(r) == "too_many"
    # another account from the same address is not locked out by clerk1's failures
    assert c.post("/api/v1/auth/login", json={"username": "clerk2", "password": "demo"}).status_code == 200


def test_the_same_id_number_gets_limited_tickets_per_day(kiosk) -> None:
    code = item_code(kiosk)
    number = elderly_id(1960)
    for _ in range(5):
        issue(kiosk, [code], id_number=number)
    r = kiosk.post("/api/v1/tickets", json={"items": [code], "id_number": number})
    assert r.status_code == 429 and error_code(r) == "id_daily_limit"
