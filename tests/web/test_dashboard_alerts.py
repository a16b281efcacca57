"""The dashboard's alerts as a hall manager reads them: most important first with counts per kind, an audited
acknowledgement, device alarms in plain words, kiosks judged by their own requests, and the overload alert."""

from __future__ import annotations

from hall.audit import verify
from hall.dashboard import Dashboard
from tests.factories import act, error_code, issue


def watcher(svc) -> Dashboard:
    return Dashboard(svc.engine, svc.alerts, svc.ratings)


def bad_rating(client, kiosk, staff) -> None:
    t = issue(kiosk, ["YB001"])
    clerk = staff("clerk1")
    for action in ("call-next", "start", "complete"):
        act(clerk, 1, action)
    token = t["track_url"].rsplit("/", 1)[1]
    assert client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token, "score": 1}).status_code == 201


def test_bad_ratings_come_before_newer_device_alarms_with_counts(svc, client, kiosk, staff, clock) -> None:
    bad_rating(client, kiosk, staff)
    clock.advance(minutes=5)
    svc.alerts.report_device(svc.hall_id, "guide-printer", "offline")
    clock.advance(minutes=1)
    svc.alerts.report_device(svc.hall_id, "kiosk-2", "paper_out")
    data = staff("manager").get("/api/v1/hall/alerts").get_json()
    kinds = [a["kind"] for a in data["alerts"]]
    assert kinds[0] == "bad_rating", kinds
    assert kinds.index("paper_out") < kinds.index("device_offline"), "newest first within devices"
    assert data["alerts"][0]["category"] == "rating"
    assert data["counts"]["rating"] == 1 and data["counts"]["device"] == 2


def test_acknowledging_an_alert_is_audited_and_moves_it_down(svc, client, kiosk, staff) -> None:
    bad_rating(client, kiosk, staff)
    svc.alerts.report_device(svc.hall_id, "kiosk-2", "paper_out")
    manager = staff("manager")
    first = manager.get("/api/v1/hall/alerts").get_json()["alerts"][0]
    assert first["kind"] == "bad_rating" and first["acknowledged_at"] is None
    r = manager.post(f"/api/v1/hall/alerts/{first['id']}/ack")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["acknowledged_by"] and r.get_json()["acknowledged_at"]
    after = manager.get("/api/v1/hall/alerts").get_json()["alerts"]
    assert after[-1]["id"] == first["id"] and after[0]["kind"] == "paper_out", "seen alerts go below unseen ones"
    audit = manager.get("/api/v1/hall/audit?action=alert.acknowledge").get_json()
    rows = [e for e in audit["entries"] if e["action"] == "alert.acknowledge"]
    assert rows and rows[0]["target"] == f"alert {first['id']}"
    assert all(v.ok for v in verify(svc.db, svc.hall_id)), "the hash chain holds"
    assert error_code(manager.post("/api/v1/hall/alerts/999999/ack")) == "alert_not_found"
    assert staff("clerk1").post(f"/api/v1/hall/alerts/{first['id']}/ack").status_code == 403


def test_device_alarms_are_plain_sentences_with_the_detail_aside(svc, staff) -> None:
    detail = "串口不可用：Could not open port socket://127.0.0.1:9211: [Errno 111] Connection refused"
    svc.alerts.report_device(svc.hall_id, "led-2", "offline", detail=detail)
    manager = staff("manager")
    (alert,) = [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["kind"] == "device_offline"]
    assert alert["message"] == "2号窗口 窗口条屏离线，请检查电源和连线"
    assert alert["details"]["detail"] == detail, "the technical detail stays available for a tooltip"
    en = manager.get("/api/v1/hall/alerts?lang=en").get_json()["alerts"]
    text = next(a["message"] for a in en if a["kind"] == "device_offline")
    assert "Window 2" in text and "Window 2 Window" not in text and "Errno" not in text


def test_a_kiosk_is_online_by_its_requests_and_its_printer_is_named(svc, app, kiosk, staff) -> None:
    svc.alerts.report_device(svc.hall_id, "kiosk-1", "offline")  # its receipt printer does not answer
    issue(kiosk, ["YB001"])  # … while the kiosk itself issues tickets
    manager = staff("manager")
    devices = {d["name"]: d for d in manager.get("/api/v1/hall/devices").get_json()["devices"]}
    assert devices["kiosk-1"]["online"] is True and devices["kiosk-1"]["status_of"] == "printer"
    alerts = manager.get("/api/v1/hall/alerts").get_json()["alerts"]
    (alert,) = [a for a in alerts if a["source"] == "device:kiosk-1"]
    assert alert["message"].startswith("1号取号机的打印机离线"), alert["message"]


def test_overload_alert_when_no_window_serves_a_waiting_queue(svc, kiosk, staff, clock) -> None:
    issue(kiosk, ["YB001"])  # nobody is signed in at any window yet
    manager = staff("manager")
    assert "A" in watcher(svc).check(svc.hall_id)["overload"]
    watcher(svc).check(svc.hall_id)
    alerts = [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["kind"] == "overload"]
    (a_queue,) = [a for a in alerts if a["source"] == "queue:A"]
    assert "没有开放窗口" in a_queue["message"] and a_queue["category"] == "service", "deduplicated: one alert"
    en = manager.get("/api/v1/hall/alerts?lang=en").get_json()["alerts"]
    assert "no window" in next(a["message"] for a in en if a["source"] == "queue:A").lower()
    act(staff("clerk1"), 1, "call-next")  # a clerk at window 1 takes the citizen: nobody waits any more
    assert "A" not in watcher(svc).check(svc.hall_id)["overload"]
    assert not [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["source"] == "queue:A"], (
        "cleared when resolved"
    )


def test_overload_alert_when_the_predicted_wait_passes_the_sla(svc, kiosk, staff) -> None:
    r = staff("admin").put("/api/v1/admin/settings", json={"routing": {"sla_minutes": 5}})
    assert r.status_code == 200, r.get_json()
    clerk = staff("clerk1")
    for _ in range(12):
        issue(kiosk, ["YB001"])
    act(clerk, 1, "call-next")  # window 1 is staffed now: queue A has a window, but twelve people for it
    watcher(svc).check(svc.hall_id)
    manager = staff("manager")
    (alert,) = [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["source"] == "queue:A"]
    assert alert["kind"] == "overload" and alert["details"]["why"] == "sla", alert
    assert "超过5分钟" in alert["message"]


def test_tidal_reason_says_no_window_instead_of_an_endless_wait(staff) -> None:
    from hall.api.hall_routes import tidal_reason

    manager = staff("manager")
    with manager.application.test_request_context("/"):
        assert tidal_reason({"why": "wait_above", "why_args": {"wait": 1e6, "limit": 15.0}}) == "有人等候但无开放窗口"
        assert "1000000" not in tidal_reason({"why": "settling", "why_args": {"wait": 1e6, "limit": 10.0}})
        assert tidal_reason({"why": "wait_above", "why_args": {"wait": 23.4, "limit": 15.0}}).startswith("预计等候23.4")
    with manager.application.test_request_context("/?lang=en"):
        text = tidal_reason({"why": "not_yet_calm", "why_args": {"wait": 1e6, "limit": 5.0}})
        assert text == "Citizens waiting and no window open"


def test_tidal_status_says_what_the_rule_decided(svc, staff) -> None:
    svc.tidal.tick(svc.hall_id)  # 09:00: the scheduled peak opens the first tidal window
    status = staff("manager").get("/api/v1/hall/tidal").get_json()
    first = status["windows"][0]
    assert first["rule_open"] is True
    later = status["windows"][1:]
    assert all(w["rule_open"] is False and w["open"] is False for w in later), later


def test_city_overview_says_when(staff, clock) -> None:
    data = staff("manager").get("/api/v1/city/overview").get_json()
    assert data["at"].startswith(clock.now().date().isoformat())
