"""Socket.IO namespaces with Flask-SocketIO's test client: snapshots, calls, refusals, no state change by socket."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import login
from tests.factories import act, issue, item_code


def sio(app):
    return app.extensions["hall.socketio"]


_stash: dict[int, list[dict]] = {}


def received(client, name: str, namespace: str, timeout: float = 3.0) -> list[dict]:
    """Take the events named ``name`` received so far (waiting up to ``timeout`` for the first); others stay."""
    box = _stash.setdefault(id(client), [])
    deadline = time.monotonic() + timeout
    while True:
        box += client.get_received(namespace)
        out = [e["args"][0] for e in box if e["name"] == name]
        if out or time.monotonic() > deadline:
            box[:] = [e for e in box if e["name"] != name]
            return out
        time.sleep(0.02)


def settles(client, name: str, check, namespace: str = "/display", timeout: float = 3.0) -> bool:
    """True once an event ``name`` satisfying ``check`` arrives within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(check(m) for m in received(client, name, namespace, timeout=0.1)):
            return True
    return False


def test_display_gets_a_snapshot_on_connect(app, kiosk, staff) -> None:
    issue(kiosk)
    act(staff("clerk2"), 2, "call-next")
    display = sio(app).test_client(app, namespace="/display")
    assert display.is_connected("/display")
    (snap,) = received(display, "snapshot", "/display")
    assert snap["hall"]["code"] == "demo"
    assert snap["recent_calls"][0]["number"] == "A001" and snap["recent_calls"][0]["window"] == 2
    assert snap["recent_calls"][0]["text"] == "请A001号到2号窗口办理"
    windows = {w["number"]: w for w in snap["windows"]}
    assert windows[2]["current"] == {"number": "A001", "status": "called", "appointment": False}
    assert windows[2]["clerk"]["staff_no"] and windows[6]["state"] == "closed"
    assert snap["notices"], "policy notices from the hall config"
    display.disconnect("/display")


def test_a_call_reaches_displays_with_the_announcement(app, kiosk, staff) -> None:
    code = item_code(kiosk)
    issue(kiosk, [code]), issue(kiosk, [code])
    display = sio(app).test_client(app, namespace="/display")
    display.get_received("/display")
    clerk = staff("clerk3")
    act(clerk, 3, "call-next")
    (call,) = received(display, "called", "/display")
    assert call["number"] == "A001" and call["window"] == 3 and call["text"] == "请A001号到3号窗口办理"
    assert call["spoken"] == "请A零零一号到3号窗口办理" and call["recall"] is False
    assert call["voice_url"] == "/display/voice/A001/3.wav"
    act(clerk, 3, "recall")
    (again,) = received(display, "called", "/display")
    assert again["recall"] is True
    # A refresh coalesced from the two issues may still land after connecting, so wait for the settled counts.
    assert settles(display, "queues", lambda m: {q["code"]: q["waiting"] for q in m["queues"]}["A"] == 1)
    assert settles(
        display,
        "windows",
        lambda m: any(w["number"] == 3 and (w["current"] or {}).get("number") == "A001" for w in m["windows"]),
    )


def test_counter_namespace_refuses_anonymous_and_accepts_staff(app) -> None:
    anon = sio(app).test_client(app, namespace="/counter")
    assert not anon.is_connected("/counter")
    clerk = login(app, "clerk1")
    console = sio(app).test_client(app, namespace="/counter", flask_test_client=clerk)
    assert console.is_connected("/counter")
    (hello,) = received(console, "hello", "/counter")
    assert hello == {"user": "clerk1", "window": 1}


def test_manager_namespace_is_for_supervisors(app, kiosk) -> None:
    clerk = sio(app).test_client(app, namespace="/manager", flask_test_client=login(app, "clerk1"))
    assert not clerk.is_connected("/manager")
    manager = sio(app).test_client(app, namespace="/manager", flask_test_client=login(app, "manager"))
    assert manager.is_connected("/manager")
    (load,) = received(manager, "load", "/manager")
    assert load["hall"]["code"] == "demo" and len(load["windows"]) == 9  # 1–8 and the second tidal window
    issue(kiosk)
    updates = received(manager, "load", "/manager")
    assert updates and updates[-1]["waiting"] == 1


@pytest.mark.parametrize("event", ["call_next", "called", "complete", "snapshot"])
def test_display_clients_cannot_change_state(app, kiosk, svc, event) -> None:
    issue(kiosk)
    display = sio(app).test_client(app, namespace="/display")
    display.emit(event, {"window": 1}, namespace="/display")
    load = svc.engine.load(svc.hall_id)
    assert load["waiting"] == 1 and all(w["current"] is None for w in load["windows"])


def test_events_reach_sockets_only_after_commit(app, kiosk, svc) -> None:
    """A refused call (window paused) emits nothing; the bus only sees committed work."""
    seen = []
    svc.bus.subscribe(seen.append)
    issue(kiosk)
    manager = login(app, "manager")
    act(manager, 4, "pause")
    seen.clear()
    r = manager.post("/api/v1/windows/4/call-next")
    assert r.status_code == 409
    assert seen == []


def test_managers_hear_device_alerts_at_once(app, svc) -> None:
    manager = sio(app).test_client(app, namespace="/manager", flask_test_client=login(app, "manager"))
    received(manager, "load", "/manager")
    svc.alerts.report_device(svc.hall_id, "kiosk-1", "paper_out")
    (alert,) = received(manager, "alert", "/manager")
    assert alert["kind"] == "paper_out" and alert["source"] == "device:kiosk-1" and "缺纸" in alert["message"]
    (device,) = received(manager, "device", "/manager")
    assert device["status"] == "paper_out" and device["previous"] is None
    svc.alerts.report_device(svc.hall_id, "kiosk-1", "ok")
    (cleared,) = received(manager, "alert_cleared", "/manager")
    assert cleared["alert_id"] == alert["alert_id"]
    display = sio(app).test_client(app, namespace="/display")
    svc.alerts.report_device(svc.hall_id, "kiosk-1", "offline")
    assert received(display, "alert", "/display", timeout=0.3) == [], "citizens' screens never show alerts"


def test_clerks_and_managers_hear_the_tidal_window_open(app, svc) -> None:
    console = sio(app).test_client(app, namespace="/counter", flask_test_client=login(app, "clerk1"))
    manager = sio(app).test_client(app, namespace="/manager", flask_test_client=login(app, "manager"))
    svc.tidal.tick(svc.hall_id)  # 09:00 on the fake clock: the morning peak
    (told,) = received(console, "tidal", "/counter")
    assert told["open"] is True and told["window"] == 6 and told["reason"] == "scheduled peak"
    assert received(manager, "tidal", "/manager")[0]["open"] is True


def test_refreshes_go_only_to_rooms_someone_watches(app, svc, monkeypatch) -> None:
    broadcaster = app.extensions["hall.broadcaster"]
    loads = []
    real_load = svc.engine.load
    monkeypatch.setattr(svc.engine, "load", lambda hall_id: loads.append(hall_id) or real_load(hall_id))
    broadcaster._dirty.add(svc.hall_id)
    broadcaster.flush()
    assert loads == [], "no dashboard open: the load figures are not computed"
    manager = sio(app).test_client(app, namespace="/manager", flask_test_client=login(app, "manager"))
    received(manager, "load", "/manager")
    loads.clear()
    broadcaster._dirty.add(svc.hall_id)
    broadcaster.flush()
    assert loads == [svc.hall_id] and received(manager, "load", "/manager")


def test_a_refresh_waits_for_a_call_being_announced(app, svc) -> None:
    broadcaster = app.extensions["hall.broadcaster"]
    display = sio(app).test_client(app, namespace="/display")
    received(display, "snapshot", "/display")
    with broadcaster._lock:
        broadcaster._announcing += 1  # as while handle() writes a call to every display
    broadcaster._dirty.add(svc.hall_id)
    refresh = threading.Thread(target=broadcaster.flush)
    refresh.start()
    try:
        assert received(display, "queues", "/display", timeout=0.3) == []
    finally:
        with broadcaster._lock:
            broadcaster._announcing -= 1
            broadcaster._announced.notify_all()
    refresh.join(5)
    assert received(display, "queues", "/display") and received(display, "windows", "/display")


def test_a_refresh_comes_a_full_pause_after_the_first_event_of_its_burst(app, kiosk, svc) -> None:
    broadcaster = app.extensions["hall.broadcaster"]
    broadcaster.interval = 0.5  # the pause in which a burst collapses (0.2 s in service), longer for a slow CI
    display = sio(app).test_client(app, namespace="/display")
    (snap,) = received(display, "snapshot", "/display")
    waiting = sum(q["waiting"] for q in snap["queues"])
    issue(kiosk)
    time.sleep(0.1)
    issue(kiosk)  # during the pause: part of the same refresh
    assert [r["waiting"] for r in received(display, "queues", "/display")] == [waiting + 2]
    time.sleep(0.2)
    started = time.monotonic()
    issue(kiosk)
    (refresh,) = received(display, "queues", "/display")
    # The second event of the first burst must not have left the loop awake: a refresh scheduled by it would
    # come less than a pause after this event, splitting whatever burst comes next (calls, start, complete).
    assert time.monotonic() - started >= 0.45 and refresh["waiting"] == waiting + 3
