"""Reports through the API: a hand-computed morning, every grouping, exports equal to the screen, roles."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests.factories import act, elderly_id, error_code, issue

DAY = "2026-11-23"


def token_of(ticket: dict) -> str:
    return ticket["track_url"].rsplit("/", 1)[1]


@pytest.fixture
def morning(app, client, kiosk, staff, clock):
    """Monday 09:00–09:55 at windows 1 (clerk1) and 2 (clerk2); the report is read on Tuesday.

    T1 YB001 (实名) called 09:05, served 5 min                       → wait 5,  handling 5  (expected 5)
    T2 YB006 called 09:10 at w2, parked 09:20, resumed 09:31, done 09:35 → wait 10, handling 14 (expected 8)
    T3 YB001 called 09:12, transferred to w2 09:22, called 09:25, done 09:31 → wait 25, handling 16 (expected 5)
    T4 YB003 called 09:22 → 过号 (requeued) → called 09:26 → 过号 (final) → wait 26
    T5 YB023 (实名) called 09:24, served 2 min                       → wait 24, handling 2  (expected 2)
    T6 YB001 issued 09:30, cancelled 09:32 (never called)
    T7 YB001 issued 09:36, called 09:40 → wait 4, parked 09:45, never back (its 限时 deadline passes at midnight)
    Ratings: T1 5, T2 4, T3 2 (anonymous 差评, case left open), T5 1 (实名差评: 回访, 说明, closed on time).
    """
    c1, c2, manager = staff("clerk1"), staff("clerk2"), staff("manager")
    t = {}
    t[1] = issue(kiosk, ["YB001"], id_number=elderly_id(1950))
    t[2] = issue(kiosk, ["YB006"])
    t[3] = issue(kiosk, ["YB001"])
    t[4] = issue(kiosk, ["YB003"])
    t[5] = issue(kiosk, ["YB023"], id_number=elderly_id(1951))
    clock.advance(minutes=5)  # 09:05
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[1]["number"]
    act(c1, 1, "start")
    clock.advance(minutes=5)  # 09:10
    act(c1, 1, "complete")
    assert act(c2, 2, "call-next")["ticket"]["number"] == t[2]["number"]
    act(c2, 2, "start")
    clock.advance(minutes=2)  # 09:12
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[3]["number"]
    act(c1, 1, "start")
    clock.advance(minutes=8)  # 09:20
    act(c2, 2, "park", missing=["《参保缴费信息补录申请表》"])
    clock.advance(minutes=2)  # 09:22
    act(c1, 1, "transfer", to_window=2, position="first")
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[4]["number"]
    clock.advance(minutes=2)  # 09:24
    assert act(c1, 1, "no-show")["ticket"]["status"] == "waiting"  # 过号 once: back in line
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[5]["number"]
    act(c1, 1, "start")
    clock.advance(minutes=1)  # 09:25
    assert act(c2, 2, "call-next")["ticket"]["number"] == t[3]["number"]
    act(c2, 2, "start")
    clock.advance(minutes=1)  # 09:26
    act(c1, 1, "complete")
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[4]["number"]
    assert act(c1, 1, "no-show")["ticket"]["status"] == "no_show"
    clock.advance(minutes=4)  # 09:30
    t[6] = issue(kiosk, ["YB001"])
    clock.advance(minutes=1)  # 09:31
    act(c2, 2, "complete")
    act(c2, 2, "resume", ticket=t[2]["id"])
    clock.advance(minutes=1)  # 09:32
    r = client.post(f"/api/v1/tickets/{t[6]['id']}/cancel", json={"token": token_of(t[6])})
    assert r.status_code == 200, r.get_json()
    clock.advance(minutes=3)  # 09:35
    act(c2, 2, "complete")
    clock.advance(minutes=1)  # 09:36
    t[7] = issue(kiosk, ["YB001"])
    clock.advance(minutes=4)  # 09:40
    assert act(c1, 1, "call-next")["ticket"]["number"] == t[7]["number"]
    act(c1, 1, "start")
    clock.advance(minutes=5)  # 09:45
    act(c1, 1, "park", missing=["户口簿"])
    clock.advance(minutes=5)  # 09:50
    ratings = {}
    for n, score in ((1, 5), (2, 4), (3, 2), (5, 1)):
        r = client.post(f"/api/v1/tickets/{t[n]['id']}/rating", json={"token": token_of(t[n]), "score": score})
        assert r.status_code == 201, r.get_json()
        ratings[n] = r.get_json()["rating"]
    assert {n: x["case_opened"] for n, x in ratings.items()} == {1: False, 2: False, 3: True, 5: True}
    clock.advance(minutes=5)  # 09:55
    cases = manager.get("/api/v1/cases").get_json()["cases"]
    t5_case = next(c for c in cases if c["rating_id"] == ratings[5]["id"])
    for action, body in (
        ("contact", {"how": "电话", "text": "已致电了解情况并致歉"}),
        ("explain", {"text": "打印机卡纸导致等待，已更换"}),
        ("close", {}),
    ):
        r = manager.post(f"/api/v1/cases/{t5_case['id']}/{action}", json=body)
        assert r.status_code == 200, r.get_json()
    clock.advance(hours=24)  # Tuesday 09:55: T7's same-day deadline has passed
    return t


def report(client, **query) -> dict:
    r = client.get("/api/v1/reports", query_string={"date": DAY, **query})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def eta_figures(tickets: dict, waits: dict[int, float]) -> tuple[float, float]:
    """ETA hit rate and MAE of the printed ranges against the waits (by hand, rounded as on the screen)."""
    ranges = [(tickets[n]["eta_minutes"]["low"], tickets[n]["eta_minutes"]["high"], w) for n, w in waits.items()]
    inside = sum(lo <= w <= hi for lo, hi, w in ranges) / len(ranges)
    mae = sum(abs((lo + hi) / 2 - w) for lo, hi, w in ranges) / len(ranges)
    return round(inside, 3), float(f"{mae + 1e-9:.1f}")


def test_the_whole_hall_by_hand(morning, staff) -> None:
    r = report(staff("manager"))
    assert (r["period"], r["from"], r["to"], r["by"]) == ("day", DAY, DAY, "hall")
    assert [row["key"] for row in r["rows"]] == ["hall"] and r["rows"][0]["figures"] == r["total"]["figures"]
    f = r["total"]["figures"]
    inside, mae = eta_figures(morning, {1: 5, 2: 10, 3: 25, 4: 26, 5: 24, 7: 4})
    assert f == {
        "tickets": 7,
        "called": 6,
        "completed": 4,
        "wait_mean": 15.7,  # (5 + 10 + 25 + 26 + 24 + 4) / 6
        "wait_p90": 26.0,  # nearest rank: the 6th of 6
        "within_15": 0.5,  # 5, 10, 4
        "handling_mean": 9.3,  # (5 + 14 + 16 + 2) / 4 = 9.25, half up
        "expected_mean": 5.0,  # (5 + 8 + 5 + 2) / 4
        "handling_ok": 0.5,  # T1 5 ≤ 7.5, T5 2 ≤ 3; T2 14 > 12, T3 16 > 7.5
        "time_limit_rate": 0.8,  # T1 T2 T3 T5 on time, T7 past its same-day deadline
        "no_show_rate": 0.167,  # T4 of 6 called
        "transfers": 1,
        "parked": 2,
        "parked_completed": 1,
        "parked_completion": 0.5,
        "ratings": 4,
        "good_rate": 0.5,
        "bad": 2,
        "bad_closed_on_time": 1,
        "revisit_rate": 1.0,  # the one 实名差评 (T5) was called back
        "online_at_counter": 3,  # YB001 ×2 and YB023; YB006 cannot be done online
        "online_share": 0.75,
        "eta_inside": inside,
        "eta_mae": mae,
    }
    cells = dict(zip([c["key"] for c in r["columns"]], r["total"]["cells"], strict=True))
    assert cells["wait_mean"] == "15.7" and cells["no_show_rate"] == "16.7%" and cells["tickets"] == "7"
    assert cells["good_rate"] == "50.0%"


def test_by_window_and_clerk(morning, staff) -> None:
    r = report(staff("manager"), by="window")
    rows = {row["key"]: row for row in r["rows"]}
    assert list(rows) == [1, 2, None]  # windows in order, tickets never called last
    assert rows[1]["label"] == "1号 综合窗口1" and rows[None]["label"] == "未叫号"
    w1, w2, none = rows[1]["figures"], rows[2]["figures"], rows[None]["figures"]
    assert (w1["tickets"], w1["called"], w1["completed"]) == (4, 4, 2)  # T1 T4 T5 T7 (T3 ended at w2)
    assert (w1["wait_mean"], w1["wait_p90"], w1["within_15"]) == (14.8, 26.0, 0.5)  # 59 / 4 = 14.75
    assert (w1["handling_mean"], w1["expected_mean"], w1["handling_ok"]) == (3.5, 3.5, 1.0)
    assert (w1["time_limit_rate"], w1["no_show_rate"]) == (0.667, 0.25)
    assert (w1["transfers"], w1["parked"], w1["parked_completed"], w1["parked_completion"]) == (1, 1, 0, 0.0)
    assert (w1["ratings"], w1["good_rate"], w1["bad"], w1["bad_closed_on_time"], w1["revisit_rate"]) == (
        2,
        0.5,
        1,
        1,
        1.0,
    )
    assert (w1["online_at_counter"], w1["online_share"]) == (2, 1.0)
    assert (w2["tickets"], w2["wait_mean"], w2["wait_p90"], w2["within_15"]) == (2, 17.5, 25.0, 0.5)
    assert (w2["handling_mean"], w2["expected_mean"], w2["handling_ok"], w2["time_limit_rate"]) == (15.0, 6.5, 0.0, 1.0)
    assert (w2["transfers"], w2["parked"], w2["parked_completed"], w2["parked_completion"]) == (0, 1, 1, 1.0)
    assert (w2["ratings"], w2["bad"], w2["bad_closed_on_time"], w2["revisit_rate"]) == (2, 1, 0, None)
    assert (w2["online_at_counter"], w2["online_share"]) == (1, 0.5)
    assert (none["tickets"], none["called"], none["wait_mean"], none["no_show_rate"]) == (1, 0, None, None)
    assert sum(row["figures"]["tickets"] for row in r["rows"]) == r["total"]["figures"]["tickets"]

    by_clerk = report(staff("manager"), by="clerk")
    clerks = {row["label"]: row["figures"] for row in by_clerk["rows"]}
    assert clerks["张敏（YB0101）"] == w1 and clerks["李娜（YB0102）"] == w2
    assert by_clerk["total"] == r["total"]


def test_by_item_follows_the_catalogue(morning, staff) -> None:
    r = report(staff("manager"), by="item")
    assert [row["key"] for row in r["rows"]] == ["YB001", "YB003", "YB006", "YB023"]
    yb001 = r["rows"][0]
    assert yb001["label"] == "城乡居民参保登记"
    f = yb001["figures"]
    assert (f["tickets"], f["called"], f["completed"]) == (4, 3, 2)  # T1 T3 T6 T7
    assert (f["wait_mean"], f["wait_p90"], f["within_15"]) == (11.3, 25.0, 0.667)
    assert (f["handling_mean"], f["expected_mean"], f["handling_ok"], f["time_limit_rate"]) == (10.5, 5.0, 0.5, 0.667)
    assert (f["transfers"], f["parked"], f["parked_completion"]) == (1, 1, 0.0)
    assert (f["ratings"], f["good_rate"], f["bad"], f["revisit_rate"]) == (2, 0.5, 1, None)
    yb003 = r["rows"][1]["figures"]
    assert (yb003["tickets"], yb003["no_show_rate"], yb003["completed"], yb003["time_limit_rate"]) == (1, 1.0, 0, None)
    assert r["rows"][2]["figures"]["online_at_counter"] == 0  # YB006 is counter-only


def test_periods_week_month_and_empty_days(morning, staff) -> None:
    manager = staff("manager")
    week = report(manager, period="week", date="2026-11-25")
    assert (week["from"], week["to"]) == ("2026-11-23", "2026-11-29")
    day = report(manager)
    assert week["total"]["figures"] == day["total"]["figures"]
    month = report(manager, period="month")
    assert (month["from"], month["to"]) == ("2026-11-01", "2026-11-30")
    assert month["total"]["figures"]["tickets"] == 7
    empty = report(manager, date="2026-11-20")
    assert empty["total"]["figures"]["tickets"] == 0 and empty["total"]["cells"][3] == "—"
    bad = manager.get("/api/v1/reports?period=year")
    assert bad.status_code == 422 and error_code(bad) == "invalid"
    assert manager.get("/api/v1/reports?by=desk").status_code == 422


@pytest.mark.parametrize("by", ["hall", "item", "window", "clerk"])
def test_exports_carry_the_numbers_of_the_screen(morning, staff, by) -> None:
    manager = staff("manager")
    screen = report(manager, by=by)
    r = manager.get("/api/v1/reports/export", query_string={"date": DAY, "by": by, "format": "csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f"report-demo-day-{DAY}-{by}.csv" in r.headers["Content-Disposition"]
    assert r.data.startswith("\ufeff".encode())  # Excel opens UTF-8 Chinese correctly
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["分组", "名称", *(c["label"] for c in screen["columns"])]
    body = [[x["key_text"], x["label"], *x["cells"]] for x in screen["rows"]]
    if by != "hall":  # the screen's 合计 line too (grouped by hall, the one row is the total)
        body.append(["", "合计", *screen["total"]["cells"]])
    assert rows[1:] == body

    x = manager.get("/api/v1/reports/export", query_string={"date": DAY, "by": by, "format": "xlsx"})
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(x.data))
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == ["分组", "名称", *(c["label"] for c in screen["columns"])]
    assert len(values) == 1 + len(screen["rows"]) + (by != "hall")
    if by != "hall":
        last = values[-1]
        assert last[1] == "合计" and last[2] == screen["total"]["figures"]["tickets"]
        assert sheet.cell(row=len(values), column=2).font.bold
    formats = {"count": "0", "minutes": "0.0", "rate": "0.0%"}
    for n, row in enumerate(screen["rows"], start=2):
        got = values[n - 1]
        assert got[0] == ((row["key_text"] or None) if by == "clerk" else row["key"]) and got[1] == row["label"]
        for i, col in enumerate(screen["columns"], start=2):
            assert got[i] == row["figures"][col["key"]], (row["key"], col["key"])
            cell = sheet.cell(row=n, column=i + 1)
            assert cell.number_format == formats[col["unit"]]
            # The number format shows exactly the screen's text.
            if got[i] is not None:
                shown = (
                    f"{got[i] * 100:.1f}%"
                    if col["unit"] == "rate"
                    else f"{got[i]:.1f}"
                    if col["unit"] == "minutes"
                    else str(got[i])
                )
                assert shown == row["cells"][i - 2]
    info = dict(book.worksheets[1].iter_rows(values_only=True))
    labels = {"hall": "全厅", "item": "事项", "window": "窗口", "clerk": "工作人员"}
    assert info["起"] == DAY and info["分组"] == labels[by] and info["周期"] == "日", "human labels, not keys"
    assert "docs/" not in info["口径说明"], "no repository file for a manager"
    if by == "clerk":
        assert all(not str(x["key_text"]).isdigit() or len(str(x["key_text"])) > 3 for x in screen["rows"])
        named = [x for x in screen["rows"] if x["key"] is not None]
        assert named and all(x["key_text"] and x["key_text"] in x["label"] for x in named), "工号, also in the name"


def test_english_labels_follow_the_language(morning, staff) -> None:
    manager = staff("manager")
    r = manager.get("/api/v1/reports", query_string={"date": DAY, "by": "window", "lang": "en"}).get_json()
    labels = {c["key"]: c["label"] for c in r["columns"]}
    assert labels["good_rate"] == "Good ratings (4–5)" and labels["time_limit_rate"] == "Done within time limit"
    assert r["rows"][-1]["label"] == "Not called"
    csv_en = manager.get("/api/v1/reports/export", query_string={"date": DAY, "format": "csv", "lang": "en"})
    assert csv_en.data.decode("utf-8-sig").startswith("Group,Name,Tickets,")


def test_roles(app, client, staff) -> None:
    anonymous = client.get("/api/v1/reports")
    assert anonymous.status_code == 401 and error_code(anonymous) == "unauthenticated"
    assert client.get("/api/v1/reports/export?format=csv").status_code == 401
    assert client.get("/api/v1/dashboard").status_code == 401
    clerk = staff("clerk1")
    for path in (
        "/api/v1/reports",
        "/api/v1/reports/export?format=xlsx",
        "/api/v1/reports/hourly",
        "/api/v1/dashboard",
    ):
        r = clerk.get(path)
        assert r.status_code == 403 and error_code(r) == "forbidden_role", path
    for who in ("leader", "manager", "admin"):
        assert staff(who).get("/api/v1/reports").status_code == 200
    kiosk = app.test_client()
    kiosk.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-kiosk-1"
    assert kiosk.get("/api/v1/reports").status_code == 403


def test_hourly_today_against_the_last_four_mondays(kiosk, staff, clock) -> None:
    manager, c1 = staff("manager"), staff("clerk1")
    today = clock.now()
    # Four weeks ago and two weeks ago (Mondays): one ticket at 09:00 each, last called after 6 and 10 minutes.
    for weeks, wait in ((4, 6), (2, 10)):
        clock.set(today - timedelta(weeks=weeks))
        issue(kiosk, ["YB001"])
        clock.advance(minutes=wait)
        act(c1, 1, "call-next")
        act(c1, 1, "no-show")  # requeued, called again at once
        act(c1, 1, "call-next")
        act(c1, 1, "no-show")
    clock.set(today)
    issue(kiosk, ["YB001"])
    issue(kiosk, ["YB001"])
    clock.advance(minutes=62)  # 10:02
    issue(kiosk, ["YB001"])
    r = manager.get("/api/v1/reports/hourly")
    assert r.status_code == 200, r.get_json()
    h = r.get_json()
    assert h["date"] == DAY and h["baseline_days"] == ["2026-11-09", "2026-10-26"]  # weeks with no tickets skipped
    at = h["hours"].index("09")
    assert h["today"]["arrivals"][at : at + 2] == [2, 1]
    assert h["baseline"]["arrivals"][at] == 1.0 and h["baseline"]["arrivals"][at + 1] == 0.0
    assert h["baseline"]["mean_wait"][at] == 8.0  # (6 + 10) / 2, pooled
    assert h["today"]["mean_wait"][at] is None  # nobody called yet today
    assert h["hours"][0] == "08" and h["hours"][-1] == "17"
