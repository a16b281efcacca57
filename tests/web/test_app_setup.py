"""Start-up: migrations match the models, the demo hall is seeded once, production needs a secret."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select

from app import create_app
from hall.clock import FakeClock
from hall.config import ConfigError, load, validate
from hall.models import Base, Hall, Item, User, Window
from tests.conftest import make_config


def test_migrations_create_exactly_the_models_schema(tmp_path) -> None:
    app = create_app(make_config(tmp_path / "fresh.db"))
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == [], diff
    assert {"tickets", "periods", "number_counters", "audit_log", "alembic_version"} <= tables
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


def test_the_demo_hall_is_seeded_once_and_is_realistic(tmp_path) -> None:
    path = tmp_path / "twice.db"
    for _ in range(2):
        app = create_app(make_config(path))
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()
    svc = app.extensions["hall"]
    with svc.db.read() as s:
        assert s.scalar(select(func.count(Hall.id))) == 1
        items = s.scalars(select(Item)).all()
        windows = {w.number: w for w in s.scalars(select(Window))}
        users = {u.username: u for u in s.scalars(select(User))}
        assert len(items) >= 20 and all(i.materials for i in items)
        assert {i.department for i in items} == {"医保", "人社"}
        assert {i.handling_class for i in items} >= {"立办立结", "限时办结", "前台接件后台办结"}
        assert [windows[n].kind for n in range(1, 9)] == ["comprehensive"] * 5 + ["tidal", "green", "joint"]
        assert windows[6].state == "closed" and windows[1].state == "open"
        assert {"admin", "manager", "leader"} <= set(users) and all(f"clerk{n}" in users for n in range(1, 9))
        assert users["clerk5"].window_number == 5


def test_production_requires_a_secret_key(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HALL_ENV", "production")
    monkeypatch.delenv("HALL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="HALL_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "FAST_HASH": True, "CLOCK": FakeClock()})


def test_db_upgrade_cli(tmp_path) -> None:
    app = create_app(make_config(tmp_path / "cli.db"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "database at head" in result.output
    app.extensions["hall.broadcaster"].stop()
    app.extensions["hall"].db.dispose()


def test_reset_day_cli_ends_open_tickets(app, kiosk) -> None:
    from tests.factories import issue

    issue(kiosk), issue(kiosk)
    result = app.test_cli_runner().invoke(args=["hall", "reset-day"])
    assert result.exit_code == 0 and "ended 2 open tickets" in result.output


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["items"][0].update(queue="Z"), "unknown queue"),
        (lambda d: d["items"][1].update(code=d["items"][0]["code"]), "duplicated"),
        (lambda d: d["windows"][0].update(kind="vip"), "unknown kind"),
        (lambda d: d["staff"][0].update(role="boss"), "unknown role"),
        (lambda d: d["items"][0].update(handling_class="随便办"), "handling_class"),
    ],
)
def test_config_mistakes_fail_at_start_up_with_a_clear_message(mutate, message) -> None:
    data = load()
    mutate(data)
    with pytest.raises(ConfigError, match=message):
        validate(data)
