"""The dashboard's texts and names (issue 14 item 9): tidal reasons in the page's language, devices by the
names people use, rating tablets' presence from their requests, one name per 绿色通道 group."""

from __future__ import annotations

import re

from hall.priority_groups import NAMES
from kiosk.receipt import PRIORITY_NAMES

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_tidal_reason_is_in_the_pages_language(svc, staff) -> None:
    svc.tidal.tick(svc.hall_id)
    manager = staff("manager")
    zh = manager.get("/api/v1/hall/tidal").get_json()
    assert zh["reason"] == "scheduled peak", "the log's reason stays as it was (09:00 is the demo's peak)"
    assert zh["reason_text"] == "预设高峰时段"
    assert all(w["reason_text"] and not re.search("[A-Za-z]", w["reason_text"]) for w in zh["windows"])
    en = manager.get("/api/v1/hall/tidal?lang=en").get_json()
    assert en["reason_text"] == "Scheduled peak" and not any(HAN.search(w["reason_text"]) for w in en["windows"])
    forced = manager.post("/api/v1/hall/tidal", json={"mode": "open"}).get_json()
    assert forced["override"] == "open" and forced["reason_text"] is None, "the override names itself on the page"


def test_tidal_reasons_with_numbers(svc, staff) -> None:
    from hall.api.hall_routes import TIDAL_REASONS, tidal_reason

    manager = staff("manager")
    with manager.application.test_request_context("/?lang=en"):
        text = tidal_reason({"why": "wait_above", "why_args": {"wait": 23.44, "limit": 15.0}})
        assert text == "Expected wait 23.4 min, above 15 min"
    with manager.application.test_request_context("/"):
        assert tidal_reason({"why": "wait_above", "why_args": {"wait": 23.44, "limit": 15.0}}) == (
            "预计等候23.4分钟，超过15分钟"
        )
        assert tidal_reason({"why": None}) is None
    assert set(TIDAL_REASONS) >= {"scheduled_peak", "calm", "calming", "normal", "none"}


def test_devices_have_human_names_and_rating_tablets_show_their_requests(app, staff) -> None:
    manager = staff("manager")
    devices = {d["name"]: d for d in manager.get("/api/v1/hall/devices").get_json()["devices"]}
    assert devices["rate-1"]["label"] == "1号窗口 评价平板"
    assert devices["pad-1"]["label"] == "1号窗口 评价器", "the serial pad is another device than the tablet"
    assert devices["kiosk-2"]["label"] == "2号取号机"
    assert devices["guide-printer"]["label"] == "打印机（guide-printer）"
    assert devices["rate-1"]["last_seen"] is None and devices["rate-1"]["online"] is False
    tablet = app.test_client()
    r = tablet.get("/api/v1/windows/1/rating", headers={"Authorization": "Bearer demo-rate-1"})
    assert r.status_code == 200, r.get_json()
    devices = {d["name"]: d for d in manager.get("/api/v1/hall/devices").get_json()["devices"]}
    assert devices["rate-1"]["online"] is True and devices["rate-1"]["last_seen"]
    assert devices["rate-1"]["status"] is None, "a request is presence, not a health status"
    assert devices["rate-2"]["online"] is False
    en = {d["name"]: d for d in manager.get("/api/v1/hall/devices?lang=en").get_json()["devices"]}
    assert en["rate-1"]["label"] == "Window 1 Rating tablet" and en["kiosk-2"]["label"] == "Kiosk 2"


def test_rating_tablet_presence_ages_out(app, staff, clock) -> None:
    tablet = app.test_client()
    tablet.get("/api/v1/windows/3/rating", headers={"Authorization": "Bearer demo-rate-3"})
    clock.advance(minutes=10)
    manager = staff("manager")
    rate3 = next(d for d in manager.get("/api/v1/hall/devices").get_json()["devices"] if d["name"] == "rate-3")
    assert rate3["online"] is False and rate3["last_seen"], "seen ten minutes ago: shown with its last time"


def test_one_name_per_priority_group(client) -> None:
    assert PRIORITY_NAMES is NAMES
    assert NAMES["compatriot"] == "台胞侨胞"
    kiosk = client.get("/kiosk").text
    manager = client.get("/manager").text
    for group, name in NAMES.items():
        assert name in manager, group
        if group != "elderly":  # the kiosk's button names the age rule: 65周岁以上老年人
            assert f'data-group="{group}">{name}<' in kiosk, group
    assert "港澳台同胞" not in kiosk + manager
    assert "Taiwan compatriots and overseas Chinese" in client.get("/kiosk?lang=en").text


def test_device_alerts_name_the_device_and_follow_the_language(svc, staff) -> None:
    svc.alerts.report_device(svc.hall_id, "kiosk-2", "paper_out")
    manager = staff("manager")
    zh = [a for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"] if a["source"] == "device:kiosk-2"]
    assert [a["message"] for a in zh] == ["2号取号机的打印机缺纸，已无法打印小票"], "a kiosk's status is its printer's"
    en = [a for a in manager.get("/api/v1/hall/alerts?lang=en").get_json()["alerts"] if a["kind"] == "paper_out"]
    assert [a["message"] for a in en] == ["Kiosk 2 printer: out of paper, slips cannot be printed"]
    svc.alerts.raise_alert(
        svc.hall_id, "queue:A", "long_wait", "综合业务队列最长等候已超过30分钟", details={"queue": "A", "minutes": 41}
    )
    en = {a["kind"]: a["message"] for a in manager.get("/api/v1/hall/alerts?lang=en").get_json()["alerts"]}
    assert en["long_wait"] == "Long wait in queue A (41 min)"
    assert not any(HAN.search(m) for m in en.values())
