"""系统管理 /api/v1/admin: each kind of change takes effect at once, is audited, and only the admin may make it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import login
from tests.factories import act, issue

NEW_ITEM = {
    "code": "YB900",
    "name": "测试新增事项",
    "category": "参保登记",
    "handling_class": "立办立结",
    "queue": "A",
    "materials": ["居民身份证"],
    "service_minutes": 5,
}


def audit_rows(svc, action: str) -> list[dict]:
    from hall import audit

    return audit.search(svc.db, svc.hall_id, action=action)


def test_a_new_item_is_listed_and_issued_at_once_and_deactivating_it_takes_it_off(staff, kiosk, svc) -> None:
    admin = staff("admin")
    kiosk.get("/api/v1/items")  # warm the catalogue cache: the change must not wait for it to expire
    r = admin.post("/api/v1/admin/items", json=NEW_ITEM)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["item"]["active"] is True
    codes = {i["code"]: i for i in kiosk.get("/api/v1/items").get_json()["items"]}
    assert codes["YB900"]["materials"] == ["居民身份证"]
    ticket = issue(kiosk, ["YB900"])
    assert ticket["number"].startswith("A")

    r = admin.put("/api/v1/admin/items/YB900", json={"time_limit_days": 5, "online": True, "daily_quota": 10})
    assert r.status_code == 200 and r.get_json()["item"]["time_limit_days"] == 5
    assert {i["code"]: i for i in kiosk.get("/api/v1/items").get_json()["items"]}["YB900"]["online"] is True

    assert admin.post("/api/v1/admin/items/YB900/deactivate").status_code == 200
    assert "YB900" not in {i["code"] for i in kiosk.get("/api/v1/items").get_json()["items"]}
    issue(kiosk, ["YB900"], expect=422)
    listed = {i["code"]: i for i in admin.get("/api/v1/admin/items").get_json()["items"]}
    assert listed["YB900"]["active"] is False

    (create,) = audit_rows(svc, "admin.item.create")
    assert create["after"]["code"] == "YB900" and create["actor"] == "admin"
    updates = audit_rows(svc, "admin.item.update")
    assert any(u["before"]["time_limit_days"] == 0 and u["after"]["time_limit_days"] == 5 for u in updates)


def test_item_input_is_validated(staff) -> None:
    admin = staff("admin")
    for body in (
        {**NEW_ITEM, "handling_class": "随便办"},
        {**NEW_ITEM, "queue": "Z"},
        {**NEW_ITEM, "time_limit_days": -1},
        {**NEW_ITEM, "code": "带空格 的"},
        {**NEW_ITEM, "unknown": 1},
        {k: v for k, v in NEW_ITEM.items() if k != "name"},
    ):
        r = admin.post("/api/v1/admin/items", json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert r.get_json()["error"]["code"] == "invalid"
    assert admin.post("/api/v1/admin/items", json={**NEW_ITEM, "code": "YB001"}).status_code == 409
    assert admin.put("/api/v1/admin/items/NOPE", json={"name": "x"}).status_code == 404
    assert admin.post("/api/v1/admin/items/NOPE/deactivate").status_code == 404


def test_window_skills_change_what_call_next_takes(staff, kiosk, svc) -> None:
    admin, clerk = staff("admin"), staff("clerk1")
    issue(kiosk, ["RS001"])  # 人社 line R, not served at window 1 (A, B, L)
    assert act(clerk, 1, "call-next", expect=204) is None
    r = admin.put("/api/v1/admin/windows/1", json={"queues": ["R", "A"], "name": "综合窗口1（人社）"})
    assert r.status_code == 200, r.get_json()
    assert act(clerk, 1, "call-next")["ticket"]["number"].startswith("R")
    (row,) = audit_rows(svc, "admin.window.update")
    assert row["before"]["queues"] == ["A", "B", "L"] and row["after"]["queues"] == ["R", "A"]
    assert admin.put("/api/v1/admin/windows/1", json={"queues": ["Z"]}).status_code == 422
    assert admin.put("/api/v1/admin/windows/1", json={"kind": "vip"}).status_code == 422
    assert admin.put("/api/v1/admin/windows/99", json={"name": "x"}).status_code == 404
    windows = admin.get("/api/v1/admin/windows").get_json()
    assert windows["windows"][0]["queues"] == ["R", "A"] and {q["code"] for q in windows["queues"]} >= {"A", "R"}


def test_a_window_can_be_added_and_then_opened_and_called_at(app, staff, kiosk, svc) -> None:
    admin, clerk = staff("admin"), staff("clerk1")
    new = {"number": 10, "name": "人社专窗", "kind": "dedicated", "queues": ["R"]}
    r = admin.post("/api/v1/admin/windows", json=new)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["window"] == new
    assert admin.post("/api/v1/admin/windows", json=new).status_code == 409  # the number is taken
    for bad in (
        {**new, "number": 11, "queues": ["Z"]},
        {**new, "number": 11, "queues": []},
        {**new, "number": 11, "kind": "vip"},
        {**new, "number": 0},
        {"number": 11, "name": "x", "kind": "tidal"},
    ):
        r = admin.post("/api/v1/admin/windows", json=bad)
        assert r.status_code == 422, (bad, r.get_json())
    assert clerk.post("/api/v1/admin/windows", json={**new, "number": 12}).status_code == 403
    (row,) = audit_rows(svc, "admin.window.create")
    assert row["before"] is None and row["after"] == new and row["actor"] == "admin"
    assert [w["number"] for w in admin.get("/api/v1/admin/windows").get_json()["windows"]][-1] == 10
    # closed until a clerk opens it; then it calls from its skills
    account = {"username": "clerk10", "role": "clerk", "password": "window-10-pw", "window": 10}
    assert admin.post("/api/v1/admin/staff", json=account).status_code == 201
    clerk10 = login(app, "clerk10", "window-10-pw")
    issue(kiosk, ["RS001"])
    act(clerk10, 10, "open")
    assert act(clerk10, 10, "call-next")["ticket"]["number"].startswith("R")


def test_staff_accounts_reset_password_and_deactivate(app, staff, svc) -> None:
    admin = staff("admin")
    listed = admin.get("/api/v1/admin/staff").get_json()["staff"]
    assert {u["username"] for u in listed} >= {"admin", "clerk1"}
    assert all("password_hash" not in u and "password" not in u for u in listed)

    old = login(app, "clerk2")
    r = admin.post("/api/v1/admin/staff/clerk2/password", json={"password": "new-secret-1"})
    assert r.status_code == 200, r.get_json()
    assert (
        app.test_client().post("/api/v1/auth/login", json={"username": "clerk2", "password": "demo"}).status_code == 401
    )
    login(app, "clerk2", "new-secret-1")
    with svc.db.read() as session:
        from hall.models import User

        stored = session.query(User).filter_by(username="clerk2").one().password_hash
    assert stored.startswith("$argon2id$")
    (row,) = audit_rows(svc, "admin.user.password")
    assert "new-secret-1" not in json.dumps(row, ensure_ascii=False) and "argon2" not in json.dumps(row)

    r = admin.post(
        "/api/v1/admin/staff",
        json={"username": "clerk9", "display_name": "新同事", "role": "clerk", "window": 3, "password": "first-pass-9"},
    )
    assert r.status_code == 201, r.get_json()
    c9 = login(app, "clerk9", "first-pass-9")
    assert c9.get("/api/v1/auth/me").get_json()["user"]["window"] == 3
    assert admin.put("/api/v1/admin/staff/clerk9", json={"window": 4, "role": "leader"}).status_code == 200
    assert c9.get("/api/v1/auth/me").get_json()["user"]["role"] == "leader"
    assert admin.put("/api/v1/admin/staff/clerk9", json={"active": False}).status_code == 200
    assert c9.get("/api/v1/auth/me").status_code == 401  # the session stops at once
    assert old.get("/api/v1/auth/me").status_code == 401  # clerk2's session from before the reset ended with it

    (created,) = audit_rows(svc, "admin.user.create")
    assert "first-pass-9" not in json.dumps(created, ensure_ascii=False)
    for body in ({"role": "boss"}, {"window": 99}, {"password": "x"}):
        assert admin.put("/api/v1/admin/staff/clerk9", json=body).status_code == 422, body
    assert admin.post("/api/v1/admin/staff/clerk9/password", json={"password": "short"}).status_code == 422
    assert (
        admin.post(
            "/api/v1/admin/staff", json={"username": "clerk1", "role": "clerk", "password": "long-enough"}
        ).status_code
        == 409
    )
    assert admin.put("/api/v1/admin/staff/nobody", json={"active": False}).status_code == 404
    assert admin.put("/api/v1/admin/staff/admin", json={"active": False}).status_code == 409  # no self-lockout


def test_devices_created_rotated_and_deactivated(app, staff, svc) -> None:
    admin = staff("admin")
    listed = admin.get("/api/v1/admin/devices").get_json()["devices"]
    assert any(d["name"] == "kiosk-1" for d in listed)
    assert all("token" not in d and "token_hash" not in d for d in listed)

    r = admin.post("/api/v1/admin/devices", json={"name": "kiosk-9", "kind": "kiosk"})
    assert r.status_code == 201, r.get_json()
    token = r.get_json()["token"]
    device = app.test_client()
    device.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert device.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 201

    assert admin.post("/api/v1/admin/devices/kiosk-9/deactivate").status_code == 200
    assert device.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 401

    r = admin.post("/api/v1/admin/devices/kiosk-9/token")
    assert r.status_code == 200 and r.get_json()["device"]["active"] is False, "rotating does not reactivate"
    fresh = app.test_client()
    fresh.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
    assert fresh.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 401, "still deactivated"
    r = admin.post("/api/v1/admin/devices/kiosk-9/activate")
    assert r.status_code == 200 and r.get_json()["device"]["active"] is True
    assert fresh.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 201
    assert device.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 401  # the old token is dead

    trail = json.dumps(audit_rows(svc, "admin.device") + audit_rows(svc, "device."), ensure_ascii=False)
    assert token not in trail and "token_hash" not in trail
    assert {r["action"] for r in audit_rows(svc, "admin.device")} == {
        "admin.device.create",
        "admin.device.deactivate",
        "admin.device.activate",
    }
    assert admin.post("/api/v1/admin/devices", json={"name": "kiosk-9", "kind": "kiosk"}).status_code == 409
    assert admin.post("/api/v1/admin/devices", json={"name": "x", "kind": "toaster"}).status_code == 422
    assert admin.post("/api/v1/admin/devices", json={"name": "pad-x", "kind": "rater"}).status_code == 422
    assert admin.post("/api/v1/admin/devices/none/deactivate").status_code == 404
    assert admin.post("/api/v1/admin/devices/none/activate").status_code == 404


def test_notices_replace_what_the_hall_display_shows(staff, svc) -> None:
    from hall.queries import display_snapshot

    admin = staff("admin")
    r = admin.put(
        "/api/v1/admin/notices", json={"notices": ["今日系统升级，医保卡业务暂停", "  "], "public_notice": "请排队"}
    )
    assert r.status_code == 200 and r.get_json()["notices"] == ["今日系统升级，医保卡业务暂停"]
    with svc.db.read() as session:
        assert display_snapshot(session, svc.hall_id, svc.clock.now())["notices"] == ["今日系统升级，医保卡业务暂停"]
    assert admin.get("/api/v1/hall/status").get_json()["notice"] == "请排队"
    (row,) = audit_rows(svc, "admin.notices")
    assert row["after"] == {"notices": ["今日系统升级，医保卡业务暂停"]}
    assert admin.put("/api/v1/admin/notices", json={"notices": "not a list"}).status_code == 422


def test_hours_change_the_hall_status_and_issuing(client, kiosk, staff, svc, clock) -> None:
    admin = staff("admin")
    assert client.get("/api/v1/hall/status").get_json()["open"] is True  # Monday 09:00
    hours = admin.get("/api/v1/admin/hours").get_json()
    assert hours["weekdays"] == [["08:30", "17:30"]]
    r = admin.put(
        "/api/v1/admin/hours",
        json={
            "weekdays": [["09:30", "12:00"], ["13:30", "17:00"]],
            "saturday": [["09:00", "12:00"]],
            "extended": [{"weekday": 3, "until": "19:00"}],
            "holidays": ["2026-11-25"],
        },
    )
    assert r.status_code == 200, r.get_json()
    body = client.get("/api/v1/hall/status").get_json()
    assert body["open"] is False and body["today"] == "09:30–12:00，13:30–17:00"
    issue(kiosk, ["YB001"], expect=409)
    clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # Saturday 10:00: now open
    assert client.get("/api/v1/hall/status").get_json()["open"] is True
    (row,) = audit_rows(svc, "admin.hours")
    assert row["after"]["hours"]["holidays"] == ["2026-11-25"]
    for bad in (
        {"weekdays": [["17:00", "09:00"]]},
        {"weekdays": [["09:00", "12:00"], ["11:00", "17:00"]]},
        {"weekdays": [["9h", "17:00"]]},
        {"weekdays": [["08:30", "17:30"]], "extended": [{"weekday": 8, "until": "19:00"}]},
        {"weekdays": [["08:30", "17:30"]], "holidays": ["2026-13-40"]},
        {"weekdays": [["08:30", "17:30"]], "holidays": ["2026-12-01"], "workdays": ["2026-12-01"]},
    ):
        r = admin.put("/api/v1/admin/hours", json=bad)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["error"]["code"] == "invalid"


def test_rules_change_no_show_and_routing_at_once(kiosk, staff, svc) -> None:
    admin, clerk = staff("admin"), staff("clerk1")
    rules = admin.get("/api/v1/admin/settings").get_json()
    assert rules["no_show"]["mode"] == "requeue" and rules["tidal"]["open_above"] == 15
    assert rules["tidal"]["stage_after_minutes"] == 10
    r = admin.put(
        "/api/v1/admin/settings",
        json={"no_show": {"mode": "end"}, "tidal": {"open_above": 25, "stage_after_minutes": 20}},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["no_show"]["places_back"] == 3  # untouched keys keep their values
    issue(kiosk, ["YB001"])
    act(clerk, 1, "call-next")
    assert act(clerk, 1, "no-show")["ticket"]["status"] == "no_show"  # ended, not recycled
    from hall.tidal_live import rule_from

    rule = rule_from(svc.engine.reference(svc.hall_id).settings)
    assert (rule.open_above, rule.stage_after_minutes) == (25, 20)  # the second tidal window waits longer now
    assert {r["action"] for r in audit_rows(svc, "admin.settings")} == {
        "admin.settings.no_show",
        "admin.settings.tidal",
    }
    for bad in (
        {"routing": {"policy": "random"}},
        {"routing": {"priority_weight": 99}},
        {"tidal": {"close_below": 30}},
        {"tidal": {"peaks": [["10:00", "09:00"]]}},
        {"no_show": {"places_back": -1}},
        {"other": {}},
    ):
        r = admin.put("/api/v1/admin/settings", json=bad)
        assert r.status_code == 422, (bad, r.get_json())


@pytest.mark.parametrize("who", ["manager", "leader", "clerk1"])
def test_only_the_admin(staff, who) -> None:
    c = staff(who)
    assert c.get("/api/v1/admin/items").status_code == 403
    r = c.post("/api/v1/admin/items", json={"bad": "body"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden_role"  # role before body
    assert c.put("/api/v1/admin/hours", json={}).status_code == 403


def test_anonymous_and_devices_are_refused(client, kiosk) -> None:
    for c, status in ((client, 401), (kiosk, 403)):
        assert c.get("/api/v1/admin/staff").status_code == status
        assert c.post("/api/v1/admin/devices", json={"name": "x", "kind": "kiosk"}).status_code == status


def test_admin_page_is_served_without_a_cdn(client) -> None:
    r = client.get("/admin")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "login-form" in html and "X-CSRFToken" in html
    assert "http://" not in html and "https://" not in html


def test_hours_without_an_opening_day_are_refused(staff, svc) -> None:
    admin = staff("admin")
    for closed in ({"weekdays": []}, {"weekdays": [], "saturday": [], "sunday": [], "workdays": ["2026-12-05"]}):
        r = admin.put("/api/v1/admin/hours", json=closed)
        assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_opening_day", r.get_json()
        assert "至少要有一天开放" in r.get_json()["error"]["message"]
    r = admin.put("/api/v1/admin/hours?lang=en", json={"weekdays": []})
    assert "at least one day of the week" in r.get_json()["error"]["message"]
    assert admin.get("/api/v1/admin/hours").get_json()["weekdays"] == [["08:30", "17:30"]], "nothing stored"
    assert audit_rows(svc, "admin.hours") == []
    assert admin.put("/api/v1/admin/hours", json={"weekdays": [], "saturday": [["09:00", "12:00"]]}).status_code == 200


def test_hours_stored_before_the_rule_can_still_be_read_and_mended(staff, svc) -> None:
    from hall.models import Hall

    with svc.db.write() as session:
        hall = session.get(Hall, svc.hall_id)
        hall.settings = {**hall.settings, "hours": {"weekdays": [], "saturday": [], "sunday": []}}
    svc.engine.invalidate(svc.hall_id)
    admin = staff("admin")
    r = admin.get("/api/v1/admin/hours")
    assert r.status_code == 200 and r.get_json()["weekdays"] == [], r.get_json()
    assert admin.put("/api/v1/admin/hours", json={"weekdays": [["08:30", "17:30"]]}).status_code == 200
