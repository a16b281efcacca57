"""GET /api/v1/city/overview: every hall of the city on one page, with the 15-minute service circle."""

from __future__ import annotations

from typing import Any

from hall import city
from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import CityDoc
from hall.engine import SUPERVISOR_ROLES
from hall.web.context import services
from hall.web.security import current_actor, require_roles

blp = Blueprint("city", __name__, url_prefix="/api/v1/city", description="全市大厅")


@blp.route("/overview", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.alt_response(200, schema=CityDoc, success=True, description="The city overview")
def overview() -> Any:
    """Load per hall and the nearby halls with a shorter wait; city-level managers see every hall."""
    actor = current_actor()
    svc = services()
    return city.overview(svc.engine, svc.hall_ids or [svc.hall_id], only=actor.hall_id)
