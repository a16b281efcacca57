"""Staff pages: the counter console (柜台叫号台)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/counter")
def counter() -> Any:
    """The window console; it logs in and acts through the REST API, live over Socket.IO /counter."""
    return render_template("counter.html")


@bp.get("/city")
def city() -> Any:
    """全市大厅总览: every hall's line and the nearby hall with a shorter wait (city-level managers)."""
    return render_template("city.html")
