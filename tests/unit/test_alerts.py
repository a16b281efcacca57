"""Alerts: one open alert per source and kind, cleared when the condition goes away, events after commit."""

from __future__ import annotations

import pytest

from hall.errors import NotFound
from hall.events import AlertCleared, AlertRaised, DeviceStatusChanged


@pytest.fixture
def heard(svc):
    events = []
    svc.bus.subscribe(events.append)
    return events


def test_the_same_alert_is_raised_once(svc, heard) -> None:
    a = svc.alerts.raise_alert(svc.hall_id, "watcher", "over_limit", "3号窗口办理超时")
    b = svc.alerts.raise_alert(svc.hall_id, "watcher", "over_limit", "3号窗口办理超时")
    assert a == b and [type(e) for e in heard] == [AlertRaised]
    assert svc.alerts.clear(svc.hall_id, "watcher") == 1 and svc.alerts.clear(svc.hall_id, "watcher") == 0
    assert isinstance(heard[-1], AlertCleared) and svc.alerts.open_alerts(svc.hall_id) == []


def test_device_status_walk(svc, heard) -> None:
    alerts = svc.alerts
    assert alerts.report_device(svc.hall_id, "kiosk-2", "near_end") is None
    assert [a["kind"] for a in alerts.open_alerts(svc.hall_id)] == ["paper_near_end"]
    alerts.report_device(svc.hall_id, "kiosk-2", "paper_out")
    assert [a["kind"] for a in alerts.open_alerts(svc.hall_id)] == ["paper_out"]
    heard.clear()
    alerts.report_device(svc.hall_id, "kiosk-2", "paper_out")  # no change, no new events
    assert heard == []
    alerts.report_device(svc.hall_id, "kiosk-2", "ok")
    assert alerts.open_alerts(svc.hall_id) == []
    assert [type(e) for e in heard] == [AlertCleared, DeviceStatusChanged]
    device = next(d for d in alerts.devices(svc.hall_id) if d["name"] == "kiosk-2")
    assert device["status"] == "ok" and device["last_seen"]


def test_offline_keeps_last_seen(svc, clock) -> None:
    svc.alerts.report_device(svc.hall_id, "kiosk-2", "ok")
    seen = next(d for d in svc.alerts.devices(svc.hall_id) if d["name"] == "kiosk-2")["last_seen"]
    clock.advance(minutes=5)
    svc.alerts.report_device(svc.hall_id, "kiosk-2", "offline")
    device = next(d for d in svc.alerts.devices(svc.hall_id) if d["name"] == "kiosk-2")
    assert device["last_seen"] == seen and device["status_at"] != seen


def test_bad_reports_are_refused(svc) -> None:
    with pytest.raises(ValueError):
        svc.alerts.report_device(svc.hall_id, "kiosk-2", "on_fire")
    with pytest.raises(NotFound):
        svc.alerts.report_device(svc.hall_id, "no-such-device", "ok")
