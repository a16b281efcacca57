"""The manager dashboard's data: live overview, the long-wait / overdue-case watcher, pages and the socket."""

from __future__ import annotations

from hall.dashboard import Dashboard, service_state
from tests.conftest import login
from tests.factories import act, elderly_id, issue
from tests.web.test_realtime import received, sio


def watcher(svc) -> Dashboard:
    return Dashboard(svc.engine, svc.alerts, svc.ratings)


def test_overview_classes_predictions_and_service_times(kiosk, staff, clock) -> None:
    issue(kiosk, ["YB001"])
    issue(kiosk, ["YB001"])
    issue(kiosk, ["YB001"], priority="elderly", id_number=elderly_id())
    clock.advance(minutes=3)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")  # the 绿色通道 ticket first
    act(clerk, 1, "start")
    clock.advance(minutes=6)  # 6 minutes into a 5-minute item
    r = staff("manager").get("/api/v1/dashboard")
    assert r.status_code == 200, r.get_json()
    o = r.get_json()
    queues = {q["code"]: q for q in o["queues"]}
    assert queues["A"]["waiting"] == 2 and queues["A"]["longest_wait_seconds"] == 540
    assert queues["A"]["classes"] == [{"priority": None, "waiting": 2, "longest_wait_seconds": 540}]
    assert queues["L"]["waiting"] == 0 and queues["L"]["classes"] == []
    assert o["classes"] == [{"priority": None, "waiting": 2, "longest_wait_seconds": 540}]
    # What the kiosk would print now: two ahead in the pooled line, six windows serve A.
    assert queues["A"]["predicted_wait"]["low"] >= 0 and queues["A"]["predicted_wait"]["high"] >= 1
    w1 = next(w for w in o["windows"] if w["number"] == 1)
    current = w1["current"]
    assert current["status"] == "serving" and current["item_names"] == ["城乡居民参保登记"]
    assert (current["elapsed_seconds"], current["expected_minutes"], current["service"]) == (360, 5.0, "over")
    clock.advance(minutes=2)  # 8 > 5 × 1.5
    again = staff("manager").get("/api/v1/dashboard").get_json()
    assert next(w for w in again["windows"] if w["number"] == 1)["current"]["service"] == "far"
    assert o["kpi"] == {"within_minutes": 15.0, "overrun_factor": 1.5, "wait_alert_minutes": 30.0}
    assert o["timezone"] == "Asia/Shanghai"


def test_priority_classes_are_split(kiosk, staff, clock) -> None:
    issue(kiosk, ["YB001"], priority="elderly", id_number=elderly_id(1950))
    clock.advance(minutes=2)
    issue(kiosk, ["YB001"], priority="veteran")
    o = staff("leader").get("/api/v1/dashboard").get_json()
    green = next(q for q in o["queues"] if q["code"] == "L")
    assert [(c["priority"], c["waiting"], c["longest_wait_seconds"]) for c in green["classes"]] == [
        ("elderly", 1, 120),
        ("veteran", 1, 0),
    ]


def test_service_state_thresholds() -> None:
    assert service_state(300, 5, 1.5) == "ok"
    assert service_state(301, 5, 1.5) == "over"
    assert service_state(451, 5, 1.5) == "far"
    assert service_state(9999, None, 1.5) == "ok"


def test_long_waits_raise_and_clear_an_alert(app, svc, kiosk, staff, clock) -> None:
    issue(kiosk, ["YB001"])
    clock.advance(minutes=29)
    assert watcher(svc).check(svc.hall_id)["long_wait"] == []
    manager = staff("manager")
    socket = sio(app).test_client(app, namespace="/manager", flask_test_client=manager)
    received(socket, "load", "/manager")
    clock.advance(minutes=1)
    assert watcher(svc).check(svc.hall_id)["long_wait"] == ["A"]
    assert watcher(svc).check(svc.hall_id)["long_wait"] == ["A"]  # still one alert, not two
    alerts = [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["kind"] == "long_wait"]
    assert len(alerts) == 1 and alerts[0]["source"] == "queue:A" and "综合业务" in alerts[0]["message"]
    (pushed,) = received(socket, "alert", "/manager")
    assert pushed["kind"] == "long_wait" and pushed["alert_id"] == alerts[0]["id"]
    act(staff("clerk1"), 1, "call-next")
    watcher(svc).check(svc.hall_id)
    assert not [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["kind"] == "long_wait"]
    # the queue's overload alert (nobody served it) clears too; the long wait's is the one asked about here
    (cleared,) = [c for c in received(socket, "alert_cleared", "/manager") if c["kind"] == "long_wait"]
    assert cleared["alert_id"] == alerts[0]["id"]
    socket.disconnect("/manager")


def test_overdue_bad_rating_cases_alert(svc, client, kiosk, staff, clock) -> None:
    t = issue(kiosk, ["YB001"])
    clerk = staff("clerk1")
    for action in ("call-next", "start", "complete"):
        act(clerk, 1, action)
    token = t["track_url"].rsplit("/", 1)[1]
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token, "score": 1})
    assert r.status_code == 201
    assert watcher(svc).check(svc.hall_id)["overdue_cases"] == []
    clock.advance(days=14)  # past 5 working days
    assert len(watcher(svc).check(svc.hall_id)["overdue_cases"]) == 1
    kinds = {a["kind"] for a in staff("manager").get("/api/v1/hall/alerts").get_json()["alerts"]}
    assert {"bad_rating", "case_overdue"} <= kinds


def test_pages_are_local_and_chinese_first(client, app) -> None:
    for path, title in (("/manager", "大厅运行看板"), ("/manager/reports", "统计报表")):
        r = client.get(path)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert title in html and 'id="login-form"' in html
        assert 'src="http' not in html and 'href="http' not in html, "no CDN: halls have no internet"
    dash = client.get("/manager").get_data(as_text=True)
    assert "/static/vendor/chart.umd.js" in dash and "/static/vendor/socket.io.min.js" in dash
    for asset in ("manager.js", "manager_common.js", "manager_reports.js", "manager.css"):
        with client.get(f"/static/{asset}") as r:
            assert r.status_code == 200, asset
    en = client.get("/manager?lang=en").get_data(as_text=True)
    assert "Hall dashboard" in en and "Tickets per hour" in en
    # Clerks may open the page but get no data (the API refuses them).
    clerk = login(app, "clerk2")
    assert clerk.get("/manager").status_code == 200 and clerk.get("/api/v1/dashboard").status_code == 403
