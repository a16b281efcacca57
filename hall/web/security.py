"""Authentication: staff log in with a session cookie (Flask-Login); devices present a bearer token."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from cachetools import TTLCache
from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from hall.config import token_hash
from hall.engine import Actor
from hall.errors import Forbidden, Unauthorized
from hall.repository import Repository
from hall.web.context import services

log = logging.getLogger(__name__)
login_manager = LoginManager()
csrf = CSRFProtect()
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_EXEMPT = frozenset({"auth.login"})  # no session yet; SameSite=Lax and the login rate limit cover it

# Pages use inline scripts and styles (no build step, served offline); nothing loads from another origin.
CSP = {
    "default-src": "'self'",
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": ["'self'", "ws:", "wss:"],
    "media-src": "'self'",
    "frame-ancestors": "'none'",
}


class Principal(UserMixin):
    """The logged-in staff member or the device behind a request."""

    def __init__(self, actor: Actor, kind: str = "user", generation: int = 0) -> None:
        self.actor = actor
        self.kind = kind
        self.generation = generation  # the account's session generation when loaded (staff only)

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
# account or a rotated device token stops working within these few seconds in other processes, and at once
# in the process that made the change (forget_principals).
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


SESSION_GENERATION = "gen"  # key in the signed session cookie: the account's generation at login


@login_manager.user_loader
def _load_user(user_id: str) -> Principal | None:
    svc = services()

    def load() -> Principal | None:
        with svc.db.read() as db_session:
            user = Repository(db_session).user(int(user_id))
            if user is None or not user.active or (svc.production and user.is_demo):
                return None
            return Principal(staff_actor(user), generation=user.session_generation)

    key = (svc.uid, "user", user_id, svc.production)
    principal = _cached(key, load)
    wanted = session.get(SESSION_GENERATION)
    if principal is not None and isinstance(wanted, int) and wanted > principal.generation:
        # A login newer than this process's cached copy (the generation moved on in another process): reload.
        with _principals_lock:
            _principals.pop(key, None)
        principal = _cached(key, load)
    # A session from before a logout, password reset or deactivation carries an older generation: revoked.
    if principal is None or wanted != principal.generation:
        return None
    return principal


def start_session(user: Any) -> None:
    """Log ``user`` in: a fresh session (new CSRF token) bound to the account's current session generation."""
    session.clear()  # nothing of the previous user's session survives, the CSRF token least of all
    session[SESSION_GENERATION] = user.session_generation
    login_user(Principal(staff_actor(user), generation=user.session_generation))


def end_session() -> None:
    """Forget the session in this browser (the account's generation is bumped by the caller)."""
    logout_user()
    session.clear()


def sessions_changed() -> None:
    """After a session generation bump: drop cached principals and close this process's revoked sockets."""
    forget_principals()
    broadcaster = current_app.extensions.get("hall.broadcaster")
    if broadcaster is not None:
        broadcaster.sweep_sessions()


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

    principal = _cached((svc.uid, "device", digest), load)
    if principal is not None:
        _mark_seen(svc, principal.actor)
    return principal


# When each device was last recorded as seen; one write a minute per device, not one per request.
_seen: TTLCache = TTLCache(maxsize=4096, ttl=60)
_seen_lock = threading.Lock()


def _mark_seen(svc: Any, actor: Actor) -> None:
    """Record that a device made a request (its heartbeat on the dashboard), at most once a minute."""
    key = (svc.uid, actor.hall_id, actor.name)
    with _seen_lock:
        if key in _seen:
            return
        _seen[key] = True
    try:
        svc.alerts.seen(actor.hall_id, actor.name)
    except Exception:  # bookkeeping must never refuse a device's request
        log.exception("recording that device %s was seen failed", actor.name)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    raise Unauthorized("请先登录", code="unauthenticated")


# Secrets that travel in URLs: device tokens (?device=), ticket secrets (?token=, the phone page /t/<secret>).
_URL_SECRETS = re.compile(r"(?i)([?&](?:device|token|access_token)=)[^&\s\"']+|(/t/)[A-Za-z0-9_\-]+")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access", "engineio.server", "socketio.server")


def redact(text: str) -> str:
    """``text`` with the URL secrets replaced by ``***``."""
    return _URL_SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class RedactSecrets(logging.Filter):
    """Keeps device tokens and ticket secrets out of the access log (log files are read by more people)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the formatted message with its secrets redacted."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class HallSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over TLS.

    Directly, or through a trusted proxy's X-Forwarded-Proto (HALL_PROXY_HOPS); HALL_SECURE_COOKIES=1 marks it
    Secure always. Plain-HTTP intranet halls keep working without it.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


def install_log_redaction() -> None:
    """Put the redacting filter on the access loggers (once per process)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


# The HTTP server's own refusals (request line over 64 kB → 414, headers too large → 431, a garbled request line
# → 400) are written before any view runs; they used to be an HTML page. Now they carry the API's JSON envelope.
# Values are %-formatted by http.server after html.escape, so no quote can break the JSON.
SERVER_ERROR_FORMAT = (
    '{"error": {"code": "bad_request", "message": "请求无法处理（%(code)d %(message)s）",'
    ' "details": {"status": %(code)d}}}\n'
)


def install_json_server_errors() -> None:
    """Make werkzeug's server answer its own 4xx/5xx (414 URI too long, …) as the JSON error envelope."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.error_message_format = SERVER_ERROR_FORMAT
    WSGIRequestHandler.error_content_type = "application/json; charset=utf-8"


def init_app(app: Flask) -> None:
    """Flask-Login, CSRF tokens for cookie sessions, session lifetime and security headers."""
    install_log_redaction()
    install_json_server_errors()
    app.session_interface = HallSessionInterface()
    login_manager.init_app(app)
    # Checked by hand below: only cookie-authenticated changes need a token (devices use bearer tokens,
    # citizens prove tickets with their secret), and the token comes in a header, not a form field.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    app.config.setdefault("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"])
    csrf.init_app(app)
    # The hall intranet is plain HTTP on one PC or behind a TLS proxy: no forced HTTPS here (docs/deployment).
    Talisman(
        app,
        force_https=False,
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        content_security_policy=CSP,
        referrer_policy="same-origin",
        frame_options="DENY",
        strict_transport_security=False,
    )

    @app.before_request
    def _csrf_for_sessions() -> None:
        if request.method in UNSAFE and request.endpoint not in CSRF_EXEMPT and _session_user():
            csrf.protect()

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> Any:
        from hall.api import error_response

        return error_response(
            400,
            "csrf_failed",
            "缺少或无效的CSRF令牌：登录后请在请求头 X-CSRFToken 中带上登录返回的 csrf_token",
        )


def _session_user() -> bool:
    """True when the request is authenticated by the login session cookie (not a device token)."""
    return bool(current_user.is_authenticated and getattr(current_user, "kind", "") == "user")


def csrf_token() -> str:
    """The session's CSRF token (sent to the browser at login and by /auth/me)."""
    session.permanent = True
    return generate_csrf()


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


def require_window_actor(view: Callable) -> Callable:
    """Decorator for ``/windows/<number>/…`` moves: a clerk only at their own window (checked before the body).

    The engine checks the same again inside the transaction; this makes the refusal come before any
    validation error, so callers learn nothing from a window that is not theirs.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor()
        number = kwargs.get("number")
        if actor.role == "clerk" and number is not None and actor.window_number != number:
            raise Forbidden(f"您只能操作{actor.window_number}号窗口", code="wrong_window")
        return view(*args, **kwargs)

    return wrapper
