"""CSRF on cookie sessions, security headers, session lifetime."""

from __future__ import annotations

from tests.factories import error_code, issue


def test_cookie_sessions_need_the_csrf_token(app, kiosk) -> None:
    issue(kiosk)
    c = app.test_client()
    r = c.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"})
    token = r.get_json()["csrf_token"]
    assert token and c.get("/api/v1/auth/me").get_json()["csrf_token"]
    bare = c.post("/api/v1/windows/1/call-next")
    assert bare.status_code == 400 and error_code(bare) == "csrf_failed"
    forged = c.post("/api/v1/windows/1/call-next", headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400 and error_code(forged) == "csrf_failed"
    ok = c.post("/api/v1/windows/1/call-next", headers={"X-CSRFToken": token})
    assert ok.status_code == 200
    assert c.get("/api/v1/windows/1").status_code == 200, "reads need no token"
    assert c.post("/api/v1/auth/logout").status_code == 400, "logging out is a change too"
    assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204


def test_devices_and_citizens_need_no_csrf_token(client, kiosk) -> None:
    t = issue(kiosk)  # bearer token, no cookie session
    secret = t["track_url"].rsplit("/", 1)[1]
    assert client.post(f"/api/v1/tickets/{t['id']}/cancel", json={"token": secret}).status_code == 200


def test_security_headers_on_pages_and_api(client) -> None:
    for path in ("/kiosk", "/display/hall", "/api/v1/hall/status"):
        r = client.get(path)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "same-origin"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "http:" not in csp.replace("ws:", "").replace("wss:", ""), "nothing from other origins"


def test_staff_sessions_expire(app) -> None:
    c = app.test_client()
    r = c.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo"})
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_admin_rotates_a_device_token(app, staff) -> None:
    kiosk = app.test_client()
    kiosk.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-kiosk-2"
    assert kiosk.get("/api/v1/items").status_code == 200
    assert kiosk.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 201
    assert staff("manager").post("/api/v1/hall/devices/kiosk-2/token").status_code == 403
    r = staff("admin").post("/api/v1/hall/devices/kiosk-2/token")
    assert r.status_code == 200
    new = r.get_json()["token"]
    assert len(new) >= 32 and new != "demo-kiosk-2"
    old = kiosk.post("/api/v1/tickets", json={"items": ["YB001"]})
    assert old.status_code == 401, "the old token stops at once"
    kiosk.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new}"
    assert kiosk.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code == 201
    assert staff("admin").post("/api/v1/hall/devices/nope/token").status_code == 404
