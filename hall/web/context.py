"""The per-app bundle of services (database, engine, clock, bus) and how views reach it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request

from hall.alerts import Alerts
from hall.appointments import Appointments
from hall.bus import EventBus
from hall.clock import Clock
from hall.db import Database
from hall.engine import Engine
from hall.errors import NotFound
from hall.passwords import Passwords
from hall.ratings import Ratings
from hall.repository import Repository
from hall.tidal_live import TidalController


@dataclass
class HallApp:
    """Everything the composition root builds once per Flask app."""

    db: Database
    engine: Engine
    clock: Clock
    bus: EventBus
    passwords: Passwords
    alerts: Alerts
    appointments: Appointments
    tidal: TidalController
    ratings: Ratings
    hall_id: int
    hall_code: str
    hall_ids: list[int] = field(default_factory=list)  # every hall this server runs (the first is the default)
    config: dict[str, Any] = field(default_factory=dict)
    production: bool = False
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)  # per-app cache key (id() gets reused)


def services() -> HallApp:
    """The current app's services."""
    return current_app.extensions["hall"]


def hall_id_for(actor: Any = None) -> int:
    """Which hall a request is about: the actor's own hall, else ``?hall=<code>``, else the default hall."""
    svc = services()
    code = request.args.get("hall")
    if actor is not None and getattr(actor, "hall_id", None) is not None:
        if code and code != svc.hall_code and not _hall_exists(code):
            # As for anonymous callers: /hall/load?hall=nohall answered the demo hall while /hall/status said 404.
            raise NotFound(f"大厅不存在: {code}", code="hall_not_found")
        return actor.hall_id
    if code and code != svc.hall_code:
        with svc.db.read() as session:
            hall = Repository(session).hall_by_code(code)
            hall_id = hall.id if hall is not None else None
        if hall_id is None:
            raise NotFound(f"大厅不存在: {code}", code="hall_not_found")
        return hall_id
    return svc.hall_id


def _hall_exists(code: str) -> bool:
    with services().db.read() as session:
        return Repository(session).hall_by_code(code) is not None
