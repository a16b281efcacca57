"""Display pages render in Chinese and the voice endpoint serves offline WAVs."""

from __future__ import annotations

import shutil

from tests.conftest import require


def test_hall_and_window_displays_render(client) -> None:
    r = client.get("/display/hall")
    assert r.status_code == 200 and "最近叫号" in r.text and "/static/vendor/socket.io.min.js" in r.text
    r = client.get("/display/window/3")
    assert r.status_code == 200 and "号窗口" in r.text and "const NUMBER = 3;" in r.text


def test_voice_endpoint(client) -> None:
    r = client.get("/display/voice/a001/3.wav")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    require(shutil.which("espeak-ng") is not None, "espeak-ng not installed")
    r = client.get("/display/voice/A001/3.wav")
    assert r.status_code == 200 and r.mimetype == "audio/wav" and r.data[:4] == b"RIFF"


def test_counter_console_page_renders(client) -> None:
    r = client.get("/counter")
    assert r.status_code == 200 and "柜台叫号台" in r.text and "/windows/${win}/" in r.text


def test_english_is_selectable_and_remembered(client) -> None:
    r = client.get("/counter?lang=en")
    assert "Counter console" in r.text and "柜台叫号台" not in r.text
    assert "lang=en" in r.headers.get("Set-Cookie", "")
    assert "Recent calls" in client.get("/display/hall").text  # the cookie carries the choice
    assert "最近叫号" in client.get("/display/hall?lang=zh_CN").text


def test_phone_tracking_page(kiosk, client) -> None:
    from tests.factories import issue

    t = issue(kiosk)
    token = t["track_url"].rsplit("/", 1)[1]
    r = client.get(f"/t/{token}")
    assert r.status_code == 200 and t["number"] in r.text and "所需材料" in r.text
    assert "1101" not in r.text  # nothing personal on a page anyone with the link can open
    r = client.get("/t/not-a-token")
    assert r.status_code == 404 and "号码不存在" in r.text


def test_voice_forms_and_chime(client) -> None:
    r = client.get("/display/voice/chime.wav")
    assert r.status_code == 200 and r.data[:4] == b"RIFF"
    r = client.get("/display/voice/A001/3.wav?form=loud")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"
    require(shutil.which("espeak-ng") is not None, "espeak-ng not installed")
    full, short = client.get("/display/voice/A001/3.wav"), client.get("/display/voice/A001/3.wav?form=short")
    assert full.status_code == short.status_code == 200 and len(short.data) < len(full.data) / 2
