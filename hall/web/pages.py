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
    # Names people use for the stored values (the API keeps the values; the page shows these).
    window_kind_names = {
        "comprehensive": _("综合窗口"),
        "tidal": _("潮汐窗口"),
        "green": _("绿色通道窗口"),
        "joint": _("一件事联办窗口"),
        "dedicated": _("专窗"),
    }
    device_kind_names = {
        "kiosk": _("取号机"),
        "display": _("显示屏"),
        "rater": _("评价平板"),
        "printer": _("打印机"),
        "led": _("条屏"),
        "pad": _("评价器"),
        "keypad": _("呼叫器"),
    }
    device_status_names = {
        "ok": _("正常"),
        "near_end": _("纸将尽"),
        "paper_out": _("缺纸"),
        "offline": _("离线"),
        "error": _("故障"),
        None: _("未检测"),
    }
    policy_names = {"hall": _("大厅规则（综合柜员制＋绿色通道＋超时优先）"), "pooled": _("综合柜员制（先到先叫）")}
    return render_template(
        "admin.html",
        handling_classes=HANDLING_CLASSES,
        roles=ROLES,
        role_names=role_names,
        device_kinds=DEVICE_KINDS,
        device_kind_names=device_kind_names,
        device_status_names={k or "": v for k, v in device_status_names.items()},
        window_kinds=WINDOW_KINDS,
        window_kind_names=window_kind_names,
        policy_names=policy_names,
    )
