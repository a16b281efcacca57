"""POST /api/v1/auth/login, /auth/logout, GET /auth/me."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user

from hall.api.blueprint import Blueprint
from hall.api.schemas import LoginIn, UserEnvelope
from hall.engine import STAFF_ROLES
from hall.errors import Forbidden, Unauthorized
from hall.repository import Repository
from hall.web.context import hall_id_for, services
from hall.web.limits import (
    address_key,
    failed,
    limiter,
    login_address_limit,
    login_key,
    login_limit,
    login_user_limit,
    username_key,
)
from hall.web.security import csrf_token, current_actor, end_session, sessions_changed, start_session

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与注销")


def _user_out(user: Any, hall_code: str) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token(),
        "user": {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "window": user.window_number,
            "hall": hall_code,
        },
    }


@blp.route("/login", methods=["POST"])
@limiter.limit(login_limit, key_func=login_key)
@limiter.limit(login_address_limit, key_func=address_key, deduct_when=failed)
@limiter.limit(login_user_limit, key_func=username_key, deduct_when=failed)
@blp.arguments(LoginIn)
@blp.response(200, UserEnvelope)
@blp.alt_response(401, description="wrong username or password")
def login(args: dict[str, Any]) -> Any:
    """Log a staff member in (session cookie)."""
    svc = services()
    password = args["password"]
    # argon2 runs outside every transaction: a write transaction holds SQLite's writer lock, and a quarter of a
    # second per login would hold every kiosk's ticket issue behind it. An unknown name is checked against a
    # dummy hash, so the answer takes as long as for a real account.
    with svc.db.read() as session:
        user = Repository(session).user_by_name(args["username"])
        stored = user.password_hash if user is not None else None
    ok = svc.passwords.verify(stored, password)
    rehash = svc.passwords.hash(password) if ok and svc.passwords.needs_rehash(stored or "") else None
    with svc.db.write() as session:
        repo = Repository(session)
        user = repo.user_by_name(args["username"])
        # Re-read in the transaction: deactivated or given a new password meanwhile counts as a failure.
        ok = ok and user is not None and user.active and user.password_hash == stored
        if not ok:
            repo.audit(
                hall_id=user.hall_id if user else None,
                at=svc.clock.now(),
                actor_id=None,
                actor=args["username"][:64],
                role="anonymous",
                action="auth.login_failed",
                client=request.remote_addr,
            )
        elif user.is_demo and svc.production:
            raise Forbidden("演示账号在生产环境中已禁用", code="demo_account_disabled")
        else:
            if rehash is not None:
                user.password_hash = rehash
            _audit_own(repo, user, "auth.login")
            hall = repo.hall(user.hall_id) if user.hall_id else None
            start_session(user)
            return _user_out(user, hall.code if hall else "")
    raise Unauthorized("用户名或密码错误", code="bad_credentials")


def _audit_own(repo: Repository, user: Any, action: str) -> None:
    """Audit a user's own log-in or log-out, in the caller's transaction, from the request's address."""
    repo.audit(
        hall_id=user.hall_id,
        at=services().clock.now(),
        actor_id=user.id,
        actor=user.username,
        role=user.role,
        window_number=user.window_number,
        action=action,
        client=request.remote_addr,
    )


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout() -> Any:
    """End the session: the account's session generation moves on, so every copy of the cookie stops working.

    A clerk signed in at a window is signed out of it first (audited, presence).
    """
    if current_user.is_authenticated and current_user.kind == "user":
        svc = services()
        actor = current_actor()
        if actor.role in STAFF_ROLES:
            svc.engine.sign_out(actor, hall_id_for(actor), reason="logout")
        with svc.db.write() as session:
            repo = Repository(session)
            user = repo.user(actor.id) if actor.id else None
            if user is not None:
                user.session_generation += 1
                _audit_own(repo, user, "auth.logout")
        end_session()
        sessions_changed()
    else:
        end_session()
    return None


@blp.route("/me", methods=["GET"])
@blp.response(200, UserEnvelope)
def me() -> Any:
    """Who is logged in (401 if nobody)."""
    actor = current_actor()
    svc = services()
    with svc.db.read() as session:
        repo = Repository(session)
        user = repo.user(actor.id) if actor.id else None
        if user is None:
            raise Unauthorized("请先登录", code="unauthenticated")
        hall = repo.hall(user.hall_id) if user.hall_id else None
        return _user_out(user, hall.code if hall else "")
