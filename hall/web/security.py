"""Authentication: staff log in with a session cookie (Flask-Login); devices present a bearer token."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from cachetools import TTLCache
from flask import Flask, request
from flask_login import LoginManager, UserMixin, current_user

from hall.config import token_hash
from hall.engine import Actor
from hall.errors import Forbidden, Unauthorized
from hall.repository import Repository
from hall.web.context import services

login_manager = LoginManager()


class Principal(UserMixin):
    """The logged-in staff member or the device behind a request."""

    def __init__(self, actor: Actor, kind: str = "user") -> None:
        self.actor = actor
        self.kind = kind

    def get_id(self) -> str:
        """Session key: only staff are kept in the session."""
        return str(self.actor.id)

    @property
    def role(self) -> str:
        """Shortcut to the actor's role."""
        return self.actor.role

    @property
    def hall_id(self) -> int | None:
        """Shortcut to the actor's hall."""
        return self.actor.hall_id


def staff_actor(user: Any) -> Actor:
    """An engine Actor for a staff account row."""
    return Actor(
        name=user.username,
        role=user.role,
        hall_id=user.hall_id,
        id=user.id,
        window_number=user.window_number,
        display_name=user.display_name,
    )


# Every API call authenticates; a short cache keeps that from costing a query each time. A disabled
# account or a rotated device token stops working within these few seconds.
_principals: TTLCache = TTLCache(maxsize=4096, ttl=10)
_principals_lock = threading.Lock()


def forget_principals() -> None:
    """Drop cached principals (after a password reset, role change or token rotation)."""
    with _principals_lock:
        _principals.clear()


def _cached(key: tuple, load: Callable[[], Principal | None]) -> Principal | None:
    with _principals_lock:
        if key in _principals:
            return _principals[key]
    principal = load()
    with _principals_lock:
        _principals[key] = principal
    return principal


@login_manager.user_loader
def _load_user(user_id: str) -> Principal | None:
    svc = services()

    def load() -> Principal | None:
        with svc.db.read() as session:
            user = Repository(session).user(int(user_id))
            if user is None or not user.active or (svc.production and user.is_demo):
                return None
            return Principal(staff_actor(user))

    return _cached((svc.uid, "user", user_id, svc.production), load)


@login_manager.request_loader
def _load_device(req: Any) -> Principal | None:
    header = req.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else req.headers.get("X-Device-Token")
    if not token:
        return None
    svc = services()
    digest = token_hash(token)

    def load() -> Principal | None:
        with svc.db.read() as session:
            device = Repository(session).device_by_token_hash(digest)
            if device is None:
                return None
            actor = Actor(
                name=device.name, role=device.kind, hall_id=device.hall_id, window_number=device.window_number
            )
            return Principal(actor, kind="device")

    return _cached((svc.uid, "device", digest), load)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    raise Unauthorized("请先登录", code="unauthenticated")


def init_app(app: Flask) -> None:
    """Bind Flask-Login to the app."""
    login_manager.init_app(app)


def current_actor() -> Actor:
    """The acting principal as an engine Actor (401 if anonymous), with the client address filled in."""
    if not current_user.is_authenticated:
        raise Unauthorized("请先登录", code="unauthenticated")
    actor: Actor = current_user.actor
    return Actor(**{**actor.__dict__, "client": request.remote_addr})


def require_roles(*roles: str) -> Callable:
    """Decorator: 401 when anonymous, 403 when the principal's role is not among ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor.role not in roles:
                raise Forbidden("无权执行此操作", code="forbidden_role")
            return view(*args, **kwargs)

        return wrapper

    return decorator
