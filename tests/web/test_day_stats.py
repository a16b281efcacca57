"""GET /api/v1/hall/stats: a hand-computed day (waits per class, outcomes, arrivals, ETA accuracy)."""

from __future__ import annotations

from tests.factories import act, elderly_id, issue


def test_a_small_day_adds_up(kiosk, staff, clock) -> None:
    a = issue(kiosk)  # 09:00, normal
    b = issue(kiosk, priority="elderly", id_number=elderly_id())  # 09:00, priority
    issue(kiosk)  # 09:00, still waiting at the end
    clerk = staff("clerk1")
    clock.advance(minutes=4)
    first = act(clerk, 1, "call-next")["ticket"]
    assert first["number"] == b["number"], "绿色通道 first"
    act(clerk, 1, "start")
    clock.advance(minutes=6)
    act(clerk, 1, "complete")
    second = act(clerk, 1, "call-next")["ticket"]  # 09:10
    assert second["number"] == a["number"]
    act(clerk, 1, "no-show")
    r = staff("manager").get("/api/v1/hall/stats")
    assert r.status_code == 200
    s = r.get_json()
    assert s["day"] == "2026-11-23" and s["tickets"] == 3
    assert s["wait"]["count"] == 2 and s["wait"]["mean"] == 7.0 and s["wait"]["p90"] == 10.0
    assert s["wait_priority"]["mean"] == 4.0 and s["wait_normal"]["mean"] == 10.0
    assert s["wait"]["within_15"] == 1.0
    assert s["arrivals_per_hour"] == {"09": 3}
    assert s["outcomes"].get("completed") == 1 and s["outcomes"].get("open") == 2  # requeued no-show is open
    # ETA: the printed ranges of the two called tickets against 4 and 10 minutes.
    ranges = [
        (b["eta_minutes"]["low"], b["eta_minutes"]["high"], 4.0),
        (a["eta_minutes"]["low"], a["eta_minutes"]["high"], 10.0),
    ]
    inside = sum(lo <= w <= hi for lo, hi, w in ranges) / 2
    mae = sum(abs((lo + hi) / 2 - w) for lo, hi, w in ranges) / 2
    assert s["eta"] == {"count": 2, "inside": inside, "mae": round(mae, 2)}
    assert staff("clerk1").get("/api/v1/hall/stats").status_code == 403
    assert staff("manager").get("/api/v1/hall/stats?day=2026-11-20").get_json()["tickets"] == 0
