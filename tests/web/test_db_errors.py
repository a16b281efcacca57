"""Database errors become the JSON envelope: out-of-range numbers 422, an unreachable database 503."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, OperationalError

from app import create_app
from tests.conftest import make_config

RAISES = {
    "overflow": OverflowError("Python int too large to convert to SQLite INTEGER"),
    "data": DataError("INSERT …", {}, Exception("integer out of range")),
    "down": OperationalError("SELECT 1", {}, Exception("connection refused")),
}


@pytest.fixture
def raising_app(db_path):
    app = create_app(make_config(db_path, AUTO_MIGRATE=False))

    @app.get("/api/v1/_raise/<kind>")
    def _raise(kind: str):
        raise RAISES[kind]

    yield app
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("overflow", 422, "invalid"), ("data", 422, "invalid"), ("down", 503, "database_unavailable")],
)
def test_database_errors_answer_in_the_envelope(raising_app, kind: str, status: int, code: str) -> None:
    r = raising_app.test_client().get(f"/api/v1/_raise/{kind}")
    assert r.status_code == status
    assert r.get_json()["error"]["code"] == code
    assert "Traceback" not in r.get_data(as_text=True)
