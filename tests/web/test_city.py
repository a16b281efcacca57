"""A city's halls on one server: both seeded from config, scoped staff, the overview and the service circle."""

from __future__ import annotations

import pytest

from app import create_app
from hall.clock import FakeClock
from tests.conftest import login, make_config


@pytest.fixture
def city_app(tmp_path):
    app = create_app(
        make_config(tmp_path / "city.db", FakeClock(), HALL_CONFIG="hall/halls/demo.toml,hall/halls/township.toml")
    )
    yield app
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


def device(app, token: str):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return c


def test_two_halls_one_server(city_app) -> None:
    svc = city_app.extensions["hall"]
    assert len(svc.hall_ids) == 2 and svc.hall_code == "demo"
    county, town = device(city_app, "demo-kiosk-1"), device(city_app, "demo-cg-kiosk-1")
    a = county.post("/api/v1/tickets", json={"items": ["YB001"]}).get_json()["ticket"]
    z = town.post("/api/v1/tickets", json={"items": ["YB001"]}).get_json()["ticket"]
    assert a["number"] == "A001" and z["number"] == "Z001", "each hall numbers its own tickets"
    cg = login(city_app, "cg-clerk1")
    assert cg.post("/api/v1/windows/1/call-next").get_json()["ticket"]["number"] == "Z001"
    assert cg.get(f"/api/v1/tickets/{a['id']}").status_code == 404, "another hall's ticket is out of reach"
    page = city_app.test_client().get("/display/hall?hall=chengguan")
    assert page.status_code == 200 and b"chengguan" in page.data
    assert city_app.test_client().get("/display/hall?hall=nowhere").status_code == 404


def test_city_overview_and_the_15_minute_circle(city_app) -> None:
    county = device(city_app, "demo-kiosk-1")
    for _ in range(40):
        assert county.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code in (201, 429)
    # A window counts only while a clerk is signed in at it (presence): one clerk in each hall.
    assert login(city_app, "clerk1").post("/api/v1/windows/1/presence").status_code == 200
    assert login(city_app, "cg-clerk1").post("/api/v1/windows/1/presence").status_code == 200
    city = login(city_app, "city")
    data = city.get("/api/v1/city/overview").get_json()
    halls = {h["code"]: h for h in data["halls"]}
    assert set(halls) == {"demo", "chengguan"}
    assert halls["demo"]["waiting"] >= 30 and halls["chengguan"]["waiting"] == 0
    assert halls["chengguan"]["level"] == "township" and halls["chengguan"]["parent"] == "demo"
    (better,) = halls["demo"]["shorter_nearby"]
    assert better["code"] == "chengguan" and 2 < better["distance_km"] < 5 and better["travel_minutes"] <= 15
    assert halls["chengguan"]["shorter_nearby"] == []
    own = login(city_app, "manager").get("/api/v1/city/overview").get_json()
    assert [h["code"] for h in own["halls"]] == ["demo"], "a hall manager sees their own hall"
    assert login(city_app, "clerk1").get("/api/v1/city/overview").status_code == 403
    assert city_app.test_client().get("/city").status_code == 200
