"""Device tokens: kiosks, displays and rating tablets authenticate with a bearer token stored only as a hash.

Rotating a token (a kiosk was stolen, a token leaked) makes the old one useless at once; the new token is
shown once to the admin and never stored in clear. Core module: no Flask.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from hall.config import token_hash
from hall.engine import Actor, Engine
from hall.errors import Forbidden, NotFound
from hall.models import Device


def rotate(engine: Engine, actor: Actor, hall_id: int, name: str) -> str:
    """Give device ``name`` a new random token and return it (audited as ``device.rotate_token``)."""
    if actor.role != "admin":
        raise Forbidden("只有系统管理员可以更换设备令牌", code="forbidden_role")
    if actor.hall_id is not None and actor.hall_id != hall_id:
        raise Forbidden("无权操作其他大厅", code="other_hall")
    token = secrets.token_urlsafe(24)
    with engine.db.write() as session:
        device = session.scalar(select(Device).where(Device.hall_id == hall_id, Device.name == name))
        if device is None:
            raise NotFound(f"设备不存在: {name}", code="device_not_found")
        device.token_hash = token_hash(token)
    engine.record(actor, hall_id, "device.rotate_token", target=name, after={"device": name})
    return token
