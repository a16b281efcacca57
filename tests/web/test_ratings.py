"""好差评 through the API: once per 办件, token or window device, time limits, 差评 cases and their rules."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.factories import act, elderly_id, error_code, issue, item_code


def token_of(ticket: dict) -> str:
    return ticket["track_url"].rsplit("/", 1)[1]


def serve(kiosk, clerk, window: int = 1, **body) -> dict:
    """Issue a ticket and complete it at ``window``."""
    t = issue(kiosk, **body)
    act(clerk, window, "call-next")
    act(clerk, window, "start")
    act(clerk, window, "complete")
    return t


@pytest.fixture
def tablet(app):
    """The rating tablet of window 1 (device token)."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-rate-1"
    return c


def test_phone_rating_once_with_the_ticket_secret(client, kiosk, staff) -> None:
    t = serve(kiosk, staff("clerk1"))
    url = f"/api/v1/tickets/{t['id']}/rating"
    good = {"token": token_of(t), "score": 5, "indicators": {"overall": 5, "attitude": 5}, "comment": "很快"}
    r = client.post(url, json=good)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["rating"] == {
        "id": r.get_json()["rating"]["id"],
        "score": 5,
        "level": "非常满意",
        "item": t["items"][0]["code"],
        "window": 1,
        "channel": "phone",
        "case_opened": False,
        "followup_days": None,  # only a 差评 opens a case with a deadline
        "followup_by": None,
    }
    again = client.post(url, json=good)
    assert again.status_code == 409 and error_code(again) == "already_rated"
    assert client.post(url, json={**good, "token": "nope"}).status_code == 403
    assert client.post(url, json={"score": 5}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"score": 0},
        {"score": 6},
        {"score": "5星"},
        {"score": 3, "indicators": {"speed": 3}},
        {"score": 3, "indicators": {"overall": 9}},
        {"score": 3, "comment": "x" * 501},
    ],
)
def test_bad_ratings_are_422(client, kiosk, staff, body) -> None:
    t = serve(kiosk, staff("clerk1"))
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), **body})
    assert r.status_code == 422 and error_code(r) == "invalid"


def test_only_finished_work_within_the_rating_period(client, kiosk, staff, clock) -> None:
    t = serve(kiosk, staff("clerk1"))
    waiting = issue(kiosk)
    r = client.post(f"/api/v1/tickets/{waiting['id']}/rating", json={"token": token_of(waiting), "score": 4})
    assert r.status_code == 409 and error_code(r) == "not_completed"
    clock.advance(hours=73)
    late = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": 4})
    assert late.status_code == 409 and error_code(late) == "rating_closed"
    missing = client.post("/api/v1/tickets/999999/rating", json={"token": "x", "score": 4})
    assert missing.status_code == 404


def test_joint_ticket_rates_each_item(client, kiosk, staff) -> None:
    codes = [item_code(kiosk, department="医保"), item_code(kiosk, queue="R", department="人社")]
    t = issue(kiosk, codes)
    clerk = staff("leader")
    act(clerk, 8, "call-next")
    act(clerk, 8, "start")
    act(clerk, 8, "complete")
    url = f"/api/v1/tickets/{t['id']}/rating"
    need = client.post(url, json={"token": token_of(t), "score": 5})
    assert need.status_code == 422 and error_code(need) == "item_required"
    for code in codes:
        assert client.post(url, json={"token": token_of(t), "score": 5, "item": code}).status_code == 201
    assert client.post(url, json={"token": token_of(t), "score": 5, "item": codes[0]}).status_code == 409


def test_window_tablet_rates_what_was_just_done_there(tablet, app, kiosk, staff, clock) -> None:
    assert tablet.get("/api/v1/windows/1/rating").get_json() == {"pending": None}
    t = serve(kiosk, staff("clerk1"))
    pending = tablet.get("/api/v1/windows/1/rating").get_json()["pending"]
    assert pending["number"] == t["number"] and pending["item"]["name"]
    r = tablet.post("/api/v1/windows/1/rating", json={"score": 4, "indicators": {"efficiency": 4}})
    assert r.status_code == 201 and r.get_json()["rating"]["channel"] == "window"
    assert tablet.get("/api/v1/windows/1/rating").get_json() == {"pending": None}, "rated: nothing left to offer"
    assert tablet.post("/api/v1/windows/2/rating", json={"score": 4}).status_code == 403, "another window's"
    serve(kiosk, staff("clerk1"))
    clock.advance(minutes=11)
    gone = tablet.post("/api/v1/windows/1/rating", json={"score": 4})
    assert gone.status_code == 404 and error_code(gone) == "nothing_to_rate"
    assert kiosk.post("/api/v1/windows/1/rating", json={"score": 4}).status_code == 403
    assert staff("clerk1").post("/api/v1/windows/1/rating", json={"score": 4}).status_code == 403


def test_a_bad_rating_opens_a_case_and_an_alert(client, kiosk, staff, svc) -> None:
    t = serve(kiosk, staff("clerk1"), priority="elderly", id_number=elderly_id())  # 实名: the ticket has an ID
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": 1, "comment": "等太久"})
    assert r.get_json()["rating"]["case_opened"] is True
    manager = staff("manager")
    alerts = manager.get("/api/v1/hall/alerts").get_json()["alerts"]
    assert any(a["kind"] == "bad_rating" and "1号窗口" in a["message"] for a in alerts)
    (case,) = manager.get("/api/v1/cases").get_json()["cases"]
    assert case["status"] == "open" and case["deadline"] == "2026-11-30", "5 working days after Monday 23 Nov"
    clerk = staff("clerk1")
    assert [c["id"] for c in clerk.get("/api/v1/cases").get_json()["cases"]] == [case["id"]]
    assert staff("clerk2").get("/api/v1/cases").get_json()["cases"] == []
    url = f"/api/v1/cases/{case['id']}"
    assert staff("clerk2").post(f"{url}/contact", json={"how": "电话", "text": "已致歉"}).status_code == 403
    assert clerk.post(f"{url}/contact", json={"how": "电话"}).status_code == 422, "a 回访 needs its content"
    assert clerk.post(f"{url}/contact", json={"how": "电话", "text": "电话回访，已致歉并说明"}).status_code == 200
    assert clerk.post(f"{url}/rectify", json={"text": "调整高峰排班"}).status_code == 200
    assert clerk.post(f"{url}/close", json={}).status_code == 403, "the duty leader closes"
    assert staff("leader").post(f"{url}/close", json={}).get_json()["case"]["status"] == "closed"
    assert not any(a["kind"] == "bad_rating" for a in manager.get("/api/v1/hall/alerts").get_json()["alerts"])
    s = manager.get("/api/v1/ratings/summary").get_json()
    assert s["bad"] == 1 and s["real_name_bad"] == 1 and s["revisit_rate"] == 1.0 and s["bad_closed_on_time"] == 1
    assert clerk.post(f"{url}/close", json={}).status_code == 403
    assert staff("leader").post(f"{url}/contact", json={"text": "x"}).status_code == 409


def test_appeal_is_decided_by_a_manager(client, kiosk, staff) -> None:
    t = serve(kiosk, staff("clerk1"))
    client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": 2})
    case_id = staff("manager").get("/api/v1/cases").get_json()["cases"][0]["id"]
    url = f"/api/v1/cases/{case_id}"
    assert staff("clerk1").post(f"{url}/appeal", json={"text": "群众材料不全，已一次性告知"}).status_code == 200
    assert staff("leader").post(f"{url}/uphold", json={}).status_code == 403
    assert staff("manager").post(f"{url}/reject", json={"text": "应主动引导"}).get_json()["case"]["status"] == "open"
    staff("clerk1").post(f"{url}/appeal", json={"text": "补充说明"})
    done = staff("manager").post(f"{url}/uphold", json={"text": "申诉成立"}).get_json()["case"]
    assert done["status"] == "appeal_upheld" and [r["action"] for r in done["records"]] == [
        "appeal",
        "reject",
        "appeal",
        "uphold",
    ]
    assert staff("manager").post(f"{url}/fly", json={}).status_code == 404


def test_overdue_cases_alert(client, kiosk, staff, svc, clock) -> None:
    t = serve(kiosk, staff("clerk1"))
    client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": 1})
    assert svc.ratings.overdue(svc.hall_id) == []
    clock.advance(days=8)
    (late,) = svc.ratings.overdue(svc.hall_id)
    kinds = {a["kind"] for a in staff("manager").get("/api/v1/hall/alerts").get_json()["alerts"]}
    assert "case_overdue" in kinds and late["status"] == "open"


def test_clerks_see_only_their_own_aggregates(client, kiosk, staff, app) -> None:
    for score, clerk in ((5, "clerk1"), (4, "clerk1"), (1, "clerk2")):
        window = int(clerk[-1])
        t = serve(kiosk, staff(clerk), window)
        client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": score})
    mine = staff("clerk1").get("/api/v1/ratings/mine").get_json()
    assert mine["count"] == 2 and mine["good_rate"] == 1.0 and mine["levels"]["5"] == 1 and mine["bad"] == 0
    assert "comment" not in str(mine) and "ticket" not in str(mine)
    assert staff("clerk1").get("/api/v1/ratings/summary").status_code == 403
    hall = staff("manager").get("/api/v1/ratings/summary").get_json()
    assert hall["count"] == 3 and hall["good_rate"] == round(2 / 3, 4) and hall["bad"] == 1
    assert login(app, "clerk2").get("/api/v1/ratings/mine").get_json()["bad"] == 1


def test_a_never_open_calendar_cannot_hang_a_bad_rating_or_a_report(client, kiosk, staff, svc) -> None:
    """Hours stored before the admin API refused a week with no opening day (or edited in the database)."""
    from hall.models import Hall

    t = serve(kiosk, staff("clerk1"))
    with svc.db.write() as session:
        hall = session.get(Hall, svc.hall_id)
        hall.settings = {**hall.settings, "hours": {"weekdays": [], "saturday": [], "sunday": []}}
    svc.engine.invalidate(svc.hall_id)
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token_of(t), "score": 1})
    assert r.status_code == 201 and r.get_json()["rating"]["case_opened"] is True, r.get_json()
    (case,) = staff("manager").get("/api/v1/cases").get_json()["cases"]
    assert case["deadline"] == "2026-11-28", "5 calendar days: the fallback when the calendar has no working day"
    r = staff("manager").get("/api/v1/reports?period=month")
    assert r.status_code == 200, r.get_json()
