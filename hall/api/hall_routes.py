"""GET /api/v1/hall/load: the live picture of a hall."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from hall.api.schemas import HallQuery, HallStatusOut, LoadOut
from hall.engine import STAFF_ROLES
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles

blp = Blueprint("hall", __name__, url_prefix="/api/v1/hall", description="大厅负载")


@blp.route("/load", methods=["GET"])
@require_roles(*STAFF_ROLES, "display")
@blp.arguments(HallQuery, location="query")
@blp.response(200, LoadOut)
def load(args: dict[str, Any]) -> Any:
    """Waiting per queue, longest wait, every window's state and current ticket."""
    actor = current_actor()
    return services().engine.load(hall_id_for(actor))


@blp.route("/status", methods=["GET"])
@blp.arguments(HallQuery, location="query")
@blp.response(200, HallStatusOut)
def status(args: dict[str, Any]) -> Any:
    """Public: is the hall open now, today's hours and the next opening (kiosks show a closed screen)."""
    return services().engine.hall_status(hall_id_for(None))
