"""Bad input answers a clear 4xx, never a 500: out-of-range dates, JSON nested too deep, names with control
characters in exports (and formula-like names), the CSV's Content-Type."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hall.models import Item, Rating
from tests.factories import act, error_code, issue


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_dates_out_of_range_are_a_422(staff, day) -> None:
    manager, clerk = staff("manager"), staff("clerk1")
    for client, url in (
        (manager, f"/api/v1/ratings/summary?from={day}"),
        (manager, f"/api/v1/ratings/summary?to={day}"),
        (clerk, f"/api/v1/ratings/mine?from={day}&to={day}"),
        (manager, f"/api/v1/reports?date={day}"),
        (manager, f"/api/v1/reports?period=month&date={day}"),
        (manager, f"/api/v1/reports/export?format=xlsx&date={day}"),
        (manager, f"/api/v1/reports/hourly?date={day}"),
    ):
        r = client.get(url)
        assert r.status_code == 422 and error_code(r) == "invalid", (url, r.status_code, r.get_json())
        assert "2000-01-01" in r.get_json()["error"]["message"]
    assert manager.get("/api/v1/ratings/summary?from=2000-01-01&to=2100-12-31").status_code == 200


def test_a_period_must_not_end_before_it_starts(staff) -> None:
    r = staff("manager").get("/api/v1/ratings/summary?from=2026-11-23&to=2026-11-01")
    assert r.status_code == 422 and error_code(r) == "invalid"
    assert staff("clerk1").get("/api/v1/ratings/mine?from=2026-11-23&to=2026-11-01").status_code == 422


def test_an_overflow_wrapped_by_sqlalchemy_is_a_422(app, svc) -> None:
    """A date that slips past the schemas: SQLAlchemy wraps the OverflowError in a StatementError."""

    def far_past() -> dict:
        with svc.db.read() as session:
            session.scalars(
                select(Rating).where(Rating.rated_at >= datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))))
            )
        return {}

    app.add_url_rule("/api/v1/test-overflow", view_func=far_past)
    r = app.test_client().get("/api/v1/test-overflow")
    assert r.status_code == 422 and error_code(r) == "invalid", r.get_json()


def test_json_nested_too_deep_is_a_400(client, kiosk, staff) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for who, url in ((client, "/api/v1/auth/login"), (kiosk, "/api/v1/tickets")):
        r = who.post(url, data=deep, content_type="application/json")
        assert r.status_code == 400 and error_code(r) == "bad_request", (url, r.status_code, r.get_json())
    nested: object = "x"
    for _ in range(40):
        nested = {"a": nested}
    admin = staff("admin")
    r = admin.post("/api/v1/admin/devices", json={"name": "p9", "kind": "printer", "config": nested})
    assert r.status_code == 400, r.get_json()
    shallow = admin.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    assert shallow.status_code == 401, "ordinary bodies parse as before"


def rename_item(svc, code: str, name: str) -> None:
    """A name as it may sit in the database (imported, or stored before text was validated)."""
    with svc.db.write() as session:
        item = session.scalars(select(Item).where(Item.hall_id == svc.hall_id, Item.code == code)).one()
        item.name = name
    svc.engine.invalidate(svc.hall_id)


def test_exports_survive_control_characters_and_defuse_formulas(kiosk, staff, svc) -> None:
    clerk = staff("clerk1")
    code = issue(kiosk)["items"][0]["code"]
    act(clerk, 1, "call-next")
    act(clerk, 1, "start")
    act(clerk, 1, "complete")
    rename_item(svc, code, '=HYPERLINK("http://evil.example")\x04窗')
    manager = staff("manager")
    x = manager.get("/api/v1/reports/export?format=xlsx&by=item")
    assert x.status_code == 200, x.get_json()
    labels = [row[1] for row in load_workbook(io.BytesIO(x.data)).worksheets[0].iter_rows(values_only=True)]
    assert '\'=HYPERLINK("http://evil.example")窗' in labels, labels
    c = manager.get("/api/v1/reports/export?format=csv&by=item")
    rows = list(csv.reader(io.StringIO(c.data.decode("utf-8-sig"))))
    assert [r[1] for r in rows if "HYPERLINK" in r[1]] == ['\'=HYPERLINK("http://evil.example")窗']
    for formula in ("+1", "-1+2", "@SUM(A1)", "\t=1"):
        rename_item(svc, code, formula)
        c = manager.get("/api/v1/reports/export?format=csv&by=item")
        names = [r[1] for r in csv.reader(io.StringIO(c.data.decode("utf-8-sig")))]
        assert "'" + formula in names, (formula, names)


def test_the_csv_content_type_names_its_charset_once(staff) -> None:
    r = staff("manager").get("/api/v1/reports/export?format=csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
