"""The session cookie is Secure over TLS (direct or via a trusted proxy), and the access log keeps no secrets."""

from __future__ import annotations

import logging
import threading

import requests
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import make_config
from tests.factories import issue

LOGIN = {"username": "clerk1", "password": "demo"}


def _stop(app) -> None:
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


def session_cookie(response) -> str:
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


def test_the_session_cookie_is_secure_behind_a_tls_proxy_only(db_path, clock) -> None:
    proxied = create_app(make_config(db_path, clock, AUTO_MIGRATE=False, PROXY_HOPS=1))
    try:
        tls = proxied.test_client().post("/api/v1/auth/login", json=LOGIN, headers={"X-Forwarded-Proto": "https"})
        assert "; Secure" in session_cookie(tls)
        plain = proxied.test_client().post("/api/v1/auth/login", json=LOGIN)
        assert "; Secure" not in session_cookie(plain), "a plain-HTTP intranet hall keeps working"
    finally:
        _stop(proxied)
    direct = create_app(make_config(db_path, clock, AUTO_MIGRATE=False))
    try:
        forged = direct.test_client().post("/api/v1/auth/login", json=LOGIN, headers={"X-Forwarded-Proto": "https"})
        assert "; Secure" not in session_cookie(forged), "no trusted proxy: the header is ignored"
        over_tls = direct.test_client().post("/api/v1/auth/login", json=LOGIN, base_url="https://localhost")
        assert "; Secure" in session_cookie(over_tls)
    finally:
        _stop(direct)


def test_secure_cookies_can_be_required_by_setting(db_path, clock) -> None:
    app = create_app(make_config(db_path, clock, AUTO_MIGRATE=False, SESSION_COOKIE_SECURE=True))
    try:
        assert "; Secure" in session_cookie(app.test_client().post("/api/v1/auth/login", json=LOGIN))
    finally:
        _stop(app)


def test_the_access_log_records_no_device_tokens_or_ticket_secrets(app, kiosk, caplog) -> None:
    ticket = issue(kiosk)
    secret = ticket["track_url"].rsplit("/", 1)[1]
    server = make_server("127.0.0.1", 0, app, threaded=True)  # the real werkzeug server and its access log
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            requests.get(f"{base}/kiosk?device=demo-kiosk-1&lang=en", timeout=10)
            requests.get(f"{base}/api/v1/tickets/{ticket['id']}?token={secret}", timeout=10)
            requests.get(f"{base}/t/{secret}", timeout=10)
    finally:
        server.shutdown()
        thread.join()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len([line for line in lines if "GET " in line]) == 3, lines
    text = "\n".join(lines)
    assert "demo-kiosk-1" not in text and secret not in text
    assert "/kiosk?device=***&lang=en" in text and "?token=***" in text and "/t/***" in text
