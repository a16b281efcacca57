"""Behind nginx (HALL_PROXY_HOPS=1) the client's own address counts, for rate limits and the audit trail."""

from __future__ import annotations

from flask import request

from app import create_app
from tests.conftest import make_config


def _app(db_path, hops: int):
    app = create_app(make_config(db_path, AUTO_MIGRATE=False, PROXY_HOPS=hops))

    @app.get("/_whoami")
    def whoami() -> dict:
        return {"addr": request.remote_addr, "scheme": request.scheme}

    return app


def _close(app) -> None:
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


def test_forwarded_headers_count_only_behind_a_trusted_proxy(db_path) -> None:
    headers = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https"}
    direct = _app(db_path, 0)
    try:
        got = direct.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert got.get_json() == {"addr": "127.0.0.1", "scheme": "http"}  # a client cannot forge its address
    finally:
        _close(direct)
    proxied = _app(db_path, 1)
    try:
        got = proxied.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert got.get_json() == {"addr": "10.1.2.3", "scheme": "https"}
    finally:
        _close(proxied)
