"""Rate limits (Flask-Limiter): tickets per kiosk and per staff member, login attempts per user and address.

Storage is in memory for the single-PC hall and Redis when several server processes share a message queue.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_login import current_user
from limits import parse


def _app_key() -> str:
    # A per-app random id keeps counters of apps built one after another in one process (the test suite)
    # apart; id() would be reused once an old app is freed.
    return current_app.extensions["hall"].uid


def actor_key() -> str:
    """Limit per device or staff account when authenticated, else per client address."""
    if current_user.is_authenticated:
        return f"{_app_key()}:{current_user.kind}:{current_user.actor.name}"
    return f"{_app_key()}:ip:{request.remote_addr}"


def login_key() -> str:
    """Login attempts count per username and address together."""
    body = request.get_json(silent=True) or {}
    name = str(body.get("username", ""))[:64] if isinstance(body, dict) else ""
    return f"{_app_key()}:login:{name}:{request.remote_addr}"


def address_key() -> str:
    """Per client address, whoever is logged in (guessing from one address with ever new usernames or codes)."""
    return f"{_app_key()}:addr:{request.remote_addr}"


def failed(response: Response) -> bool:
    """Count only refused attempts (wrong password, unknown booking): a clerk who logs in is never slowed."""
    return response.status_code in (401, 403, 404)


def allow(limit: str, *identifiers: str) -> bool:
    """Count one hit against ``limit`` for ``identifiers`` outside a Flask route (Socket.IO events)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return limiter.limiter.hit(parse(limit), _app_key(), *identifiers)


limiter = Limiter(key_func=actor_key, default_limits=[], headers_enabled=True)


def init_app(app: Flask) -> None:
    """Bind the limiter; RATELIMIT_ENABLED=False (HALL_RATELIMIT=0) turns it off for load benchmarks."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("MESSAGE_QUEUE") or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # Redis down must not stop the hall: count per process in memory until it is back, never fail a request.
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 1, "socket_connect_timeout": 1})
    app.config.setdefault("ISSUE_RATE_LIMIT", "30 per minute")
    app.config.setdefault("LOGIN_RATE_LIMIT", "10 per minute")
    app.config.setdefault("LOGIN_ADDRESS_RATE_LIMIT", "20 per minute")  # failed logins from one address
    app.config.setdefault("CANCEL_RATE_LIMIT", "10 per 10 minutes")  # failed booking cancellations per address
    app.config.setdefault("SNAPSHOT_RATE_LIMIT", "10 per 10 seconds")  # /display snapshot requests per client
    limiter.init_app(app)


def issue_limit() -> str:
    """The per-kiosk (or per-staff) ticket limit from config."""
    return current_app.config["ISSUE_RATE_LIMIT"]


def login_limit() -> str:
    """The login attempt limit from config."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_address_limit() -> str:
    """The failed-login limit per client address from config."""
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def cancel_limit() -> str:
    """The failed booking-cancellation limit per client address from config."""
    return current_app.config["CANCEL_RATE_LIMIT"]
