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


@bp.get("/admin")
def admin() -> Any:
    """系统管理 (admin role): tabs for items, windows, staff, devices, notices, hours and rules over /api/v1/admin."""
    from flask_babel import gettext as _

    from hall.admin import DEVICE_KINDS
    from hall.config import HANDLING_CLASSES, ROLES, WINDOW_KINDS

    role_names = {"admin": _("系统管理员"), "manager": _("大厅负责人"), "leader": _("值班领导"), "clerk": _("窗口人员")}
    return render_template(
        "admin.html",
        handling_classes=HANDLING_CLASSES,
        roles=ROLES,
        role_names=role_names,
        device_kinds=DEVICE_KINDS,
        window_kinds=WINDOW_KINDS,
    )
