"""审核链: window → risk control → today's duty leader → the window closes it; refusals and send-backs."""

from __future__ import annotations

import pytest

from tests.factories import act, error_code, issue

ITEM = "YB006"  # 居民医保参保缴费信息补录: review_chain = true in the demo hall


def served(kiosk, clerk) -> dict:
    t = issue(kiosk, [ITEM])
    act(clerk, 1, "call-next")
    act(clerk, 1, "start")
    act(clerk, 1, "complete")
    return t


@pytest.fixture
def duty(staff) -> tuple[str, str]:
    """(today's duty leader, the other supervisor) from the roster."""
    today = staff("manager").get("/api/v1/roster/today").get_json()
    leader = today["leader"]["username"]
    return leader, ("manager" if leader == "leader" else "leader")


def test_the_whole_chain(kiosk, staff, duty, svc) -> None:
    clerk = staff("clerk1")
    t = served(kiosk, clerk)
    r = clerk.post("/api/v1/reviews", json={"ticket": t["id"]})
    assert r.status_code == 201, r.get_json()
    review = r.get_json()["review"]
    assert review["status"] == "submitted" and review["window"] == 1 and review["number"] == t["number"]
    url = f"/api/v1/reviews/{review['id']}"
    leader, other = duty
    assert staff(leader).post(f"{url}/approve", json={}).status_code == 409, "risk control comes first"
    assert staff("clerk2").post(f"{url}/check", json={}).status_code == 403, "not risk control"
    risk = staff("clerk8")
    pending = {r["id"]: r for r in risk.get("/api/v1/reviews").get_json()["reviews"]}
    assert pending[review["id"]]["my_turn"] is True and pending[review["id"]]["next_step"] == "check"
    assert risk.post(f"{url}/check", json={"note": "材料齐全"}).get_json()["review"]["status"] == "checked"
    refused = staff(other).post(f"{url}/approve", json={})
    assert refused.status_code == 403 and error_code(refused) == "not_your_step", "only today's duty leader"
    assert staff(leader).post(f"{url}/approve", json={}).get_json()["review"]["status"] == "approved"
    assert staff("clerk2").post(f"{url}/close", json={}).status_code == 403, "the accepting window closes it"
    done = clerk.post(f"{url}/close", json={}).get_json()["review"]
    assert done["status"] == "closed" and [s["step"] for s in done["steps"]] == ["submit", "check", "approve", "close"]
    assert clerk.post("/api/v1/reviews", json={"ticket": t["id"]}).status_code == 409, "one case per 办件"


def test_send_back_needs_a_reason(kiosk, staff) -> None:
    clerk = staff("clerk1")
    t = served(kiosk, clerk)
    review = clerk.post("/api/v1/reviews", json={"ticket": t["id"]}).get_json()["review"]
    url = f"/api/v1/reviews/{review['id']}"
    risk = staff("clerk8")
    assert risk.post(f"{url}/check", json={"ok": False}).status_code == 422
    back = risk.post(f"{url}/check", json={"ok": False, "note": "缴费凭证与系统记录不符"}).get_json()["review"]
    assert back["status"] == "rejected" and back["steps"][-1]["note"] == "缴费凭证与系统记录不符"
    assert staff("manager").post(f"{url}/approve", json={}).status_code in (403, 409)


def test_only_review_items_and_staff(kiosk, staff, client) -> None:
    clerk = staff("clerk1")
    plain = issue(kiosk, ["YB001"])
    act(clerk, 1, "call-next")
    r = clerk.post("/api/v1/reviews", json={"ticket": plain["id"]})
    assert r.status_code == 422 and error_code(r) == "no_review_item"
    assert client.post("/api/v1/reviews", json={"ticket": plain["id"]}).status_code == 401
    assert kiosk.post("/api/v1/reviews", json={"ticket": plain["id"]}).status_code == 403
    assert staff("clerk1").post("/api/v1/reviews/999/check", json={}).status_code in (403, 404)
    assert staff("manager").post("/api/v1/reviews/1/fly", json={}).status_code == 404
