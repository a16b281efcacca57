"""Shared fixtures: a migrated, seeded SQLite file per test (copied from one template), app, client, clock."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from hall.clock import FakeClock  # noqa: E402

REQUIRE_ALL = os.environ.get("HALL_REQUIRE_ALL") == "1"
KIOSK_TOKEN = "demo-kiosk-1"


def require(condition: bool, reason: str) -> None:
    """Skip when a tool is missing — except under HALL_REQUIRE_ALL=1 (CI), where that is a failure."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required tool missing under HALL_REQUIRE_ALL=1: {reason}")
    pytest.skip(reason)


def make_config(db_path: Path, clock: FakeClock | None = None, **extra: object) -> dict:
    """Test configuration for create_app."""
    return {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "INSTANCE_DIR": str(db_path.parent),
        "SECRET_KEY": "test-secret",
        "FAST_HASH": True,
        "CLOCK": clock or FakeClock(),
        **extra,
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated and seeded database file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "hall.db"
    app = create_app(make_config(path))
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template database for this test."""
    target = tmp_path / "hall.db"
    shutil.copyfile(template_db, target)
    return target


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 09:00 Asia/Shanghai on a Monday."""
    return FakeClock()


@pytest.fixture
def app(db_path: Path, clock: FakeClock):
    """The hall app on this test's database and clock."""
    application = create_app(make_config(db_path, clock, AUTO_MIGRATE=False))
    yield application
    application.extensions["hall.broadcaster"].stop()
    application.extensions["hall"].db.dispose()


@pytest.fixture
def svc(app):
    """The app's services bundle (db, engine, clock, bus)."""
    return app.extensions["hall"]


@pytest.fixture
def client(app):
    """A Flask test client (anonymous until it logs in)."""
    return app.test_client()


@pytest.fixture
def kiosk(app):
    """A test client that authenticates as the demo kiosk with its device token."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {KIOSK_TOKEN}"
    return c


def login(app, username: str, password: str = "demo"):  # noqa: S107 - the demo password
    """A new test client logged in as ``username``."""
    c = app.test_client()
    r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    c.environ_base["HTTP_X_CSRFTOKEN"] = r.get_json()["csrf_token"]  # as the browser pages send it
    return c


@pytest.fixture
def staff(app):
    """Factory: ``staff("clerk1")`` → a logged-in client."""
    cache: dict[str, object] = {}

    def get(username: str):
        if username not in cache:
            cache[username] = login(app, username)
        return cache[username]

    return get
