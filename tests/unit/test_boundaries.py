"""Dependencies point inward: hall's domain modules import no Flask, Socket.IO, serial or escpos."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Adapters may use web and device libraries; everything else in hall/ is the core.
ADAPTERS = {"api", "web", "realtime.py", "translations", "halls"}
FORBIDDEN = (
    "flask",
    "flask_socketio",
    "flask_login",
    "flask_babel",
    "flask_smorest",
    "socketio",
    "engineio",
    "serial",
    "escpos",
    "werkzeug",
)
# Only the persistence modules may speak SQL.
SQL_MODULES = {"models.py", "db.py", "repository.py", "config.py"}
PURE = (
    "lifecycle.py",
    "events.py",
    "routing.py",
    "engine.py",
    "eta.py",
    "numbering.py",
    "clock.py",
    "errors.py",
    "bus.py",
    "idcard.py",
    "passwords.py",
)


def core_modules() -> list[Path]:
    out = []
    for path in sorted((ROOT / "hall").rglob("*.py")):
        rel = path.relative_to(ROOT / "hall")
        if rel.parts[0] in ADAPTERS:
            continue
        out.append(path)
    return out


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_list_is_not_empty() -> None:
    names = {p.name for p in core_modules()}
    assert {"lifecycle.py", "engine.py", "routing.py", "events.py"} <= names


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_framework_or_device_library(path: Path) -> None:
    bad = imported(path) & set(FORBIDDEN)
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", PURE)
def test_domain_modules_do_not_speak_sql(name: str) -> None:
    path = ROOT / "hall" / name
    assert path.exists()
    assert "sqlalchemy" not in imported(path), f"{name} imports sqlalchemy; use the repository"


def test_adapters_are_where_the_framework_is() -> None:
    # the guard is real: the API package does import Flask
    assert "flask" in imported(ROOT / "hall" / "api" / "__init__.py")
