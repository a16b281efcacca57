"""Real Chromium on the real server (with its scheduler running): today's duty leader and duty clerk show on the
hall display, and a manager's roster change reaches the screen live."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.server import Server, staff_session

pytestmark = pytest.mark.browser
DEMO = Path(__file__).resolve().parents[2] / "hall" / "halls" / "demo.toml"


@pytest.fixture(scope="module")
def roster_server(tmp_path_factory: pytest.TempPathFactory):
    """The demo hall with today declared a working day (the test may run on a weekend or a holiday)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    text = DEMO.read_text(encoding="utf-8")
    assert re.search(r"(?m)^\[hours\]$", text) and "\nworkdays" not in text
    config = tmp_path_factory.mktemp("roster") / "hall.toml"
    config.write_text(re.sub(r"(?m)^\[hours\]$", f'[hours]\nworkdays = ["{today}"]', text), encoding="utf-8")
    with Server(env={"HALL_CONFIG": str(config)}) as srv:
        yield srv


def test_todays_duty_shows_on_the_hall_display_and_follows_an_edit(browser, roster_server) -> None:
    from playwright.sync_api import expect

    url = roster_server.url
    manager = staff_session(url, "manager")
    today = manager.get(f"{url}/api/v1/roster/today", timeout=10).json()
    assert today["working"] and today["leader"] and today["clerk"]  # filled from the hall config's rota

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/display/hall")
    expect(page.locator("#duty-leader")).to_have_text(today["leader"]["name"], timeout=10000)
    expect(page.locator("#duty-clerk")).to_have_text(today["clerk"]["name"], timeout=1000)

    leader = "leader" if today["leader"]["username"] != "leader" else "manager"
    clerk = "clerk5" if today["clerk"]["username"] != "clerk5" else "clerk4"
    r = manager.put(
        f"{url}/api/v1/roster",
        params={"month": today["day"][:7]},
        json={"days": [{"day": today["day"], "leader": leader, "clerk": clerk}]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    after = next(d for d in r.json()["days"] if d["day"] == today["day"])
    expect(page.locator("#duty-leader")).to_have_text(after["leader"]["name"], timeout=2000)
    expect(page.locator("#duty-clerk")).to_have_text(after["clerk"]["name"], timeout=2000)
    assert "值班领导" in page.content()

    # The server process runs the scheduler (HALL_SCHEDULER defaults to 1): its jobs are in the job store.
    log = roster_server.log.read_text(encoding="utf-8", errors="replace")
    assert "scheduler started" in log and "demo:closing" in log
