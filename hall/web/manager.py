"""Manager pages: the live dashboard (/manager) and the reports (/manager/reports).

Both log in like the counter console (POST /api/v1/auth/login) and read only through the REST API; the
dashboard listens on Socket.IO /manager. Only leaders, managers and admins get data (the API checks it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("manager", __name__)


@bp.get("/manager")
def dashboard() -> Any:
    """大厅运行看板: waiting, windows, tidal window, devices, alerts and charts, live."""
    return render_template("manager.html")


@bp.get("/manager/reports")
def reports_page() -> Any:
    """统计报表: day/week/month per hall, item, window or clerk, with CSV and XLSX exports."""
    return render_template("manager_reports.html")
