"""What every page shares: the favicon and the hall's time zone for the times people read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, send_from_directory
from flask_babel import gettext

from hall.errors import NotFound
from hall.priority_groups import NAMES
from hall.web.context import hall_id_for, services

bp = Blueprint("common", __name__)


@bp.get("/favicon.ico")
def favicon() -> Any:
    """The hall's icon (served locally: browsers ask for it on every page, and a 404 is a console error)."""
    response = send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/x-icon")
    response.cache_control.max_age = 86400
    return response


@bp.app_template_global()
def hall_timezone() -> str:
    """The IANA zone of the hall a page shows (``?hall=<code>`` or the default), e.g. ``Asia/Shanghai``.

    Pages format every clock time in this zone (Intl.DateTimeFormat ``timeZone``), never in the browser PC's.
    """
    try:
        hall_id = hall_id_for(None)
    except NotFound:
        hall_id = services().hall_id
    return services().engine.reference(hall_id).timezone


@bp.app_template_filter("hall_time")
def hall_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (or aware datetime) as the hall's local time, for server-rendered pages."""
    if not value:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(ZoneInfo(hall_timezone())).strftime(fmt)


@bp.app_template_global()
def priority_names() -> dict[str, str]:
    """The 绿色通道 groups' names in the page's language (hall/priority_groups.py: one name per group)."""
    translate = gettext  # the names are marked in hall/priority_groups.py
    return {group: translate(name) for group, name in NAMES.items()}
