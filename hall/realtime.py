"""Socket.IO: one namespace per audience, rooms per hall, and one broadcaster fed by committed domain events.

/display  public and read-only: snapshot on every (re)connect, then ``called``, ``queues``, ``windows``,
          ``roster`` (today's duty leader and duty clerk).
/counter  staff with a login session: ``hall_changed`` hints (the console refetches its window over REST).
/manager  leader/manager/admin: ``load`` (the GET /api/v1/hall/load shape).

Clients never change state over the socket: every change goes through the authenticated REST API, so the
namespaces register no state-changing handlers at all.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, emit, join_room
from socketio import PubSubManager
from sqlalchemy import select

from hall import events as ev
from hall import outbox, queries
from hall.api.schemas import is_clean_text
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES
from hall.errors import HallError
from hall.models import User
from hall.numbering import digits_spoken
from hall.repository import Repository
from hall.web.context import HallApp
from hall.web.limits import allow

log = logging.getLogger(__name__)


# How often, at most, the broadcaster re-checks its staff sockets' sessions against the database.
SWEEP_SECONDS = 2.0

# Domain event → the /manager message announcing it.
MANAGER_EVENTS = {
    "AlertRaised": "alert",
    "AlertCleared": "alert_cleared",
    "DeviceStatusChanged": "device",
    "RatingReceived": "rating",
    "CaseChanged": "case",
    "ReviewChanged": "review",
}


def hall_room(hall_id: int) -> str:
    """Room of everyone watching one hall."""
    return f"hall:{hall_id}"


def spoken_text(number: str, window: int) -> str:
    """The announcement with the ticket digits read one by one (A001 → A零零一)."""
    return queries.announcement(digits_spoken(number), window)


class Broadcaster:
    """Turns committed domain events into socket messages; coalesces counts so bursts cost one query."""

    def __init__(self, socketio: SocketIO, svc: HallApp, interval: float = 0.2) -> None:
        self.socketio = socketio
        self.svc = svc
        self.interval = interval
        self._dirty: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._announcing = 0  # calls being written to the displays right now
        self._announced = threading.Condition(self._lock)
        self._started = False
        self._stopped = False
        # Staff sockets of this process: (namespace, sid) → (user id, session generation at connect, roles allowed).
        self._staff: dict[tuple[str, str], tuple[int, int, tuple[str, ...]]] = {}
        self._swept = 0.0

    def track(self, namespace: str, sid: str, user_id: int, generation: int, roles: tuple[str, ...]) -> None:
        """Remember a staff socket so that ending the account's sessions (or a role without access) closes it."""
        with self._lock:
            self._staff[(namespace, sid)] = (user_id, generation, roles)

    def untrack(self, namespace: str, sid: str) -> None:
        """Forget a closed staff socket."""
        with self._lock:
            self._staff.pop((namespace, sid), None)

    def sweep_sessions(self) -> int:
        """Disconnect this process's staff sockets whose session ended or whose account lost the namespace's role."""
        with self._lock:
            sockets = dict(self._staff)
            self._swept = time.monotonic()
        if not sockets:
            return 0
        ids = {user_id for user_id, _, _ in sockets.values()}
        with self.svc.db.read() as session:
            rows = session.execute(
                select(User.id, User.session_generation, User.role).where(User.id.in_(ids), User.active.is_(True))
            ).all()
        current = {user_id: (generation, role) for user_id, generation, role in rows}
        closed = 0
        for (namespace, sid), (user_id, generation, roles) in sockets.items():
            now = current.get(user_id)
            if now is None or now[0] != generation or now[1] not in roles:
                self.untrack(namespace, sid)
                self.socketio.server.disconnect(sid, namespace=namespace)
                closed += 1
        return closed

    def start(self) -> None:
        """Subscribe to the event bus and start the coalescing loop."""
        self.svc.bus.subscribe(self.handle)
        if not self._started:
            self._started = True
            self.socketio.start_background_task(self._loop)

    def stop(self) -> None:
        """Stop the loop and unsubscribe (tests build many apps in one process)."""
        self._stopped = True
        self.svc.bus.unsubscribe(self.handle)
        self._wake.set()

    def _maybe_sweep(self) -> None:
        """Sessions ended by another server process: learn it from the database, at most every SWEEP_SECONDS."""
        with self._lock:
            due = bool(self._staff) and time.monotonic() - self._swept > SWEEP_SECONDS
        if due:
            try:
                self.sweep_sessions()
            except Exception:
                log.exception("checking staff sockets' sessions failed")

    def handle(self, event: ev.DomainEvent) -> None:
        """Called by the bus after commit: announce calls at once, mark the hall for a count refresh."""
        if isinstance(event, ev.TidalDecided | ev.RosterChanged | ev.ReviewChanged) or event.name in MANAGER_EVENTS:
            self._maybe_sweep()  # these go to staff rooms at once, before the next refresh
        if isinstance(event, (ev.TicketCalled, ev.TicketRecalled)) and event.window is not None:
            with self._lock:
                self._announcing += 1
            try:
                self.socketio.emit(
                    "called", self.called_payload(event), to=hall_room(event.hall_id), namespace="/display"
                )
            finally:
                with self._lock:
                    self._announcing -= 1
                    self._announced.notify_all()
        elif isinstance(event, ev.TidalDecided):
            # Clerks learn to staff (or leave) the tidal window; managers see why; displays may announce it.
            payload = event.to_dict()
            for namespace in ("/manager", "/counter", "/display"):
                self.socketio.emit("tidal", payload, to=hall_room(event.hall_id), namespace=namespace)
            return
        elif isinstance(event, ev.RosterChanged):
            # Today's duty leader and duty clerk on the hall display (a manager's edit, or the opening job).
            with self.svc.db.read() as session:
                duty = queries.duty_today(session, event.hall_id, date.fromisoformat(event.day))
            for namespace in ("/display", "/manager"):  # the hall display and the dashboard show today's duty
                self.socketio.emit("roster", duty, to=hall_room(event.hall_id), namespace=namespace)
            return
        elif isinstance(
            event,
            (
                ev.AlertRaised,
                ev.AlertCleared,
                ev.DeviceStatusChanged,
                ev.RatingReceived,
                ev.CaseChanged,
                ev.ReviewChanged,
            ),
        ):
            # Managers and duty leaders see alerts at once; alerts change no counts.
            self.socketio.emit(
                MANAGER_EVENTS[event.name], event.to_dict(), to=hall_room(event.hall_id), namespace="/manager"
            )
            if isinstance(event, ev.ReviewChanged):  # the accepting window closes it once approved
                self.socketio.emit("review", event.to_dict(), to=hall_room(event.hall_id), namespace="/counter")
            return
        with self._lock:
            self._dirty.add(event.hall_id)
        self._wake.set()

    def called_payload(self, event: ev.TicketEvent) -> dict[str, Any]:
        """What displays need to show and speak a call."""
        window = event.window or 0
        name = self._window_name(event.hall_id, window)
        return {
            "number": event.number,
            "window": window,
            "window_name": name,
            "text": queries.announcement(event.number, window),
            "spoken": spoken_text(event.number, window),
            "recall": isinstance(event, ev.TicketRecalled),
            "appointment": event.appointment,
            "at": event.at.isoformat(),
            "voice_url": f"/display/voice/{event.number}/{window}.wav",
        }

    def _window_name(self, hall_id: int, number: int) -> str:
        try:
            return self.svc.engine.reference(hall_id).window_names.get(number) or f"{number}号窗口"
        except Exception:  # a call must still be announced if this lookup fails
            log.exception("window name lookup failed")
            return f"{number}号窗口"

    def flush(self) -> None:
        """Send refreshed counts and window states for every hall that changed (only to rooms someone is in)."""
        with self._lock:
            halls, self._dirty = self._dirty, set()
        self._maybe_sweep()
        for hall_id in halls:
            try:
                room = hall_room(hall_id)
                displays, counters, managers = (self._watched(ns, room) for ns in ("/display", "/counter", "/manager"))
                if displays or counters:
                    self._yield_to_calls()
                    with self.svc.db.read() as session:
                        queues = queries.queue_counts(session, hall_id)
                        windows = queries.windows(session, hall_id) if displays else None
                    waiting = sum(q["waiting"] for q in queues)
                    if displays:
                        self._yield_to_calls()
                        self.socketio.emit(
                            "queues", {"queues": queues, "waiting": waiting}, to=room, namespace="/display"
                        )
                        self._yield_to_calls()
                        self.socketio.emit("windows", {"windows": windows}, to=room, namespace="/display")
                    if counters:
                        self.socketio.emit("hall_changed", {"waiting": waiting}, to=room, namespace="/counter")
                if managers:
                    self._yield_to_calls()
                    self.socketio.emit("load", self.svc.engine.load(hall_id), to=room, namespace="/manager")
            except Exception:
                log.exception("refreshing screens of hall %s failed", hall_id)

    def _watched(self, namespace: str, room: str) -> bool:
        """Whether anyone may be in the room: always with a message queue (other processes' clients)."""
        manager = self.socketio.server.manager
        if isinstance(manager, PubSubManager):
            return True
        return bool(manager.rooms.get(namespace, {}).get(room))

    def _yield_to_calls(self, limit: float = 0.5) -> None:
        """Refreshes can wait: let a call being written to every display finish first (they share the GIL)."""
        with self._lock:
            self._announced.wait_for(lambda: self._announcing == 0, timeout=limit)

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait()
            if self._stopped:
                return
            self.socketio.sleep(self.interval)  # let a burst of events collapse into one refresh
            # Cleared after the pause, not before: the burst's events that came during it are in this refresh
            # and must not start a second one 0.2 s later, which would land on whatever the hall does next.
            self._wake.clear()
            self.flush()


def _hall_from_auth(svc: HallApp, auth: Any) -> int:
    code = (auth or {}).get("hall") if isinstance(auth, dict) else None
    code = code or request.args.get("hall")
    code = str(code) if isinstance(code, int) else code
    if code is not None and not (isinstance(code, str) and is_clean_text(code)):
        raise ConnectionRefusedError("unknown hall")  # a socket payload is JSON too: same text rules as the API
    if code and code != svc.hall_code:
        with svc.db.read() as session:
            hall = Repository(session).hall_by_code(str(code))
        if hall is None:
            raise ConnectionRefusedError("unknown hall")
        return hall.id
    return svc.hall_id


class _HallNamespace(Namespace):
    """A namespace bound to the app's services."""

    def __init__(self, namespace: str, svc: HallApp) -> None:
        super().__init__(namespace)
        self.svc = svc


class DisplayNamespace(_HallNamespace):
    """Public, read-only screens: hall display, counter displays, phone tracking pages."""

    def on_connect(self, auth: Any = None) -> None:
        """Join the hall's room and get a full snapshot (so a display that was offline is right at once)."""
        hall_id = _hall_from_auth(self.svc, auth)
        join_room(hall_room(hall_id))
        self._send_snapshot(hall_id)

    def on_snapshot(self, *_: Any) -> None:
        """A display may ask for a fresh snapshot (read-only), a few times in a while per client address."""
        if not allow(current_app.config["SNAPSHOT_RATE_LIMIT"], "snapshot", str(request.remote_addr)):
            # Public and unauthenticated: a flood costs the hall a database read each, so excess asks are dropped.
            emit("rate_limited", {"event": "snapshot"})
            return
        self._send_snapshot(_hall_from_auth(self.svc, None))

    def _send_snapshot(self, hall_id: int) -> None:
        with self.svc.db.read() as session:
            snapshot = queries.display_snapshot(session, hall_id, self.svc.clock.now())
        emit("snapshot", snapshot)


class _StaffNamespace(_HallNamespace):
    """A namespace for logged-in staff: the session is checked at connect and on every event, and the socket is
    closed when the account's sessions end (logout, password reset, deactivation) or its new role has no access."""

    roles: tuple[str, ...] = STAFF_ROLES
    refusal = "unauthenticated"
    broadcaster: Broadcaster | None = None

    def _allowed(self) -> bool:
        return bool(
            current_user.is_authenticated
            and getattr(current_user, "kind", "") == "user"
            and current_user.role in self.roles
        )

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Every client event re-checks the session first (the user loader compares the session generation)."""
        handler = getattr(self, f"on_{event or ''}", None)
        if event in ("connect", "disconnect") or handler is None:
            return super().trigger_event(event, *args)

        def checked(*event_args: Any) -> Any:
            if not self._allowed():
                self._forget()
                self.disconnect(request.sid)
                return None
            return handler(*event_args)

        # Flask-SocketIO's dispatcher builds the request context (and the socket's session) around the handler.
        return self.socketio._handle_event(checked, event, self.namespace, *args)

    def _admit(self) -> None:
        if not self._allowed():
            raise ConnectionRefusedError(self.refusal)
        if self.broadcaster is not None:
            self.broadcaster.track(
                self.namespace, request.sid, current_user.actor.id, current_user.generation, self.roles
            )

    def _forget(self) -> None:
        if self.broadcaster is not None:
            self.broadcaster.untrack(self.namespace, request.sid)

    def on_disconnect(self, *_: Any) -> None:
        """Forget the socket."""
        self._forget()


class CounterNamespace(_StaffNamespace):
    """Window clerks' consoles (login session required)."""

    def on_connect(self, auth: Any = None) -> None:
        """Refuse anonymous connections; join the clerk's hall room."""
        self._admit()
        hall_id = current_user.hall_id or self.svc.hall_id
        join_room(hall_room(hall_id))
        actor = current_user.actor
        emit("hello", {"user": actor.name, "window": actor.window_number})
        if actor.role == "clerk" and actor.window_number is not None:
            self._beat(actor, hall_id, actor.window_number)  # a clerk's console connecting is the clerk arriving

    def on_presence(self, data: Any = None) -> None:
        """The console's heartbeat (every 15 s): keeps the clerk signed in at ``{"window": n}``."""
        if not current_user.is_authenticated or current_user.role not in STAFF_ROLES:
            return
        actor = current_user.actor
        number = data.get("window") if isinstance(data, dict) else None
        number = number if isinstance(number, int) and not isinstance(number, bool) else actor.window_number
        if number is not None:
            self._beat(actor, current_user.hall_id or self.svc.hall_id, number)

    def _beat(self, actor: Any, hall_id: int, number: int) -> None:
        # A console that disconnects is not signed out at once (a page reload reconnects within a second);
        # the presence sweep signs it out when the beats stop (docs/routing.md §7).
        try:
            emit("presence", self.svc.engine.presence(actor, hall_id, number))
        except HallError as exc:
            emit("presence_error", {"code": exc.code, "message": exc.message})


class ManagerNamespace(_StaffNamespace):
    """Duty leaders' and managers' dashboards."""

    roles = SUPERVISOR_ROLES
    refusal = "forbidden"

    def on_connect(self, auth: Any = None) -> None:
        """Leaders, managers and admins only; they get the current load at once."""
        self._admit()
        hall_id = current_user.hall_id or _hall_from_auth(self.svc, auth)
        join_room(hall_room(hall_id))
        emit("load", self.svc.engine.load(hall_id))


def init_realtime(socketio: SocketIO, svc: HallApp, *, start: bool = True) -> Broadcaster:
    """Register the namespaces and start the broadcaster for this app."""
    outbox.install(socketio.server.eio)  # websocket sends written inline, one frame per emit (hall/outbox.py)
    broadcaster = Broadcaster(socketio, svc)
    socketio.on_namespace(DisplayNamespace("/display", svc))
    for namespace in (CounterNamespace("/counter", svc), ManagerNamespace("/manager", svc)):
        namespace.broadcaster = broadcaster
        socketio.on_namespace(namespace)
    if start:
        broadcaster.start()
    return broadcaster
