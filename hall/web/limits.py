"""Rate limits (Flask-Limiter): tickets per kiosk and per staff member, login attempts per user and address.

Counters are kept where they survive a restart and are shared by every server process: in Redis when the
processes share a message queue, otherwise in a small SQLite file next to the hall's data (instance/limits.db).
HALL_RATELIMIT_STORAGE sets any storage URI Flask-Limiter knows (``memory://`` counts per process, in memory).
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_login import current_user
from limits import parse
from limits.storage import Storage


class SQLiteStorage(Storage):
    """Fixed-window counters in a SQLite file (``hallsqlite:///path/limits.db``): shared by the processes of one
    PC and kept across restarts. A file of its own, so counting never waits for the hall's writer lock."""

    STORAGE_SCHEME = ["hallsqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path((uri or "").removeprefix("hallsqlite://"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER, expires REAL)")

    @property
    def base_exceptions(self) -> type[Exception]:
        """What a failing SQLite raises (Flask-Limiter swallows these when told to)."""
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count ``amount`` more in the key's window (a new window once the old one expired)."""
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
                db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            db.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", (key, now))
            (n,) = db.execute(
                "INSERT INTO counters (key, n, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET n = n + excluded.n RETURNING n",
                (key, amount, now + expiry),
            ).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(n)

    def get(self, key: str) -> int:
        """The key's count in its current window."""
        row = self._db().execute("SELECT n FROM counters WHERE key = ? AND expires > ?", (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now if it has none)."""
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        """Whether the file answers."""
        self._db().execute("SELECT 1")
        return True

    def reset(self) -> int | None:
        """Forget every counter."""
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        """Forget one counter."""
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))


def _app_key() -> str:
    # Counters belong to the hall's database: the same after a restart and for every process on it, and apart
    # for apps built one after another in one process on other databases (the test suite).
    return current_app.extensions["hall.limits_key"]


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


def username_key() -> str:
    """Login attempts for one username from any address (guessing one account from many addresses)."""
    body = request.get_json(silent=True) or {}
    name = str(body.get("username", ""))[:64] if isinstance(body, dict) else ""
    return f"{_app_key()}:login-user:{name}"


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
    app.extensions["hall.limits_key"] = hashlib.sha256(app.config["DATABASE_URL"].encode()).hexdigest()[:16]
    local = f"hallsqlite://{Path(app.config['INSTANCE_DIR']) / 'limits.db'}"
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI",
        os.environ.get("HALL_RATELIMIT_STORAGE") or app.config.get("MESSAGE_QUEUE") or local,
    )
    if app.config["RATELIMIT_STORAGE_URI"].startswith("hallsqlite://"):
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # a locked or broken file never fails a request
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # Redis down must not stop the hall: count per process in memory until it is back, never fail a request.
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 1, "socket_connect_timeout": 1})
    app.config.setdefault("ISSUE_RATE_LIMIT", "30 per minute")
    app.config.setdefault("LOGIN_RATE_LIMIT", "10 per minute")
    app.config.setdefault("LOGIN_ADDRESS_RATE_LIMIT", "20 per minute")  # failed logins from one address
    app.config.setdefault("LOGIN_USER_RATE_LIMIT", "30 per 10 minutes")  # failed logins for one name, any address
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


def login_user_limit() -> str:
    """The failed-login limit per username (from any address) from config."""
    return current_app.config["LOGIN_USER_RATE_LIMIT"]


def cancel_limit() -> str:
    """The failed booking-cancellation limit per client address from config."""
    return current_app.config["CANCEL_RATE_LIMIT"]
