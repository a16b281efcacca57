"""The kiosk page and its QR codes (server side)."""

from __future__ import annotations

from tests.factories import issue


def test_kiosk_page_is_chinese_first_and_self_contained(client) -> None:
    r = client.get("/kiosk")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "自助取号" in html and "绿色通道" in html and "大字模式" in html
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html, "no CDN"
    with client.get("/kiosk/static/kiosk.js") as js:
        assert js.status_code == 200
    en = client.get("/kiosk?lang=en").get_data(as_text=True)
    assert 'lang="en"' in en and "Take a number" in en and "Large text" in en


def test_tracking_qr_is_an_svg_for_real_tickets_only(client, kiosk) -> None:
    t = issue(kiosk)
    token = t["track_url"].rsplit("/", 1)[1]
    r = client.get(f"/t/{token}/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    assert client.get("/t/not-a-token/qr.svg").status_code == 404


def test_online_portal_qr(client) -> None:
    r = client.get("/kiosk/online.svg")
    assert r.status_code == 200 and b"<svg" in r.data
