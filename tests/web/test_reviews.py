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


def name_duty_leader(manager, username: str) -> None:
    today = manager.get("/api/v1/roster/today").get_json()["day"]
    r = manager.put(f"/api/v1/roster?month={today[:7]}", json={"days": [{"day": today, "leader": username}]})
    assert r.status_code == 200, r.get_json()


def test_a_manager_named_duty_leader_cannot_run_the_chain_alone(kiosk, staff) -> None:
    manager = staff("manager")
    name_duty_leader(manager, "manager")
    t = served(kiosk, staff("clerk1"))
    review = manager.post("/api/v1/reviews", json={"ticket": t["id"]}).get_json()["review"]
    url = f"/api/v1/reviews/{review['id']}"
    listed = {c["id"]: c for c in manager.get("/api/v1/reviews").get_json()["reviews"]}
    assert listed[review["id"]]["my_turn"] is False, "the submitter is never offered the check"
    refused = manager.post(f"{url}/check", json={})
    assert refused.status_code == 403 and error_code(refused) == "separation_of_duties", refused.get_json()
    assert refused.get_json()["error"]["details"] == {"step": "check", "already": "submit"}
    assert staff("clerk8").post(f"{url}/check", json={}).status_code == 200
    refused = manager.post(f"{url}/approve", json={})
    assert refused.status_code == 403 and error_code(refused) == "separation_of_duties", "he submitted it"
    status = {c["id"]: c["status"] for c in manager.get("/api/v1/reviews").get_json()["reviews"]}
    assert status[review["id"]] == "checked", "nothing moved"


def test_risk_control_cannot_check_their_own_submission(kiosk, staff) -> None:
    clerk8 = staff("clerk8")
    t = issue(kiosk, [ITEM])
    act(clerk8, 8, "call-next")
    act(clerk8, 8, "start")
    act(clerk8, 8, "complete")
    review = clerk8.post("/api/v1/reviews", json={"ticket": t["id"]}).get_json()["review"]
    url = f"/api/v1/reviews/{review['id']}"
    refused = clerk8.post(f"{url}/check", json={})
    assert refused.status_code == 403 and error_code(refused) == "separation_of_duties"
    assert "不同人员" in refused.get_json()["error"]["message"]
    en = clerk8.post(f"{url}/check?lang=en", json={})
    assert "different person" in en.get_json()["error"]["message"], en.get_json()
    manager = staff("manager")
    name_duty_leader(manager, "leader")
    assert manager.post(f"{url}/check", json={}).status_code == 200, "another risk checker (a manager) does it"
    refused = manager.post(f"{url}/approve", json={})
    assert refused.status_code == 403, "the checker cannot approve too (and is not today's leader)"
    leader = staff("leader")
    assert leader.post(f"{url}/approve", json={}).status_code == 200
    refused = leader.post(f"{url}/close", json={})
    assert refused.status_code == 403 and error_code(refused) == "separation_of_duties", "the approver may not close"
    closed = clerk8.post(f"{url}/close", json={}).get_json()["review"]
    assert closed["status"] == "closed", "the submitting window closes its own 办件 (一窗受理、一柜台办结)"
    assert [s["by"] for s in closed["steps"]] == ["clerk8", "manager", "leader", "clerk8"]
