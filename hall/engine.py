"""The hall engine: issue, call, recall, 过号, start, complete, transfer, park, resume and window moves.

Each public method is one unit of work: it authorises the actor, changes state through the lifecycle's
guarded move, writes the audit row, commits, and only then publishes the domain events. It imports no
Flask, Socket.IO, serial or escpos code; persistence goes through the repository.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cachetools import TTLCache

from hall import eta, idcard, lifecycle, numbering, schedule, stats
from hall.bus import EventBus
from hall.catalog import HallRef, ItemRef, QueueRef
from hall.clock import Clock, SystemClock
from hall.db import Database
from hall.errors import Conflict, Forbidden, HallError, Invalid, NotFound, TooMany
from hall.events import DomainEvent, WindowChanged
from hall.lifecycle import Action, State
from hall.models import Ticket, Window
from hall.priority_groups import GROUPS
from hall.repository import Repository
from hall.routing import Candidate, WindowView, get_policy

PRIORITY_GROUPS = GROUPS  # the 绿色通道 groups (names: hall/priority_groups.py)
STAFF_ROLES = frozenset({"clerk", "leader", "manager", "admin"})
SUPERVISOR_ROLES = frozenset({"leader", "manager", "admin"})
ISSUER_ROLES = STAFF_ROLES | {"kiosk"}
KIOSK_CHANNELS = frozenset({"kiosk", "appointment"})  # a kiosk's own tickets and its booking check-ins

DEFAULT_SETTINGS: dict[str, Any] = {
    "recall_limit": 2,
    "number_digits": 3,
    "id_storage": "masked",
    "tickets_per_id_per_day": 5,
    "no_show": {"mode": "requeue", "places_back": 3, "max_requeues": 1, "late_return": True},
    "routing": {"policy": "hall", "priority_weight": 2, "sla_minutes": 45, "joint_fallback_minutes": 20},
    "eta": {"cv": 0.8, "coverage": 0.8},
    # A kiosk left alone goes back to its home screen in Chinese and normal mode (one citizen's choices never
    # carry over to the next), warning with a countdown for the last seconds.
    "kiosk": {"idle_seconds": 60, "idle_warning_seconds": 10},
    # A window counts as open only while a clerk is signed in and their console beats (docs/routing.md §7).
    "presence": {"required": True, "timeout_seconds": 40},
}

PAUSE_REASONS = ("meal", "meeting", "away")  # 就餐 / 会议 / 临时离开

# Window moves: action -> (allowed source states, target state).
WINDOW_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({"closed", "paused"}), "open"),
    "pause": (frozenset({"open"}), "paused"),
    "resume": (frozenset({"paused"}), "open"),
    "close": (frozenset({"open", "paused"}), "closed"),
}


SORT_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def queue_key(at: datetime, seq: int = 0) -> float:
    """A ticket's place in line: seconds since 2020 (small numbers keep float precision for re-ordering).

    The sequence adds a microsecond per number so tickets issued at the same instant keep their order.
    """
    return (at - SORT_EPOCH).total_seconds() + seq * 1e-6


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff member, a registered device or the system itself."""

    name: str
    role: str  # admin | manager | leader | clerk | kiosk | display | system
    hall_id: int | None
    id: int | None = None
    window_number: int | None = None
    client: str | None = None
    display_name: str | None = None

    @classmethod
    def system(cls, hall_id: int | None = None) -> Actor:
        """The scheduler or a CLI command."""
        return cls(name="system", role="system", hall_id=hall_id)


@dataclass
class NewTicket:
    """A ticket being issued (inserted with Core statements; satisfies lifecycle.TicketLike)."""

    hall_id: int
    number: str
    queue_code: str
    id: int = 0
    status: str = ""
    periods: list[Any] = field(default_factory=list)


@dataclass
class _Tx:
    repo: Repository
    events: list[DomainEvent] = field(default_factory=list)


class _Lazy(Sequence):
    """A sequence read from the database only if the policy looks at it (the window's recent calls matter only
    when priority and normal tickets both wait: most calls never need that query)."""

    def __init__(self, load: Callable[[], list]) -> None:
        self._load, self._items = load, None

    def _get(self) -> list:
        if self._items is None:
            self._items = self._load()
        return self._items

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator:
        return iter(self._get())


def _eta_options(settings: dict[str, Any]) -> dict[str, float]:
    """ETA model parameters from the hall settings."""
    opts = settings.get("eta") or {}
    return {"cv": float(opts.get("cv", 0.8)), "coverage": float(opts.get("coverage", 0.8))}


def merged_settings(hall_settings: dict[str, Any] | None) -> dict[str, Any]:
    """The hall's settings over the defaults (one level of nested dicts merged)."""
    out: dict[str, Any] = {}
    for key, value in DEFAULT_SETTINGS.items():
        out[key] = dict(value) if isinstance(value, dict) else value
    for key, value in (hall_settings or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


class Engine:
    """Runs the hall's ticket and window moves against the database."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        bus: EventBus | None = None,
        pepper: str = "",
        *,
        enforce_hours: bool = True,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.bus = bus or EventBus()
        self._pepper = pepper.encode()
        self.enforce_hours = enforce_hours
        self._refs: TTLCache = TTLCache(maxsize=1024, ttl=5)
        self._refs_lock = threading.Lock()
        self._rehearsal = threading.local()  # .tx: the rolled-back unit of work of warm_up() in this thread

    # --- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[_Tx]:
        """One write transaction; events are published only after it commits."""
        if (rehearsal := self._rehearsing()) is not None:  # warm_up(): every move joins its one transaction
            yield rehearsal
            return
        with self.db.write() as session:
            tx = _Tx(Repository(session))
            yield tx
        self.bus.publish(tx.events)

    @contextmanager
    def _core_tx(self) -> Iterator[_Tx]:
        """Like ``_tx`` on a bare connection: for moves that only run Core statements (issuing)."""
        if (rehearsal := self._rehearsing()) is not None:
            yield rehearsal
            return
        with self.db.write_connection() as conn:
            tx = _Tx(Repository(None, conn))
            yield tx
        self.bus.publish(tx.events)

    def _rehearsing(self) -> _Tx | None:
        """The rolled-back unit of work of a ``warm_up`` running in this thread (its events are never published)."""
        return getattr(self._rehearsal, "tx", None)

    def _audit(
        self,
        tx: _Tx,
        actor: Actor,
        action: str,
        *,
        hall_id: int | None,
        target: str | None = None,
        before: dict | None = None,
        after: dict | None = None,
        window: int | None = None,
    ) -> None:
        tx.repo.audit(
            hall_id=hall_id,
            at=self.clock.now(),
            actor_id=actor.id,
            actor=actor.name,
            role=actor.role,
            window_number=window if window is not None else actor.window_number,
            action=action,
            target=target,
            before=before,
            after=after,
            client=actor.client,
        )

    def _check_hall(self, actor: Actor, hall_id: int) -> None:
        if actor.role == "system":
            return
        if actor.hall_id is not None and actor.hall_id != hall_id:
            raise Forbidden("无权操作其他大厅", code="other_hall")

    def _check_window_actor(self, actor: Actor, window: Window) -> None:
        """A clerk acts only on the window assigned to them; supervisors on any window of their hall."""
        self._check_hall(actor, window.hall_id)
        if actor.role in SUPERVISOR_ROLES or actor.role == "system":
            return
        if actor.role == "clerk" and actor.window_number == window.number:
            return
        if actor.role == "clerk":
            raise Forbidden(f"您只能操作{actor.window_number}号窗口", code="wrong_window")
        raise Forbidden("无权操作窗口", code="forbidden_role")

    def _window(self, tx: _Tx, actor: Actor, hall_id: int, number: int) -> Window:
        window = tx.repo.window(hall_id, number, lock=True)
        if window is None:
            raise NotFound(f"{number}号窗口不存在", code="window_not_found")
        self._check_window_actor(actor, window)
        if actor.role == "clerk" and actor.id is not None:
            self._sign_in(tx, actor, window)  # a clerk acting at the window is there (亮牌亮证)
        return window

    def _sign_in(self, tx: _Tx, actor: Actor, window: Window) -> bool:
        """Mark ``actor`` present at the window; audited (with an event) only when that is a change."""
        now = self.clock.now()
        if window.clerk_id == actor.id and window.seen_at is not None:
            window.seen_at = now  # a heartbeat: no state change, no audit row
            return False
        live = window.seen_at is not None and window.seen_at >= self._presence_cutoff(window.hall_id)
        if window.clerk_id is not None and live:
            # Someone else is signed in and beating: nobody (a supervisor included) silently displaces them.
            other = window.clerk.display_name if window.clerk is not None else "其他工作人员"
            raise Conflict(
                f"{window.number}号窗口已由{other}签到，请其签退后（或签到超时后）再签到",
                code="window_taken",
                details={"window": window.number},
            )
        # A person is present at one window at a time: signing in here signs them out of the other one.
        for other_window in tx.repo.windows(window.hall_id):
            if other_window.id != window.id and other_window.clerk_id == actor.id and other_window.seen_at is not None:
                self._sign_out(tx, actor, other_window, "moved")
        before = {"clerk_id": window.clerk_id if window.seen_at is not None else None}
        window.clerk_id, window.seen_at = actor.id, now
        tx.repo.flush()
        tx.repo.session.refresh(window, ["clerk"])
        self._presence_changed(tx, actor, window, "window.sign_in", before, {"clerk_id": actor.id})
        return True

    def _sign_out(self, tx: _Tx, actor: Actor, window: Window, reason: str) -> None:
        """Nobody is signed in at the window any more (logout, leaving the console, or no heartbeat)."""
        before = {"clerk_id": window.clerk_id}
        self._requeue_called(tx, actor, window, reason)
        window.clerk_id, window.seen_at = None, None
        tx.repo.flush()
        self._presence_changed(tx, actor, window, "window.sign_out", before, {"clerk_id": None, "reason": reason})

    def _requeue_called(self, tx: _Tx, actor: Actor, window: Window, reason: str) -> None:
        """A called citizen must not walk to a window nobody is at: the ticket goes back to the head of the queue."""
        if window.current_ticket_id is None:
            return
        ticket = tx.repo.ticket(window.current_ticket_id, lock=True)
        if ticket is None or ticket.status != State.CALLED.value:
            return  # a citizen in service stays where they are (they are sitting at the counter)
        key = self._transfer_key(tx.repo, window.hall_id, "first")
        audit = "ticket.requeue_sign_out"
        self._move(tx, ticket, Action.REQUEUE, actor, window, note=reason, audit_action=audit, places_back=0)
        ticket.sort_key = key
        ticket.target_window = None  # any open window may call them now
        self._free_window(window)

    def _presence_changed(self, tx: _Tx, actor: Actor, window: Window, action: str, before: dict, after: dict) -> None:
        clerk = window.clerk if window.clerk_id is not None else None
        tx.events.append(
            WindowChanged(
                hall_id=window.hall_id,
                at=self.clock.now(),
                window=window.number,
                state=window.state,
                previous=window.state,
                clerk_id=window.clerk_id,
                clerk_name=clerk.display_name if clerk else None,
            )
        )
        self._audit(
            tx,
            actor,
            action,
            hall_id=window.hall_id,
            target=f"window:{window.number}",
            window=window.number,
            before=before,
            after=after,
        )

    def _current(self, tx: _Tx, window: Window) -> Ticket:
        if window.current_ticket_id is None:
            raise Conflict(f"{window.number}号窗口当前没有号码", code="no_current_ticket")
        ticket = tx.repo.ticket(window.current_ticket_id, lock=True)
        if ticket is None:  # pragma: no cover - foreign key keeps this from happening
            raise NotFound("号码不存在", code="ticket_not_found")
        return ticket

    def _move(
        self,
        tx: _Tx,
        ticket: Ticket,
        action: Action,
        actor: Actor,
        window: Window | None = None,
        note: str | None = None,
        audit_action: str | None = None,
        **fields: Any,
    ) -> None:
        try:
            events = lifecycle.advance(
                ticket,
                action,
                at=self.clock.now(),
                make_period=tx.repo.period_factory(),
                window_id=window.id if window else None,
                window=window.number if window else None,
                clerk_id=actor.id if actor.role in STAFF_ROLES else None,
                note=note,
                **fields,
            )
        except lifecycle.InvalidTransition as exc:
            raise Conflict(
                f"号码{ticket.number}当前状态为{_STATE_NAMES.get(exc.state, exc.state)}，不能{_ACTION_NAMES[action]}",
                code="invalid_transition",
                details={"state": exc.state, "action": action.value},
            ) from exc
        tx.events.extend(events)
        self._audit(
            tx,
            actor,
            audit_action or f"ticket.{action.value}",
            hall_id=ticket.hall_id,
            target=ticket.number,
            window=window.number if window else None,
            before={"status": events[0].from_state} if events else None,  # type: ignore[attr-defined]
            after={"status": ticket.status, **{k: v for k, v in fields.items() if v is not None}},
        )

    def _sort_key(self) -> float:
        return queue_key(self.clock.now())

    def _places_back_key(self, repo: Repository, ticket: Ticket, places: int) -> float:
        """A sort key that puts the ticket after the first ``places`` waiting tickets of its queue."""
        if places <= 0:
            return self._transfer_key(repo, ticket.hall_id, "first")
        anchor = repo.sort_key_at(ticket.hall_id, ticket.queue_code, places - 1, exclude_id=ticket.id)
        if anchor is None:
            return self._transfer_key(repo, ticket.hall_id, "last")
        after = repo.next_sort_key_after(ticket.hall_id, ticket.queue_code, anchor)
        return anchor + 0.001 if after is None else (anchor + after) / 2

    def _transfer_key(self, repo: Repository, hall_id: int, position: str) -> float:
        """ "first" goes before everyone waiting in the hall (served next, 带回); "last" behind everyone."""
        now = self._sort_key()
        if position == "first":
            head = repo.min_waiting_key(hall_id)
            return now if head is None else min(head - 1.0, now)
        tail = repo.max_waiting_key(hall_id)
        return now if tail is None else max(now, tail + 1e-6)

    def _free_window(self, window: Window) -> None:
        window.current_ticket_id = None

    def hash_id(self, number: str) -> str:
        """A keyed hash of a normalised ID number (limits and bookings match people without storing IDs)."""
        return hashlib.sha256(self._pepper + number.encode()).hexdigest()

    # --- reference data -------------------------------------------------------------------------------
    def reference(self, hall_id: int) -> HallRef:
        """The hall's catalogue and settings, cached for a few seconds (see hall.catalog)."""
        with self._refs_lock:
            ref = self._refs.get(hall_id)
        if ref is None:
            with self.db.read() as session:
                ref = Repository(session).hall_ref(hall_id)
            if ref is None:
                raise NotFound("大厅不存在", code="hall_not_found")
            with self._refs_lock:
                self._refs[hall_id] = ref
        return ref

    def warm_up(self, hall_id: int) -> int:
        """Rehearse the day's moves in a transaction that is rolled back, so the first real ones are not slow.

        SQLAlchemy compiles each statement shape the first time it runs: about 20 ms for a call-next, more than
        the call itself, so on a freshly started server the first call reached the displays that much later. The
        rehearsal issues a ticket for an item of every queue (plus a priority and a 一件事 ticket), then opens,
        calls, starts and completes at every window as its clerk would (the statements an ORM flush sends
        depend on which columns change, so the actor matters). Nothing is committed, audited or published: every
        move joins one transaction that is rolled back. A move the hall refuses is skipped. Returns the moves run.
        """
        ref = self.reference(hall_id)
        kiosk = Actor(name="warm-up", role="kiosk", hall_id=hall_id)
        first: dict[str, ItemRef] = {}
        for item in ref.items.values():
            first.setdefault(item.queue_code, item)
        issues = [([item.code], None) for item in first.values()]
        if first:
            issues.append(([next(iter(first.values())).code], "elderly"))
        pair = next(
            ((a.code, b.code) for a in ref.items.values() for b in ref.items.values() if a.department != b.department),
            None,
        )
        if pair:
            issues.append((list(pair), None))
        done = 0
        with self.db.rehearsal() as session:
            self._rehearsal.tx = _Tx(Repository(session))
            try:
                windows = self._rehearsal.tx.repo.windows(hall_id)
                any_clerk = next((w.clerk_id for w in windows if w.clerk_id is not None), None)
                moves: list[tuple[Callable[..., Any], tuple, dict]] = [
                    (self.issue, (kiosk, hall_id, codes), {"priority": priority}) for codes, priority in issues
                ]
                for window in windows:
                    clerk_id = window.clerk_id or any_clerk
                    clerk = Actor(
                        name="warm-up",
                        role="clerk" if clerk_id is not None else "system",
                        hall_id=hall_id,
                        id=clerk_id,
                        window_number=window.number,
                    )
                    moves.append((self.window_action, (clerk, hall_id, window.number, "open"), {}))
                    moves += [
                        (move, (clerk, hall_id, window.number), {})
                        for move in (self.call_next, self.start, self.complete)
                    ]
                for move, args, kwargs in moves:
                    try:
                        move(*args, **kwargs)
                        done += 1
                    except HallError:
                        pass  # e.g. the window is open already or has nothing to call: the next move goes on
            finally:
                self._rehearsal.tx = None
        return done

    def invalidate(self, hall_id: int | None = None) -> None:
        """Forget cached reference data (after an admin change)."""
        with self._refs_lock:
            if hall_id is None:
                self._refs.clear()
            else:
                self._refs.pop(hall_id, None)

    # --- issuing ---------------------------------------------------------------------------------
    def issue(
        self,
        actor: Actor,
        hall_id: int,
        item_codes: Sequence[str],
        *,
        priority: str | None = None,
        id_number: str | None = None,
        channel: str = "kiosk",
        sort_at: datetime | None = None,
        within: Callable[[Repository, int], None] | None = None,
    ) -> dict[str, Any]:
        """Give a citizen a number for one item, or two items of different departments (一件事).

        ``sort_at`` places the ticket in line as if it had arrived then (an appointment keeps its slot);
        ``within(repo, ticket_id)`` runs inside the issuing transaction (a check-in marks its booking there,
        so a booking can never yield two tickets).
        """
        if actor.role not in ISSUER_ROLES:
            raise Forbidden("无权取号", code="forbidden_role")
        self._check_hall(actor, hall_id)
        codes = list(dict.fromkeys(item_codes))
        if not codes:
            raise Invalid("请至少选择一个事项", code="no_items")
        if len(codes) > 2:
            raise Invalid("一个号码最多办理两个事项", code="too_many_items")
        if priority is not None and priority not in PRIORITY_GROUPS:
            raise Invalid(f"未知的优先类别: {priority}", code="bad_priority")
        if channel not in ("kiosk", "guide", "appointment", "phone"):
            raise Invalid(f"未知的取号渠道: {channel}", code="bad_channel")
        if actor.role == "kiosk" and channel not in KIOSK_CHANNELS:
            # A kiosk's tickets count as self-service; only staff record a guide-desk issue.
            raise Forbidden(f"自助机不能以“{channel}”渠道取号", code="bad_channel")
        ref = self.reference(hall_id)
        settings = merged_settings(ref.settings)
        now = self.clock.now()
        day = numbering.service_day(now, ref.timezone)
        if self.enforce_hours and channel != "appointment" and self._rehearsing() is None:
            self._check_open(ref, now)
        missing = [c for c in codes if c not in ref.items]
        if missing:
            raise Invalid(f"事项不存在或已停办: {', '.join(missing)}", code="unknown_item", details={"items": missing})
        chosen = [ref.items[c] for c in codes]
        joint = len(chosen) == 2
        if joint and chosen[0].department == chosen[1].department:
            raise Invalid("两个事项须属于不同部门才能合并为一件事联办", code="same_department")
        queue = self._queue_for(ref, chosen[0].queue_code, priority, joint)
        id_masked = id_hash = None
        if id_number:
            normal = _checked_id(id_number, priority, day)
            id_masked = normal if settings.get("id_storage") == "full" else idcard.mask(normal)
            id_hash = self.hash_id(normal)
        # One issuer per hall and process at a time: they all meet at the counter row and the audit head anyway.
        # A check-in's ``within`` works on ORM rows; a plain issue runs Core statements only (cheaper).
        with self.db.lane(f"issue:{hall_id}"), self._tx() if within is not None else self._core_tx() as tx:
            limit = int(settings.get("tickets_per_id_per_day") or 0)
            # Count-then-insert rules hold across server processes on PostgreSQL only under a lock.
            tx.repo.serialise(
                *([f"id:{hall_id}:{day}:{id_hash}"] if id_hash and limit else []),
                *(f"quota:{hall_id}:{day}:{it.id}" for it in chosen if it.daily_quota is not None),
            )
            if id_hash and limit and tx.repo.tickets_issued_today(hall_id, day, id_hash) >= limit:
                raise TooMany(f"同一身份证每天最多取号{limit}次", code="id_daily_limit")
            for it in chosen:
                if it.daily_quota is not None and tx.repo.item_tickets_today(hall_id, day, it.id) >= it.daily_quota:
                    raise Conflict(
                        f"今日“{it.name}”号源已取完（每日限{it.daily_quota}号），请明日再来或预约办理",
                        code="quota_reached",
                        details={"item": it.code, "quota": it.daily_quota},
                    )
            # Count before taking the number: the new ticket is behind everyone already waiting in its pool. The
            # bound is this instant plus 1 ms (a number adds seq µs to its key, so numbers issued in the same
            # instant count too; an estimate for the ETA, not a rank). On PostgreSQL the counter row stays locked
            # from the number to the commit, so the lock now covers two statements fewer.
            place = min(sort_at, now) if sort_at else now
            ahead = tx.repo.count_ahead(hall_id, ref.pooled_queues(queue.code), queue_key(place, 1000), None)
            servers, free = tx.repo.open_windows_serving(
                hall_id, queue.code, staffed_only=bool(settings["presence"].get("required", True))
            )
            seq = tx.repo.next_number(hall_id, queue.id, day)
            draft = NewTicket(
                hall_id=hall_id,
                number=numbering.format_number(queue.prefix, seq, int(settings["number_digits"])),
                queue_code=queue.code,
            )
            sort_key = queue_key(place, seq)
            mean = sum(i.service_minutes for i in chosen) if joint else queue.service_minutes
            rng = eta.estimate(ahead, servers, mean, free_servers=free, **_eta_options(settings))
            token = secrets.token_urlsafe(16)
            draft.id = tx.repo.insert_ticket(
                hall_id=hall_id,
                queue_id=queue.id,
                queue_code=queue.code,
                day=day,
                seq=seq,
                number=draft.number,
                status=State.WAITING.value,
                priority=priority,
                joint=joint,
                channel=channel,
                id_masked=id_masked,
                id_hash=id_hash,
                issued_at=now,
                queue_entered_at=now,
                sort_key=sort_key,
                track_token=token,
                issuer=actor.name if actor.role == "kiosk" else None,
                eta_low=rng.low,
                eta_high=rng.high,
            )
            tx.events.extend(
                lifecycle.begin(
                    draft,
                    at=now,
                    make_period=lifecycle.PeriodRecord,
                    items=tuple(codes),
                    priority=priority,
                    joint=joint,
                )
            )
            tx.repo.insert_ticket_rows(
                draft.id,
                items=[{"item_id": it.id, "item_code": it.code, "position": n} for n, it in enumerate(chosen)],
                periods=[p.__dict__ for p in draft.periods],
            )
            if within is not None:
                within(tx.repo, draft.id)
            self._audit(
                tx,
                actor,
                "ticket.issue",
                hall_id=hall_id,
                target=draft.number,
                after={"items": codes, "priority": priority, "channel": channel, "queue": queue.code},
            )
        return {
            "id": draft.id,
            "hall_id": hall_id,
            "number": draft.number,
            "status": State.WAITING.value,
            "queue": queue.code,
            "priority": priority,
            "joint": joint,
            "channel": channel,
            "appointment": channel == "appointment",
            "items": [{**_item_brief(it), "status": "pending"} for it in chosen],
            "people_ahead": ahead,
            "eta_minutes": rng.to_dict(),
            "issued_at": now.isoformat(),
            "called_at": None,
            "window": None,
            "target_window": None,
            "first_window": None,
            "recalls": 0,
            "missing_materials": [],
            "parked_until": None,
            "id_masked": id_masked,
            "priority_verified": priority_verified(priority, id_masked),
            "track_token": token,
        }

    def check_priority(self, actor: Actor, hall_id: int, priority: str, id_number: str) -> dict[str, Any]:
        """Check a green-channel ID before the citizen picks an item (nothing is stored or audited: no change)."""
        if actor.role not in ISSUER_ROLES:
            raise Forbidden("无权取号", code="forbidden_role")
        self._check_hall(actor, hall_id)
        if priority not in PRIORITY_GROUPS:
            raise Invalid(f"未知的优先类别: {priority}", code="bad_priority")
        ref = self.reference(hall_id)
        normal = _checked_id(id_number, priority, numbering.service_day(self.clock.now(), ref.timezone))
        return {"priority": priority, "id_masked": idcard.mask(normal), "verified": priority == "elderly"}

    def hall_status(self, hall_id: int) -> dict[str, Any]:
        """Open now?, today's hours and the next opening, for kiosks and the phone page."""
        ref = self.reference(hall_id)
        hours = schedule.parse_hours(ref.settings.get("hours"), ref.timezone)
        now = self.clock.now()
        is_open = schedule.is_open(now, hours) or not self.enforce_hours
        nxt = None if is_open else schedule.next_opening(now, hours)
        return {
            "hall": {"id": ref.id, "code": ref.code, "name": ref.name},
            "open": is_open,
            "today": schedule.describe(now.astimezone(ZoneInfo(ref.timezone)).date(), hours),
            "next_opening": nxt.isoformat() if nxt else None,
            "notice": ref.settings.get("public_notice") or None,
        }

    def _check_open(self, ref: HallRef, now: datetime) -> None:
        """Refuse walk-in tickets outside opening hours, saying when the hall opens next."""
        hours = schedule.parse_hours(ref.settings.get("hours"), ref.timezone)
        if schedule.is_open(now, hours):
            return
        nxt = schedule.next_opening(now, hours)
        when = f"，下次开放时间 {nxt:%m月%d日 %H:%M}" if nxt else ""
        today = schedule.describe(now.astimezone(ZoneInfo(ref.timezone)).date(), hours)
        raise Conflict(
            f"大厅当前不在办公时间（今日 {today}）{when}",
            code="hall_closed",
            details={"next_opening": nxt.isoformat() if nxt else None},
        )

    @staticmethod
    def _queue_for(ref: HallRef, item_queue: str, priority: str | None, joint: bool) -> QueueRef:
        """Joint tickets go to the joint line, priority ones to the green line, others to the item's line."""
        if joint and (q := ref.queue_by_kind("joint")):
            return q
        if priority and (q := ref.queue_by_kind("priority")):
            return q
        if item_queue not in ref.queues:
            raise Invalid(f"事项配置的队列{item_queue}不存在", code="bad_queue")
        return ref.queues[item_queue]

    def _live_eta(self, repo: Repository, ticket: Ticket) -> tuple[int, dict[str, int]]:
        """People ahead and a fresh ETA range for a waiting ticket."""
        ref = self.reference(ticket.hall_id)
        ahead = repo.count_ahead(ticket.hall_id, ref.pooled_queues(ticket.queue_code), ticket.sort_key, ticket.id)
        required = bool(merged_settings(ref.settings)["presence"].get("required", True))
        servers, free = repo.open_windows_serving(ticket.hall_id, ticket.queue_code, staffed_only=required)
        rng = eta.estimate(
            ahead,
            servers,
            ref.queues[ticket.queue_code].service_minutes,
            free_servers=free,
            **_eta_options(merged_settings(ref.settings)),
        )
        return ahead, rng.to_dict()

    # --- calling ----------------------------------------------------------------------------------
    def _routing(self, ref: HallRef, window: Window) -> tuple[Any, WindowView, tuple[str, ...]]:
        """The hall's routing policy, the window as it sees it, and the queues it scans."""
        settings = merged_settings(ref.settings)
        policy = get_policy(settings["routing"].get("policy", "hall"), settings["routing"])
        view = WindowView(number=window.number, kind=window.kind, queues=tuple(window.queues or ()))
        return policy, view, policy.queues_to_scan(view, {code: q.kind for code, q in ref.queues.items()})

    @staticmethod
    def _candidate(ref: HallRef, window_number: int, t: Ticket, now: datetime) -> Candidate:
        """A waiting ticket as the routing policy sees it."""
        return Candidate(
            ticket_id=t.id,
            queue=t.queue_code,
            sort_key=t.sort_key,
            waited_seconds=(now - t.queue_entered_at).total_seconds(),
            priority=t.priority is not None,
            joint=t.joint,
            targeted=t.target_window == window_number,
            queue_kind=ref.queues[t.queue_code].kind if t.queue_code in ref.queues else "normal",
            item_queues=tuple(ref.items[ti.item_code].queue_code for ti in t.items if ti.item_code in ref.items)
            if t.joint
            else (),
        )

    def call_order(self, hall_id: int, window_number: int, limit: int = 10) -> list[dict[str, Any]]:
        """The window's next ``limit`` tickets in the order call-next would take them (the policy asked each time).

        Repeats the policy's choice over the waiting tickets, as if the window called them one after another
        and nobody else called or arrived meanwhile (the SLA guard, the priority interleave and the joint
        fallback apply as they would).
        """
        ref = self.reference(hall_id)
        now = self.clock.now()
        with self.db.read() as session:
            repo = Repository(session)
            window = repo.window(hall_id, window_number)
            if window is None:
                raise NotFound(f"{window_number}号窗口不存在", code="window_not_found")
            policy, view, scan = self._routing(ref, window)
            pool = list(repo.waiting_list(hall_id, scan, window_number, limit=500))
            weight = max(1, int(getattr(policy, "weight", 1)))
            recent = list(repo.recent_call_priorities(window.id, limit=weight))
            order: list[dict[str, Any]] = []
            while pool and len(order) < limit:
                heads: dict[str, Ticket] = {}
                for t in pool:  # the pool is in sort order: the first of each line, and the first sent here
                    key = "@" if t.target_window == window_number else t.queue_code
                    heads.setdefault(key, t)
                by_id = {t.id: t for t in heads.values()}
                choice = policy.choose(
                    view, [self._candidate(ref, window_number, t, now) for t in heads.values()], recent
                )
                if choice is None:
                    break
                ticket = by_id[choice.ticket_id]
                pool.remove(ticket)
                recent.insert(0, choice.queue_kind == "priority")
                order.append(self._waiting_brief(ref, ticket, window_number, now))
            return order

    @staticmethod
    def _waiting_brief(ref: HallRef, t: Ticket, window_number: int, now: datetime) -> dict[str, Any]:
        """A waiting ticket as the counter's list shows it (names, marks, minutes waited)."""
        return {
            "id": t.id,
            "number": t.number,
            "queue": t.queue_code,
            "priority": t.priority,
            "joint": t.joint,
            "booked": t.channel == "appointment",
            "appointment": t.channel == "appointment",
            "items": [ti.item_code for ti in t.items],
            "item_names": [
                ref.items[ti.item_code].name if ti.item_code in ref.items else ti.item_code for ti in t.items
            ],
            "queue_entered_at": t.queue_entered_at.isoformat(),
            "waited_minutes": max(0, int((now - t.queue_entered_at).total_seconds() // 60)),
            "targeted": t.target_window == window_number,
            "requeued": t.requeues > 0,  # back after a 过号: its next 过号 ends it
        }

    def call_ticket(
        self, actor: Actor, hall_id: int, window_number: int, ticket_id: int | None = None, *, number: str | None = None
    ) -> dict[str, Any]:
        """选呼: call one particular waiting ticket of the window's queues (or one sent to it), audited.

        By id (a row of the console's list) or by today's ``number`` (the citizen at the counter says "A036").
        """
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            self._check_can_call(tx, window)
            if number is not None:
                number = number.strip().upper()
                day = numbering.service_day(self.clock.now(), self.reference(hall_id).timezone)
                found = tx.repo.ticket_by_number(hall_id, day, number)
                if found is None:
                    raise NotFound(f"今天没有号码{number}", code="ticket_not_found")
                ticket_id = found.id
            ticket = tx.repo.ticket(ticket_id or 0, lock=True)
            if ticket is None or ticket.hall_id != hall_id:
                raise NotFound("号码不存在", code="ticket_not_found")
            if ticket.status != State.WAITING.value:
                raise Conflict(f"号码{ticket.number}不在等候中", code="not_waiting")
            mine = ticket.target_window == window.number or (
                ticket.target_window is None and ticket.queue_code in (window.queues or ())
            )
            if not mine:
                raise Conflict(f"号码{ticket.number}不属于{window.number}号窗口的队列", code="not_this_window")
            self._move(tx, ticket, Action.CALL, actor, window, audit_action="ticket.call_selected")
            self._after_call(tx, ticket, window)
            return self._view(tx.repo, ticket, window=window)

    def _check_can_call(self, tx: _Tx, window: Window) -> None:
        """The window is open and has no citizen it is still calling or serving."""
        if window.state != "open":
            raise Conflict(
                f"{window.number}号窗口未开放（{_WINDOW_NAMES[window.state]}）", code=f"window_{window.state}"
            )
        if window.current_ticket_id is not None:
            current = tx.repo.ticket(window.current_ticket_id)
            if current is not None and current.status in (State.CALLED.value, State.SERVING.value):
                raise Conflict(
                    f"请先处理当前号码{current.number}（办结、过号或转办）",
                    code="window_busy",
                    details={"current": current.number},
                )

    def _after_call(self, tx: _Tx, ticket: Ticket, window: Window) -> None:
        ticket.called_at = self.clock.now()
        ticket.window_id, ticket.window_number = window.id, window.number
        ticket.clerk_id = window.clerk_id
        ticket.target_window = None
        ticket.recalls = 0
        window.current_ticket_id = ticket.id
        tx.repo.flush()

    def call_next(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any] | None:
        """Atomically take the next ticket for the window; None when nothing waits for it."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            self._check_can_call(tx, window)
            ref = self.reference(hall_id)
            policy, view, scan = self._routing(ref, window)
            heads = tx.repo.heads(hall_id, scan, window.number)
            if not heads:
                return None
            now = self.clock.now()
            by_id = {t.id: t for t in heads}
            candidates = [self._candidate(ref, window.number, t, now) for t in heads]
            limit = max(1, int(getattr(policy, "weight", 1)))
            recent = _Lazy(lambda: tx.repo.recent_call_priorities(window.id, limit=limit))
            choice = policy.choose(view, candidates, recent)
            if choice is None:
                return None
            ticket = by_id[choice.ticket_id]
            self._move(tx, ticket, Action.CALL, actor, window)
            self._after_call(tx, ticket, window)
            return self._view(tx.repo, ticket, window=window)

    def recall(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any]:
        """重呼: announce the current called ticket again, up to the hall's limit."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            limit = int(merged_settings(self.reference(hall_id).settings)["recall_limit"])
            if ticket.status == State.CALLED.value and ticket.recalls >= limit:
                raise Conflict(f"已重呼{limit}次，请办理过号", code="recall_limit")
            self._move(tx, ticket, Action.RECALL, actor, window, recalls=ticket.recalls + 1)
            ticket.recalls += 1
            ticket.called_at = self.clock.now()
            return self._view(tx.repo, ticket, window=window)

    def no_show(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any]:
        """过号 per the hall's rule: recycle N places back (limited times) or end as no-show."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            rule = merged_settings(self.reference(hall_id).settings)["no_show"]
            if (
                rule.get("mode") == "requeue"
                and ticket.requeues < int(rule.get("max_requeues", 1))
                and ticket.status == State.CALLED.value
            ):
                places = int(rule.get("places_back", 3))
                key = self._places_back_key(tx.repo, ticket, places)
                self._move(tx, ticket, Action.REQUEUE, actor, window, places_back=places)
                ticket.requeues += 1
                ticket.sort_key = key
            else:
                self._move(tx, ticket, Action.NO_SHOW, actor, window)
            self._free_window(window)
            return self._view(tx.repo, ticket, window=window)

    def start(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any]:
        """The called citizen has arrived: service starts (first start records 首问负责)."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            self._move(tx, ticket, Action.START, actor, window)
            self._mark_first(ticket, window, actor)
            return self._view(tx.repo, ticket, window=window)

    @staticmethod
    def _mark_first(ticket: Ticket, window: Window, actor: Actor) -> None:
        if ticket.first_window is None:
            ticket.first_window = window.number
            ticket.first_clerk_id = actor.id if actor.role in STAFF_ROLES else window.clerk_id

    def complete(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any]:
        """Service done: every pending item of the ticket is completed at this window."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            now = self.clock.now()
            done = [ti.item_code for ti in ticket.items if ti.status == "pending"]
            self._move(tx, ticket, Action.COMPLETE, actor, window, items=tuple(done))
            for ti in ticket.items:
                if ti.status == "pending":
                    ti.status, ti.completed_at = "done", now
                    ti.window_number, ti.clerk_id = window.number, actor.id if actor.role in STAFF_ROLES else None
            self._free_window(window)
            return self._view(tx.repo, ticket, window=window)

    def transfer(
        self,
        actor: Actor,
        hall_id: int,
        window_number: int,
        *,
        to_window: int | None = None,
        to_item: str | None = None,
        position: str = "last",
    ) -> dict[str, Any]:
        """Move the ticket in service to another window or item; ``first`` = served next there (with return)."""
        if (to_window is None) == (to_item is None):
            raise Invalid("请指定转办的目标窗口或目标事项（二选一）", code="bad_transfer")
        if position not in ("first", "last"):
            raise Invalid("position 只能是 first 或 last", code="bad_position")
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            if ticket.status != State.SERVING.value:
                raise Conflict(
                    f"号码{ticket.number}尚未开始办理，不能转办",
                    code="invalid_transition",
                    details={"state": ticket.status, "action": "transfer"},
                )
            if to_window is not None:
                target = tx.repo.window(hall_id, to_window)
                if target is None:
                    raise NotFound(f"{to_window}号窗口不存在", code="window_not_found")
                if target.number == window.number:
                    raise Invalid("不能转办到本窗口", code="same_window")
                # A citizen sent to a window nobody will call from would wait for ever. A paused window is
                # accepted while its clerk is signed in: the clerk comes back from the break and calls them.
                if target.state == "closed":
                    raise Conflict(
                        f"{target.number}号窗口已关闭，不能转办到该窗口，请选择开放的窗口",
                        code="target_closed",
                        details={"window": target.number, "state": target.state},
                    )
                if self._presence_required(hall_id) and not target.staffed:
                    raise Conflict(
                        f"{target.number}号窗口无人签到，转过去的群众无人叫号，请选择有人在岗的窗口",
                        code="target_unstaffed",
                        details={"window": target.number, "state": target.state},
                    )
                key = self._transfer_key(tx.repo, hall_id, position)
                self._move(tx, ticket, Action.TRANSFER, actor, window, to_window=target.number, position=position)
                ticket.target_window = target.number
            else:
                item = tx.repo.items_by_code(hall_id, [to_item or ""]).get(to_item or "")
                if item is None:
                    raise Invalid(f"事项不存在: {to_item}", code="unknown_item")
                queues = tx.repo.queues(hall_id)
                new_queue = queues.get(item.queue_code)
                if new_queue is None:
                    raise Invalid(f"事项配置的队列{item.queue_code}不存在", code="bad_queue")
                key = self._transfer_key(tx.repo, hall_id, position)
                self._move(tx, ticket, Action.TRANSFER, actor, window, to_item=item.code, position=position)
                # Only the routing queue changes. queue_id stays the queue that issued the number: (queue_id, day,
                # seq) is the number's identity, and L001 moved into queue A collided with A001 (HTTP 500).
                ticket.queue_code = new_queue.code
                ticket.target_window = None
                if all(ti.item_code != item.code for ti in ticket.items):
                    ticket.items.append(
                        tx.repo.ticket_item_factory()(
                            item_id=item.id, item_code=item.code, position=len(ticket.items), item=item
                        )
                    )
            self._mark_first(ticket, window, actor)
            ticket.sort_key = key
            ticket.queue_entered_at = self.clock.now()
            self._free_window(window)
            tx.repo.flush()
            return self._view(tx.repo, ticket, window=window)

    def park(
        self, actor: Actor, hall_id: int, window_number: int, *, missing: Sequence[str], days: int | None = None
    ) -> dict[str, Any]:
        """容缺受理: accept with materials missing (recorded); the ticket waits for them."""
        missing = [m.strip() for m in missing if m and m.strip()]
        if not missing:
            raise Invalid("容缺受理须登记所缺材料", code="no_missing_materials")
        if days is not None and not (0 < days <= 60):
            raise Invalid("补齐材料期限应为1到60天", code="bad_days")
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            self._move(tx, ticket, Action.PARK, actor, window, note="；".join(missing), missing=tuple(missing))
            ticket.missing_materials = missing
            if days:
                ticket.parked_until = self.clock.now() + timedelta(days=days)
            self._free_window(window)
            return self._view(tx.repo, ticket, window=window)

    def resume(self, actor: Actor, hall_id: int, window_number: int, ticket_id: int) -> dict[str, Any]:
        """A parked citizen is back with the materials: service resumes at this window."""
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            if window.state != "open":
                raise Conflict(f"{window.number}号窗口未开放", code=f"window_{window.state}")
            if window.current_ticket_id is not None:
                raise Conflict("请先处理当前号码", code="window_busy")
            ticket = tx.repo.ticket(ticket_id, lock=True)
            if ticket is None or ticket.hall_id != hall_id:
                raise NotFound("号码不存在", code="ticket_not_found")
            self._move(tx, ticket, Action.RESUME, actor, window)
            ticket.window_id, ticket.window_number = window.id, window.number
            ticket.missing_materials = []
            ticket.parked_until = None
            window.current_ticket_id = ticket.id
            return self._view(tx.repo, ticket, window=window)

    def unpark(self, actor: Actor, hall_id: int, ticket_id: int) -> dict[str, Any]:
        """Materials arrived by mail or online: the parked ticket goes back to the head of its queue."""
        if actor.role not in STAFF_ROLES:
            raise Forbidden("无权操作", code="forbidden_role")
        with self._tx() as tx:
            ticket = self._ticket_in_hall(tx, actor, hall_id, ticket_id)
            self._move(tx, ticket, Action.UNPARK, actor)
            ticket.sort_key = self._transfer_key(tx.repo, hall_id, "first")
            ticket.queue_entered_at = self.clock.now()
            ticket.missing_materials = []
            return self._view(tx.repo, ticket)

    def return_late(self, actor: Actor, hall_id: int, ticket_id: int) -> dict[str, Any]:
        """A no-show citizen came back: let them in again once, a few places back (if the hall allows)."""
        if actor.role not in STAFF_ROLES:
            raise Forbidden("无权操作", code="forbidden_role")
        with self._tx() as tx:
            ticket = self._ticket_in_hall(tx, actor, hall_id, ticket_id)
            rule = merged_settings(self.reference(hall_id).settings)["no_show"]
            if not rule.get("late_return") or ticket.returns >= 1:
                raise Conflict("该号码不能再次恢复，请重新取号", code="no_late_return")
            places = int(rule.get("places_back", 3))
            key = self._places_back_key(tx.repo, ticket, places)
            self._move(tx, ticket, Action.RETURN, actor)
            ticket.returns += 1
            ticket.sort_key = key
            ticket.queue_entered_at = self.clock.now()
            return self._view(tx.repo, ticket)

    def cancel(self, actor: Actor, hall_id: int, ticket_id: int) -> dict[str, Any]:
        """The citizen gives up a waiting number (from the tracking page or at the guide desk)."""
        with self._tx() as tx:
            ticket = self._ticket_in_hall(tx, actor, hall_id, ticket_id)
            if actor.role == "clerk":
                self._check_clerk_may_cancel(tx, actor, hall_id, ticket)
            self._move(tx, ticket, Action.CANCEL, actor)
            return self._view(tx.repo, ticket)

    def verify_priority(self, actor: Actor, hall_id: int, window_number: int, verified: bool) -> dict[str, Any]:
        """The clerk's check of the called green-channel number: confirm it, or send it to the normal queue.

        A downgraded number goes back to waiting in its item's normal queue at its own place (its sort key is its
        issue time), without the green channel; both outcomes are audited.
        """
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            ticket = self._current(tx, window)
            if ticket.priority is None:
                raise Conflict(f"号码{ticket.number}不是绿色通道号码", code="not_priority")
            if verified:
                if not priority_verified(ticket.priority, ticket.id_masked, ticket.priority_checked_by):
                    ticket.priority_checked_by = actor.name
                    self._audit(
                        tx,
                        actor,
                        "ticket.priority_verified",
                        hall_id=hall_id,
                        target=ticket.number,
                        window=window.number,
                        before={"priority_verified": False},
                        after={"priority": ticket.priority, "priority_verified": True},
                    )
                return self._view(tx.repo, ticket, window=window)
            if ticket.status != State.CALLED.value:
                raise Conflict(
                    f"号码{ticket.number}已开始办理，不能改回普通号；请在开始办理前核验",
                    code="invalid_transition",
                    details={"state": ticket.status, "action": "priority_downgrade"},
                )
            items = [ti.item for ti in ticket.items if ti.item is not None]
            queue_code = items[0].queue_code if items else ticket.queue_code
            if tx.repo.queues(hall_id).get(queue_code) is None:
                raise Invalid(f"事项配置的队列{queue_code}不存在", code="bad_queue")
            before_priority, before_queue = ticket.priority, ticket.queue_code
            self._move(tx, ticket, Action.REQUEUE, actor, window, audit_action="ticket.priority_requeue")
            ticket.priority, ticket.queue_code, ticket.priority_checked_by = None, queue_code, None
            self._audit(
                tx,
                actor,
                "ticket.priority_downgrade",
                hall_id=hall_id,
                target=ticket.number,
                window=window.number,
                before={"priority": before_priority, "queue": before_queue},
                after={"priority": None, "queue": queue_code},
            )
            self._free_window(window)
            tx.repo.flush()
            return self._view(tx.repo, ticket, window=window)

    def _check_clerk_may_cancel(self, tx: _Tx, actor: Actor, hall_id: int, ticket: Ticket) -> None:
        """A clerk cancels a number of their own window's queues (or sent to their window), or at the guide desk.

        Cancelling takes a citizen out of the queue for good, so another window's clerk may not do it; the guide
        on duty today does it at the citizen's request (咨询引导), and supervisors may always.
        """
        window = tx.repo.window(hall_id, actor.window_number) if actor.window_number is not None else None
        if window is not None and (ticket.queue_code in (window.queues or []) or ticket.target_window == window.number):
            return
        from hall.roster import Roster  # the roster module builds on the engine

        today = numbering.service_day(self.clock.now(), self.reference(hall_id).timezone)
        guides = Roster(self).day(hall_id, today).get("guides") or []
        if any(g and g.get("username") == actor.name for g in guides):
            return
        raise Forbidden("只能取消本窗口队列的号码；其他号码请群众到咨询引导台或由值班领导取消", code="not_your_queue")

    def record(
        self,
        actor: Actor,
        hall_id: int,
        action: str,
        *,
        target: str | None = None,
        before: dict | None = None,
        after: dict | None = None,
    ) -> None:
        """Write an audit row for a change made outside the engine's own moves (overrides, admin edits)."""
        with self._tx() as tx:
            self._audit(tx, actor, action, hall_id=hall_id, target=target, before=before, after=after)

    def claim_print(self, actor: Actor, hall_id: int, ticket_id: int) -> dict[str, Any]:
        """Record a print of a ticket's receipt and return its view (with the tracking secret for the QR).

        A kiosk prints each of today's tickets once, right after issuing (a second slip would let one number
        be handed to two people); staff at the guide desk may reprint any of today's open tickets.
        """
        kiosk = actor.role == "kiosk"
        if not kiosk and actor.role not in STAFF_ROLES:
            raise Forbidden("无权打印号票", code="forbidden_role")
        with self._tx() as tx:
            ticket = self._ticket_in_hall(tx, actor, hall_id, ticket_id)
            if kiosk and ticket.issuer != actor.name:
                # Another kiosk's ticket: its print would hand this kiosk the citizen's tracking secret.
                raise NotFound("号码不存在", code="ticket_not_found")
            ref = self.reference(hall_id)
            today = numbering.service_day(self.clock.now(), ref.timezone)
            if ticket.day != today:
                raise Conflict("只能打印当天的号码", code="ticket_not_today")
            if State(ticket.status) in lifecycle.FINAL_STATES:
                raise Conflict("号码已结束，不能打印", code="ticket_ended")
            if kiosk and ticket.prints:
                raise Conflict("该号票已打印，补打请到导办台", code="already_printed")
            ticket.prints = (ticket.prints or 0) + 1
            self._audit(
                tx,
                actor,
                "ticket.reprint" if ticket.prints > 1 else "ticket.print",
                hall_id=hall_id,
                target=ticket.number,
                after={"prints": ticket.prints},
            )
            return self._view(tx.repo, ticket, live=True)

    def _ticket_in_hall(self, tx: _Tx, actor: Actor, hall_id: int, ticket_id: int) -> Ticket:
        self._check_hall(actor, hall_id)
        ticket = tx.repo.ticket(ticket_id, lock=True)
        if ticket is None or ticket.hall_id != hall_id:
            raise NotFound("号码不存在", code="ticket_not_found")
        return ticket

    def reset_day(self, actor: Actor, hall_id: int, *, close_windows: bool = True, through: date | None = None) -> int:
        """End every still-open ticket with outcome ended_by_reset (kept, not deleted); close windows.

        ``through`` limits the reset to tickets of that day and earlier: a late catch-up of yesterday's close
        while today's hall is open must not end today's tickets (and passes ``close_windows=False``).
        """
        if actor.role not in ("system", "admin", "manager"):
            raise Forbidden("无权执行日终清零", code="forbidden_role")
        with self._tx() as tx:
            self._check_hall(actor, hall_id)
            tickets = tx.repo.open_tickets(hall_id, through)
            freed = {t.id for t in tickets}
            for ticket in tickets:
                self._move(tx, ticket, Action.RESET, actor)
            for window in tx.repo.windows(hall_id):
                if through is None or window.current_ticket_id in freed:
                    window.current_ticket_id = None
                if close_windows and window.state != "closed":
                    self._window_move(tx, actor, window, "close")
            return len(tickets)

    # --- windows ---------------------------------------------------------------------------------
    def window_action(
        self, actor: Actor, hall_id: int, window_number: int, action: str, reason: str | None = None
    ) -> dict[str, Any]:
        """open / pause / resume / close a window (pausing or closing needs no citizen at it).

        ``reason`` (pause only): meal / meeting / away (就餐 / 会议 / 临时离开), shown on the window's display.
        """
        if action not in WINDOW_MOVES:
            raise Invalid(f"未知的窗口操作: {action}", code="bad_action")
        if reason is not None and (action != "pause" or reason not in PAUSE_REASONS):
            raise Invalid(f"暂停原因须为 {', '.join(PAUSE_REASONS)} 之一", code="bad_pause_reason")
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            if action in ("pause", "close") and window.current_ticket_id is not None:
                raise Conflict("窗口正在办理业务，请先办结或转办当前号码", code="window_busy")
            self._window_move(tx, actor, window, action, reason)
            return self._window_view(window, self._presence_required(hall_id))

    def _window_move(self, tx: _Tx, actor: Actor, window: Window, action: str, reason: str | None = None) -> None:
        sources, target = WINDOW_MOVES[action]
        if window.state not in sources:
            raise Conflict(
                f"{window.number}号窗口当前{_WINDOW_NAMES[window.state]}，不能{_WINDOW_ACTIONS[action]}",
                code="invalid_window_transition",
                details={"state": window.state, "action": action},
            )
        previous = window.state
        now = self.clock.now()
        window.state, window.state_since = target, now
        window.pause_reason = reason if target == "paused" else None
        tx.repo.open_window_period(window, target, now)
        clerk = window.clerk
        tx.events.append(
            WindowChanged(
                hall_id=window.hall_id,
                at=now,
                window=window.number,
                state=target,
                previous=previous,
                clerk_id=window.clerk_id,
                clerk_name=clerk.display_name if clerk else None,
                reason=window.pause_reason,
            )
        )
        self._audit(
            tx,
            actor,
            f"window.{action}",
            hall_id=window.hall_id,
            target=f"window:{window.number}",
            window=window.number,
            before={"state": previous},
            after={"state": target, **({"reason": reason} if window.pause_reason else {})},
        )

    # --- presence --------------------------------------------------------------------------------
    def presence(self, actor: Actor, hall_id: int, window_number: int) -> dict[str, Any]:
        """The console's heartbeat: sign ``actor`` in at the window, or keep their presence alive."""
        if actor.id is None or actor.role not in STAFF_ROLES:
            raise Forbidden("只有工作人员可以签到窗口", code="forbidden_role")
        with self._tx() as tx:
            window = self._window(tx, actor, hall_id, window_number)
            if actor.role != "clerk":
                self._sign_in(tx, actor, window)
            return self._window_view(window, self._presence_required(hall_id))

    def sign_out(self, actor: Actor, hall_id: int, window_number: int | None = None, reason: str = "logout") -> int:
        """Sign ``actor`` out of their windows (or of one window; a supervisor may sign anyone out of it)."""
        with self._tx() as tx:
            if window_number is not None:
                windows = [self._window_for_sign_out(tx, actor, hall_id, window_number)]
            else:
                windows = [w for w in tx.repo.windows(hall_id) if w.clerk_id == actor.id and w.seen_at is not None]
            for window in windows:
                if window.seen_at is not None and (window.clerk_id == actor.id or actor.role in SUPERVISOR_ROLES):
                    self._sign_out(tx, actor, window, reason)
            return len(windows)

    def release_windows(self, session: Any, actor: Actor, hall_id: int, user: Any) -> list[DomainEvent]:
        """Sign ``user`` out, in the caller's transaction, of windows their account no longer lets them staff.

        An admin deactivating an account signs it out everywhere; moving a clerk to another window signs them
        out of the old one. Audited (``window.sign_out``, reason ``account_changed``); the caller publishes the
        returned events after its commit.
        """
        tx = _Tx(Repository(session))
        for window in tx.repo.windows(hall_id):
            if window.clerk_id != user.id or window.seen_at is None:
                continue
            allowed = user.active and (user.role != "clerk" or user.window_number == window.number)
            if not allowed:
                self._sign_out(tx, actor, window, "account_changed")
        return tx.events

    def _window_for_sign_out(self, tx: _Tx, actor: Actor, hall_id: int, number: int) -> Window:
        window = tx.repo.window(hall_id, number, lock=True)
        if window is None:
            raise NotFound(f"{number}号窗口不存在", code="window_not_found")
        self._check_hall(actor, hall_id)
        if actor.role in SUPERVISOR_ROLES or actor.role == "system":
            return window
        if window.clerk_id != actor.id and actor.window_number != number:
            raise Forbidden(f"您只能操作{actor.window_number}号窗口", code="wrong_window")
        return window

    def sweep_presence(self, hall_id: int) -> list[int]:
        """Sign out every window whose console has been silent longer than the timeout; returns their numbers."""
        opts = merged_settings(self.reference(hall_id).settings)["presence"]
        cutoff = self.clock.now() - timedelta(seconds=float(opts.get("timeout_seconds", 60)))
        with self.db.read() as session:
            stale = [
                w.number for w in Repository(session).windows(hall_id) if w.seen_at is not None and w.seen_at < cutoff
            ]
        if not stale:
            return []  # the common case writes nothing
        gone: list[int] = []
        system = Actor.system(hall_id)
        with self._tx() as tx:
            for window in tx.repo.windows(hall_id):
                if window.number in stale and window.seen_at is not None and window.seen_at < cutoff:
                    self._sign_out(tx, system, window, "timeout")
                    gone.append(window.number)
        return gone

    def _presence_cutoff(self, hall_id: int) -> datetime:
        """Beats older than this are stale: the person has timed out even if the sweep has not run yet."""
        opts = merged_settings(self.reference(hall_id).settings)["presence"]
        return self.clock.now() - timedelta(seconds=float(opts.get("timeout_seconds", 40)))

    def _presence_required(self, hall_id: int) -> bool:
        return bool(merged_settings(self.reference(hall_id).settings)["presence"].get("required", True))

    # --- reading ---------------------------------------------------------------------------------
    def ticket(self, hall_id: int | None, ticket_id: int) -> dict[str, Any]:
        """A ticket's public view (with people ahead and ETA while it waits)."""
        with self.db.read() as session:
            repo = Repository(session)
            ticket = repo.ticket(ticket_id)
            if ticket is None or (hall_id is not None and ticket.hall_id != hall_id):
                raise NotFound("号码不存在", code="ticket_not_found")
            return self._view(repo, ticket, live=True)

    def ticket_by_token(self, token: str) -> dict[str, Any]:
        """A ticket by its tracking secret."""
        with self.db.read() as session:
            repo = Repository(session)
            ticket = repo.ticket_by_token(token)
            if ticket is None:
                raise NotFound("号码不存在", code="ticket_not_found")
            return self._view(repo, ticket, live=True)

    def items(self, hall_id: int) -> list[dict[str, Any]]:
        """The catalogue (active items in display order), with today's remaining quota where one is set."""
        ref = self.reference(hall_id)
        out = [item.to_dict() for item in ref.items.values()]
        limited = [i for i in ref.items.values() if i.daily_quota is not None]
        if limited:
            day = numbering.service_day(self.clock.now(), ref.timezone)
            with self.db.read() as session:
                repo = Repository(session)
                left = {i.code: max(0, i.daily_quota - repo.item_tickets_today(hall_id, day, i.id)) for i in limited}
            for item in out:
                item["quota_left"] = left.get(item["code"])
        return out

    def day_stats(self, hall_id: int, day: date | None = None) -> dict[str, Any]:
        """A day's waits, outcomes, arrivals and ETA accuracy (predicted range vs actual wait), from history."""
        ref = self.reference(hall_id)
        day = day or numbering.service_day(self.clock.now(), ref.timezone)
        with self.db.read() as session:
            rows, tickets = Repository(session).period_rows(hall_id, day)
        return {"day": day.isoformat(), **stats.day_summary(rows, tickets, ZoneInfo(ref.timezone))}

    def load(self, hall_id: int) -> dict[str, Any]:
        """Live load: waiting and longest wait per queue, every window's state and current ticket.

        Screens refresh this several times a second in a burst, so it is a fixed handful of queries
        whatever the number of windows or waiting tickets.
        """
        now = self.clock.now()
        ref = self.reference(hall_id)
        with self.db.read() as session:
            repo = Repository(session)
            summary = repo.waiting_summary(hall_id)
            queues = []
            for q in ref.queues.values():
                waiting, oldest = summary.get(q.code, (0, None))
                queues.append(
                    {
                        "code": q.code,
                        "prefix": q.prefix,
                        "name": q.name,
                        "kind": q.kind,
                        "waiting": waiting,
                        "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
                    }
                )
            rows = repo.windows(hall_id)
            current = repo.tickets_with_history([w.current_ticket_id for w in rows if w.current_ticket_id])
            windows = []
            required = bool(merged_settings(ref.settings)["presence"].get("required", True))
            for w in rows:
                view = self._window_view(w, required)
                t = current.get(w.current_ticket_id) if w.current_ticket_id else None
                if t is not None:
                    since = t.periods[-1].started_at if t.periods else t.called_at
                    view["current"] = {
                        "id": t.id,
                        "number": t.number,
                        "status": t.status,
                        "items": [ti.item_code for ti in t.items],
                        "since": since.isoformat() if since else None,
                    }
                windows.append(view)
            return {
                "hall": {"id": ref.id, "code": ref.code, "name": ref.name},
                "at": now.isoformat(),
                "waiting": sum(q["waiting"] for q in queues),
                "longest_wait_seconds": max((q["longest_wait_seconds"] for q in queues), default=0),
                "queues": queues,
                "windows": windows,
                "parked": repo.parked_count(hall_id),
                # an open tidal window counts only once someone signs in there: the consoles and dashboard ask
                "needs_staff": [
                    w["number"] for w in windows if w["kind"] == "tidal" and w["state"] == "open" and not w["staffed"]
                ],
            }

    def window_state(self, hall_id: int, number: int) -> dict[str, Any]:
        """One window with its current ticket and what it could call next."""
        with self.db.read() as session:
            repo = Repository(session)
            window = repo.window(hall_id, number)
            if window is None:
                raise NotFound(f"{number}号窗口不存在", code="window_not_found")
            view = self._window_view(window, self._presence_required(hall_id))
            if window.current_ticket_id:
                t = repo.ticket(window.current_ticket_id)
                view["current"] = self._view(repo, t, window=window) if t else None
                if t is not None and view["current"] is not None:
                    # the service timer runs from the start of the ticket's current state (called or serving)
                    since = max((p.started_at for p in t.periods if p.ended_at is None), default=t.called_at)
                    view["current"]["since"] = since.isoformat() if since else None
                    # A recall or 开始办理 restarts "since"; the clerk also needs the time since the first call.
                    first_call = None
                    previous = None
                    for p in sorted(t.periods, key=lambda p: p.started_at):
                        if p.state == State.CALLED.value and not (
                            previous is not None
                            and previous.state == State.CALLED.value
                            and previous.end_action == "recall"
                        ):
                            first_call = p.started_at
                        previous = p
                    view["current"]["first_called_at"] = first_call.isoformat() if first_call else None
                    serving = t.status == State.SERVING.value
                    view["current"]["service_started_at"] = since.isoformat() if serving and since else None
                    view["current"]["requeues"] = t.requeues
            view["waiting"] = self.call_order(hall_id, number, limit=20)
            ref = self.reference(hall_id)
            view["waiting_total"] = repo.count_waiting_for(hall_id, window.queues or [], number)
            day = numbering.service_day(self.clock.now(), ref.timezone)
            at_window, by_clerk = repo.completed_today(
                hall_id, day, number, window.clerk_id if window.staffed else None
            )
            view["today"] = {"window_completed": at_window, "clerk_completed": by_clerk}
            settings = merged_settings(ref.settings)
            view["recall_limit"] = int(settings["recall_limit"])
            rule = settings["no_show"]
            view["no_show"] = {  # the console says before 过号 whether the ticket moves back or ends
                "mode": rule.get("mode"),
                "places_back": int(rule.get("places_back", 3)),
                "max_requeues": int(rule.get("max_requeues", 1)),
            }
            view["parked"] = [
                {
                    "id": t.id,
                    "number": t.number,
                    "missing": t.missing_materials,
                    "first_window": t.first_window,
                    "parked_until": t.parked_until.isoformat() if t.parked_until else None,
                }
                for t in repo.parked(hall_id)
            ]
            return view

    @staticmethod
    def _window_view(window: Window, presence_required: bool = True) -> dict[str, Any]:
        """A window as screens show it. ``available``: open and staffed, so it counts as open (routing, ETA)."""
        staffed = window.staffed or not presence_required
        clerk = window.clerk if window.staffed else None  # nobody's name on a window nobody works at
        return {
            "number": window.number,
            "name": window.name,
            "kind": window.kind,
            "state": window.state,
            "staffed": staffed,
            "available": window.state == "open" and staffed,
            "pause_reason": window.pause_reason if window.state == "paused" else None,
            "queues": list(window.queues or []),
            "clerk": {"name": clerk.display_name, "staff_no": clerk.staff_no} if clerk else None,
            "current_ticket_id": window.current_ticket_id,
            "current": None,
        }

    def _view(
        self,
        repo: Repository,
        ticket: Ticket,
        *,
        people_ahead: int | None = None,
        window: Window | None = None,
        live: bool = False,
    ) -> dict[str, Any]:
        eta_range = None
        if ticket.status == State.WAITING.value:
            if people_ahead is None and live:
                people_ahead, eta_range = self._live_eta(repo, ticket)
            elif ticket.eta_low is not None:
                eta_range = {"low": int(ticket.eta_low), "high": int(ticket.eta_high or ticket.eta_low)}
        # Only the citizen's own views (phone page, API by id) ask which 办件 were rated: lists skip the query.
        rated = repo.rated_ticket_items(ticket.id) if live else None
        return {
            "id": ticket.id,
            "hall_id": ticket.hall_id,
            "number": ticket.number,
            "status": ticket.status,
            "queue": ticket.queue_code,
            "priority": ticket.priority,
            "joint": ticket.joint,
            "channel": ticket.channel,
            "appointment": ticket.channel == "appointment",  # a checked-in booking: screens and slip mark 预约
            "items": [
                {
                    "code": ti.item_code,
                    "name": ti.item.name,
                    "department": ti.item.department,
                    "status": ti.status,
                    "handling_class": ti.item.handling_class,
                    "time_limit_days": ti.item.time_limit_days,
                    "materials": list(ti.item.materials or []),
                    "online": ti.item.online,
                    **({"rated": ti.id in rated} if rated is not None else {}),
                }
                for ti in ticket.items
            ],
            "people_ahead": people_ahead if ticket.status == State.WAITING.value else 0,
            "eta_minutes": eta_range,
            "issued_at": ticket.issued_at.isoformat(),
            "called_at": ticket.called_at.isoformat() if ticket.called_at else None,
            "window": ticket.window_number,
            "target_window": ticket.target_window,
            "first_window": ticket.first_window,
            "recalls": ticket.recalls,
            "missing_materials": list(ticket.missing_materials or []),
            "parked_until": ticket.parked_until.isoformat() if ticket.parked_until else None,
            "id_masked": ticket.id_masked,
            "priority_verified": priority_verified(ticket.priority, ticket.id_masked, ticket.priority_checked_by),
            "track_token": ticket.track_token,
        }


def _checked_id(id_number: str, priority: str | None, day: date) -> str:
    """The normalised 身份证 number, refused when invalid or, for the elderly green channel, under 65 on ``day``."""
    try:
        info = idcard.parse(id_number, today=day)
    except idcard.InvalidIdNumber as exc:
        raise Invalid(str(exc), code=exc.code) from exc
    if priority == "elderly" and info.age_on(day) < 65:
        raise Invalid("根据身份证号码，年龄未满65周岁，不能走老年人绿色通道", code="not_elderly")
    return idcard.normalise(id_number)


def priority_verified(priority: str | None, id_masked: str | None, checked_by: str | None = None) -> bool | None:
    """Was the green-channel claim checked (at issue, or by the clerk at the window)? None for a normal ticket.

    Only the elderly group is checked by machine (age from the 身份证 number). A ticket taken with 跳过 (no ID),
    and every other group (残疾人证, 退役军人证… are shown at the window), is 待核验 until the clerk checks it.
    """
    if priority is None:
        return None
    return checked_by is not None or (priority == "elderly" and id_masked is not None)


def _item_brief(item: ItemRef) -> dict[str, Any]:
    """An item as shown on a ticket."""
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department,
        "handling_class": item.handling_class,
        "time_limit_days": item.time_limit_days,
        "materials": list(item.materials),
        "online": item.online,
    }


_STATE_NAMES = {
    "waiting": "等候中",
    "called": "已叫号",
    "serving": "办理中",
    "parked": "容缺待补",
    "completed": "已办结",
    "no_show": "已过号",
    "cancelled": "已取消",
    "ended_by_reset": "日终已结束",
}
_ACTION_NAMES = {
    Action.CALL: "叫号",
    Action.RECALL: "重呼",
    Action.START: "开始办理",
    Action.COMPLETE: "办结",
    Action.NO_SHOW: "过号",
    Action.REQUEUE: "过号",
    Action.RETURN: "恢复",
    Action.TRANSFER: "转办",
    Action.PARK: "容缺受理",
    Action.RESUME: "恢复办理",
    Action.UNPARK: "恢复排队",
    Action.CANCEL: "取消",
    Action.RESET: "日终结束",
}
_WINDOW_NAMES = {"open": "开放中", "paused": "暂停中", "closed": "已关闭"}
_WINDOW_ACTIONS = {"open": "开放", "pause": "暂停", "resume": "恢复", "close": "关闭"}
