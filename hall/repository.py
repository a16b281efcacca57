"""Queries and writes for the engine; the only place that speaks SQL (besides migrations)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from hall import audit
from hall.catalog import HallRef, ItemRef, QueueRef
from hall.lifecycle import OPEN_STATES, State
from hall.models import (
    Device,
    Hall,
    Item,
    NumberCounter,
    Period,
    Queue,
    Rating,
    Ticket,
    TicketItem,
    User,
    Window,
    WindowPeriod,
)
from hall.stats import PeriodRow


class Repository:
    """Wraps one session (one unit of work)."""

    def __init__(self, session: Session | None, conn: Any = None) -> None:
        # Hot paths (issuing) pass a bare Core connection and no session: only Core methods work then.
        self.session = session  # type: ignore[assignment]
        self._conn: Any = conn
        self._dialect = (conn if conn is not None else session.get_bind()).dialect.name  # type: ignore[union-attr]

    def _connection(self) -> Any:
        """The unit of work's connection (asking the session for it on every hot-path statement costs more
        than the statement itself on SQLite)."""
        if self._conn is None:
            self._conn = self.session.connection()
        return self._conn

    # --- reference data -------------------------------------------------------------------------
    def hall(self, hall_id: int) -> Hall | None:
        """The hall with this id."""
        return self.session.get(Hall, hall_id)

    def hall_by_code(self, code: str) -> Hall | None:
        """The hall with this code."""
        return self.session.scalar(select(Hall).where(Hall.code == code))

    def halls(self) -> Sequence[Hall]:
        """Every hall."""
        return self.session.scalars(select(Hall).order_by(Hall.id)).all()

    def queues(self, hall_id: int) -> dict[str, Queue]:
        """The hall's queues by code."""
        rows = self.session.scalars(select(Queue).where(Queue.hall_id == hall_id).order_by(Queue.id))
        return {q.code: q for q in rows}

    def items(self, hall_id: int, *, active_only: bool = True) -> Sequence[Item]:
        """The hall's catalogue in display order."""
        stmt = select(Item).where(Item.hall_id == hall_id)
        if active_only:
            stmt = stmt.where(Item.active.is_(True))
        return self.session.scalars(stmt.order_by(Item.sort, Item.code)).all()

    def items_by_code(self, hall_id: int, codes: Iterable[str]) -> dict[str, Item]:
        """Active items of the hall among ``codes``."""
        rows = self.session.scalars(
            select(Item).where(Item.hall_id == hall_id, Item.code.in_(list(codes)), Item.active.is_(True))
        )
        return {i.code: i for i in rows}

    def windows(self, hall_id: int) -> Sequence[Window]:
        """The hall's windows by number."""
        return self.session.scalars(select(Window).where(Window.hall_id == hall_id).order_by(Window.number)).all()

    def window(self, hall_id: int, number: int, *, lock: bool = False) -> Window | None:
        """One window; ``lock`` takes a row lock on PostgreSQL (SQLite is already serialised)."""
        stmt = select(Window).where(Window.hall_id == hall_id, Window.number == number)
        if lock:
            stmt = stmt.with_for_update(of=Window)
        return self.session.scalar(stmt)

    def user(self, user_id: int) -> User | None:
        """A staff account by id."""
        return self.session.get(User, user_id)

    def user_by_name(self, username: str) -> User | None:
        """A staff account by login name."""
        return self.session.scalar(select(User).where(User.username == username))

    def device_by_token_hash(self, token_hash: str) -> Device | None:
        """An active device by the hash of its token."""
        return self.session.scalar(select(Device).where(Device.token_hash == token_hash, Device.active.is_(True)))

    def hall_ref(self, hall_id: int) -> HallRef | None:
        """An immutable snapshot of the hall's settings, queues, active items and window skills."""
        hall = self.session.get(Hall, hall_id)
        if hall is None:
            return None
        queues = {
            q.code: QueueRef(
                id=q.id, code=q.code, prefix=q.prefix, name=q.name, kind=q.kind, service_minutes=q.service_minutes
            )
            for q in self.queues(hall_id).values()
        }
        items = {
            i.code: ItemRef(
                id=i.id,
                code=i.code,
                name=i.name,
                category=i.category,
                department=i.department,
                handling_class=i.handling_class,
                time_limit_days=i.time_limit_days,
                service_minutes=i.service_minutes,
                online=i.online,
                materials=tuple(i.materials or ()),
                queue_code=i.queue_code,
                review_chain=i.review_chain,
                daily_quota=i.daily_quota,
                keywords=tuple(i.keywords or ()),
            )
            for i in self.items(hall_id)
        }
        rows = self.session.execute(
            select(Window.number, Window.queues, Window.name).where(Window.hall_id == hall_id)
        ).all()
        return HallRef(
            id=hall.id,
            code=hall.code,
            name=hall.name,
            timezone=hall.timezone,
            settings=dict(hall.settings or {}),
            queues=queues,
            items=items,
            window_queues={n: tuple(q or ()) for n, q, _ in rows},
            window_names={n: name for n, _, name in rows},
        )

    def open_windows_serving(self, hall_id: int, queue_code: str, *, staffed_only: bool = True) -> tuple[int, int]:
        """Open windows serving a queue, and how many of them have no citizen at them (never cached).

        ``staffed_only``: count only windows a clerk is signed in at (an open window nobody works at serves no one).
        """
        rows = self._connection().execute(_OPEN_WINDOWS, {"h": hall_id}).all()
        serving = [
            current
            for queues, current, clerk, seen in rows
            if queue_code in (queues or ()) and (not staffed_only or (clerk is not None and seen is not None))
        ]
        return len(serving), sum(1 for current in serving if current is None)

    def insert_ticket(self, **values: Any) -> int:
        """Insert a ticket row with one statement and return its id (the issuing hot path skips the ORM)."""
        return int(self._connection().execute(_INSERT_TICKET, {"version": 1, **values}).scalar_one())

    def insert_ticket_rows(self, ticket_id: int, *, items: list[dict], periods: list[dict]) -> None:
        """Insert a new ticket's 办件 and period rows."""
        conn = self._connection()
        item_rows = [{"ticket_id": ticket_id, "status": "pending", **i} for i in items]
        period_rows = [{"ticket_id": ticket_id, **p} for p in periods]
        if self._dialect == "postgresql" and item_rows and period_rows:
            # One statement, one round trip instead of two: the issuing transaction holds the queue's number
            # counter row until it commits, so every round trip in it is paid by every issuer of the queue.
            items_cte = insert(TicketItem.__table__).values(item_rows).cte("new_items")
            conn.execute(insert(Period.__table__).values(period_rows).add_cte(items_cte))
            return
        conn.execute(_INSERT_ITEM, item_rows)
        conn.execute(_INSERT_PERIOD, period_rows)

    def serialise(self, *keys: str) -> None:
        """Hold transaction-scoped locks on these names until commit (check-then-insert rules on PostgreSQL).

        SQLite writers are already serialised (``BEGIN IMMEDIATE``). On PostgreSQL two READ COMMITTED
        transactions could both count "4 of 5" and both insert; ``pg_advisory_xact_lock`` makes the second
        wait until the first commits, and its next statement then sees the first one's row. Keys are taken in
        sorted order so two transactions can never wait on each other in a cycle.
        """
        if self._dialect != "postgresql":
            return
        conn = self._connection()
        for key in sorted(set(keys)):
            conn.execute(_ADVISORY_LOCK, {"k": _lock_id(key)})

    # --- numbering ----------------------------------------------------------------------------
    def next_number(self, hall_id: int, queue_id: int, day: date) -> int:
        """Increment and return the day's counter for the queue, inside the current transaction."""
        stmt = _NEXT_NUMBER[self._dialect if self._dialect == "postgresql" else "sqlite"]
        return int(self._connection().execute(stmt, {"h": hall_id, "q": queue_id, "d": day}).scalar_one())

    # --- tickets ------------------------------------------------------------------------------
    def add(self, obj: Any) -> None:
        """Stage a new row."""
        self.session.add(obj)

    def flush(self) -> None:
        """Send pending writes (to get ids) without committing."""
        self.session.flush()

    def ticket(self, ticket_id: int, *, lock: bool = False) -> Ticket | None:
        """A ticket by id, optionally row-locked."""
        stmt = select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.items))
        if lock:
            stmt = stmt.with_for_update(of=Ticket)
        return self.session.scalar(stmt)

    def rated_ticket_items(self, ticket_id: int) -> set[int]:
        """Ids of the ticket's 办件 that have a rating (the phone page says 已评价 instead of asking again)."""
        return set(self.session.scalars(select(Rating.ticket_item_id).where(Rating.ticket_id == ticket_id)))

    def ticket_by_token(self, token: str) -> Ticket | None:
        """A ticket by its secret tracking token."""
        return self.session.scalar(select(Ticket).where(Ticket.track_token == token))

    def ticket_by_number(self, hall_id: int, day: date, number: str) -> Ticket | None:
        """Today's ticket with this displayed number."""
        return self.session.scalar(
            select(Ticket).where(Ticket.hall_id == hall_id, Ticket.day == day, Ticket.number == number)
        )

    def heads(self, hall_id: int, queue_codes: Sequence[str], window_number: int) -> list[Ticket]:
        """The first waiting ticket of each queue the window serves, plus the first one sent to it.

        On PostgreSQL the rows are locked with SKIP LOCKED so racing windows pass over each other's
        candidates instead of waiting or colliding.
        """
        heads: list[Ticket] = []
        if self._dialect != "postgresql":
            # SQLite serialises writers: find every head's id in one compound query, then load those rows once.
            ids = [
                row[0]
                for row in self._connection().execute(
                    _heads_ids(len(queue_codes)), _heads_params(hall_id, queue_codes, window_number)
                )
            ]
            if not ids:
                return heads
            rows = {t.id: t for t in self.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
            return [rows[i] for i in ids if i in rows]
        base = select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        targeted = base.where(Ticket.target_window == window_number).order_by(Ticket.sort_key, Ticket.id).limit(1)
        per_queue = [
            base.where(Ticket.queue_code == code, Ticket.target_window.is_(None))
            .order_by(Ticket.sort_key, Ticket.id)
            .limit(1)
            for code in queue_codes
        ]
        for stmt in [targeted, *per_queue]:
            row = self.session.scalar(stmt.with_for_update(skip_locked=True, of=Ticket))
            if row is not None:
                heads.append(row)
        return heads

    def recent_call_priorities(self, window_id: int, limit: int) -> list[bool]:
        """For the window's last ``limit`` calls (newest first): was the ticket called from the priority line?"""
        rows = self.session.execute(
            select(Queue.kind)
            .select_from(Period)
            .join(Ticket, Ticket.id == Period.ticket_id)
            .join(Queue, Queue.id == Ticket.queue_id)
            .where(
                Period.window_id == window_id,
                Period.state == "called",
                or_(Period.end_action.is_(None), Period.end_action != "recall"),
            )
            .order_by(Period.id.desc())
            .limit(limit)
        ).scalars()
        return [kind == "priority" for kind in rows]

    def sort_key_at(self, hall_id: int, queue_code: str, places: int, exclude_id: int | None = None) -> float | None:
        """The sort key of the waiting ticket ``places`` positions from the head (0 = head), if any."""
        stmt = (
            select(Ticket.sort_key)
            .where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value, Ticket.queue_code == queue_code)
            .order_by(Ticket.sort_key, Ticket.id)
            .offset(places)
            .limit(2)
        )
        if exclude_id is not None:
            stmt = stmt.where(Ticket.id != exclude_id)
        rows = self.session.scalars(stmt).all()
        return rows[0] if rows else None

    def next_sort_key_after(self, hall_id: int, queue_code: str, key: float) -> float | None:
        """The smallest waiting sort key strictly greater than ``key`` in the queue."""
        return self.session.scalar(
            select(func.min(Ticket.sort_key)).where(
                Ticket.hall_id == hall_id,
                Ticket.status == State.WAITING.value,
                Ticket.queue_code == queue_code,
                Ticket.sort_key > key,
            )
        )

    def min_waiting_key(self, hall_id: int) -> float | None:
        """The smallest sort key of any waiting ticket in the hall (placing "first" goes before it)."""
        return self.session.scalar(
            select(func.min(Ticket.sort_key)).where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        )

    def max_waiting_key(self, hall_id: int) -> float | None:
        """The largest sort key of any waiting ticket in the hall (placing "last" goes after it)."""
        return self.session.scalar(
            select(func.max(Ticket.sort_key)).where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        )

    def count_ahead(self, hall_id: int, queue_codes: Sequence[str], sort_key: float, ticket_id: int | None) -> int:
        """Waiting tickets in these queues that will be called before the given one (ties by id)."""
        params = {"h": hall_id, "qs": list(queue_codes), "k": sort_key}
        if ticket_id is None:  # a ticket being issued: behind everyone with the same or a smaller key
            return int(self._connection().execute(_COUNT_AHEAD_NEW, params).scalar() or 0)
        return int(self._connection().execute(_COUNT_AHEAD, {**params, "id": ticket_id}).scalar() or 0)

    def waiting_counts(self, hall_id: int) -> dict[str, int]:
        """Waiting tickets per queue code."""
        return {code: n for code, (n, _) in self.waiting_summary(hall_id).items()}

    def waiting_summary(self, hall_id: int) -> dict[str, tuple[int, datetime | None]]:
        """Per queue code: how many wait and since when the longest-waiting one waits (one index-only scan)."""
        rows = self._connection().execute(_WAITING_SUMMARY, {"h": hall_id})
        return {code: (int(n), when) for code, n, when in rows}

    def parked_count(self, hall_id: int) -> int:
        """How many tickets of the hall are parked (容缺)."""
        return int(self._connection().execute(_PARKED_COUNT, {"h": hall_id}).scalar() or 0)

    def tickets_with_history(self, ids: Sequence[int]) -> dict[int, Ticket]:
        """Tickets by id with their items and periods loaded in three queries (not three per ticket)."""
        if not ids:
            return {}
        stmt = select(Ticket).where(Ticket.id.in_(list(ids)))
        rows = self.session.scalars(stmt.options(selectinload(Ticket.items), selectinload(Ticket.periods)))
        return {t.id: t for t in rows}

    def completed_today(self, hall_id: int, day: date, window_number: int, clerk_id: int | None) -> tuple[int, int]:
        """Tickets completed (办结) on ``day`` at the window, and by the clerk (at any window)."""
        base = select(func.count(Ticket.id)).where(
            Ticket.hall_id == hall_id, Ticket.day == day, Ticket.status == State.COMPLETED.value
        )
        at_window = int(self.session.scalar(base.where(Ticket.window_number == window_number)) or 0)
        by_clerk = int(self.session.scalar(base.where(Ticket.clerk_id == clerk_id)) or 0) if clerk_id else 0
        return at_window, by_clerk

    def count_waiting_for(self, hall_id: int, queue_codes: Sequence[str], window_number: int) -> int:
        """How many waiting tickets are in the window's queues or were sent to it."""
        return int(
            self.session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.hall_id == hall_id,
                    Ticket.status == State.WAITING.value,
                    or_(
                        and_(Ticket.queue_code.in_(list(queue_codes)), Ticket.target_window.is_(None)),
                        Ticket.target_window == window_number,
                    ),
                )
            )
            or 0
        )

    def parked(self, hall_id: int) -> Sequence[Ticket]:
        """Parked (容缺) tickets of the hall."""
        return self.session.scalars(
            select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status == State.PARKED.value).order_by(Ticket.id)
        ).all()

    def waiting_list(
        self, hall_id: int, queue_codes: Sequence[str], window_number: int, limit: int = 50
    ) -> Sequence[Ticket]:
        """Waiting tickets a window could call, in queue order."""
        return self.session.scalars(
            select(Ticket)
            .where(
                Ticket.hall_id == hall_id,
                Ticket.status == State.WAITING.value,
                or_(
                    and_(Ticket.queue_code.in_(list(queue_codes)), Ticket.target_window.is_(None)),
                    Ticket.target_window == window_number,
                ),
            )
            .order_by(Ticket.sort_key, Ticket.id)
            .limit(limit)
        ).all()

    def open_tickets(self, hall_id: int, day: date | None = None) -> Sequence[Ticket]:
        """Tickets still open (waiting, called, serving, parked), optionally of one day or earlier."""
        stmt = select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status.in_([s.value for s in OPEN_STATES]))
        if day is not None:
            stmt = stmt.where(Ticket.day <= day)
        return self.session.scalars(stmt.order_by(Ticket.id)).all()

    def item_tickets_today(self, hall_id: int, day: date, item_id: int) -> int:
        """Tickets of the day (not cancelled) that carry an item, for 限号 quotas."""
        return int(
            self._connection().scalar(
                select(func.count(TicketItem.id))
                .join(Ticket, Ticket.id == TicketItem.ticket_id)
                .where(
                    Ticket.hall_id == hall_id,
                    Ticket.day == day,
                    TicketItem.item_id == item_id,
                    Ticket.status != State.CANCELLED.value,
                )
            )
            or 0
        )

    def tickets_issued_today(self, hall_id: int, day: date, id_hash: str | None = None) -> int:
        """How many tickets were issued today (for one ID if given)."""
        stmt = select(func.count(Ticket.id)).where(Ticket.hall_id == hall_id, Ticket.day == day)
        if id_hash is not None:
            stmt = stmt.where(Ticket.id_hash == id_hash)
        return int(self._connection().scalar(stmt) or 0)

    def period_rows(self, hall_id: int, day: date | None = None) -> tuple[list[PeriodRow], list[dict[str, Any]]]:
        """Period history and basic ticket facts of a hall (optionally one day), for hall.stats."""
        tickets_q = select(
            Ticket.id, Ticket.priority, Ticket.issued_at, Ticket.eta_low, Ticket.eta_high, Ticket.queue_code
        ).where(Ticket.hall_id == hall_id)
        if day is not None:
            tickets_q = tickets_q.where(Ticket.day == day)
        tickets = [row._asdict() for row in self.session.execute(tickets_q)]
        ids = [t["id"] for t in tickets]
        rows: list[PeriodRow] = []
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for p in self.session.execute(
                select(
                    Period.ticket_id,
                    Period.state,
                    Period.started_at,
                    Period.ended_at,
                    Period.end_action,
                    Period.window_number,
                    Period.clerk_id,
                ).where(Period.ticket_id.in_(part))
            ):
                rows.append(PeriodRow(*p))
        return rows, tickets

    def period_factory(self) -> Any:
        """The constructor the lifecycle uses for history rows."""
        return Period

    def ticket_item_factory(self) -> Any:
        """The constructor for 办件 rows."""
        return TicketItem

    # --- windows ------------------------------------------------------------------------------
    def open_window_period(self, window: Window, state: str, at: datetime) -> None:
        """Close the window's open period and start one in ``state``."""
        self.session.execute(
            update(WindowPeriod)
            .where(WindowPeriod.window_id == window.id, WindowPeriod.ended_at.is_(None))
            .values(ended_at=at)
        )
        self.session.add(
            WindowPeriod(
                hall_id=window.hall_id, window_id=window.id, state=state, clerk_id=window.clerk_id, started_at=at
            )
        )

    # --- audit --------------------------------------------------------------------------------
    def audit(self, **values: Any) -> None:
        """Append one audit row to its hall's hash chain (rows are never updated or deleted)."""
        audit.append(self._connection(), values)


@functools.cache
def _heads_ids(queues: int) -> Any:
    """The ids of the first waiting ticket sent to a window and of the first one of each of ``queues`` queues."""
    waiting = (_T.c.hall_id == bindparam("h"), _T.c.status == State.WAITING.value)
    order = (_T.c.sort_key, _T.c.id)
    arms = [select(_T.c.id).where(*waiting, _T.c.target_window == bindparam("w")).order_by(*order).limit(1)]
    arms += [
        select(_T.c.id)
        .where(*waiting, _T.c.queue_code == bindparam(f"q{n}"), _T.c.target_window.is_(None))
        .order_by(*order)
        .limit(1)
        for n in range(queues)
    ]
    return union_all(*(arm.subquery().select() for arm in arms))


def _heads_params(hall_id: int, queue_codes: Sequence[str], window_number: int) -> dict[str, Any]:
    return {"h": hall_id, "w": window_number, **{f"q{n}": code for n, code in enumerate(queue_codes)}}


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for a name (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def _next_number_stmt(dialect_insert: Any) -> Any:
    nc = NumberCounter.__table__
    stmt = dialect_insert(nc).values(hall_id=bindparam("h"), queue_id=bindparam("q"), day=bindparam("d"), last_no=1)
    return stmt.on_conflict_do_update(
        index_elements=[nc.c.hall_id, nc.c.queue_id, nc.c.day], set_={"last_no": nc.c.last_no + 1}
    ).returning(nc.c.last_no)


# Statements built once: building them per call costs more than running them on SQLite.
_NEXT_NUMBER = {"sqlite": _next_number_stmt(sqlite.insert), "postgresql": _next_number_stmt(postgresql.insert)}
_INSERT_TICKET = insert(Ticket.__table__).returning(Ticket.__table__.c.id)
_INSERT_ITEM = insert(TicketItem.__table__)
_INSERT_PERIOD = insert(Period.__table__)
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_T = Ticket.__table__
_W = Window.__table__
_OPEN_WINDOWS = select(_W.c.queues, _W.c.current_ticket_id, _W.c.clerk_id, _W.c.seen_at).where(
    _W.c.hall_id == bindparam("h"), _W.c.state == "open"
)
_WAITING_IN = and_(
    _T.c.hall_id == bindparam("h"),
    _T.c.status == State.WAITING.value,
    _T.c.queue_code.in_(bindparam("qs", expanding=True)),
)
_WAITING_SUMMARY = (
    select(_T.c.queue_code, func.count(), func.min(_T.c.queue_entered_at))
    .where(_T.c.hall_id == bindparam("h"), _T.c.status == State.WAITING.value)
    .group_by(_T.c.queue_code)
)
_PARKED_COUNT = (
    select(func.count()).select_from(_T).where(_T.c.hall_id == bindparam("h"), _T.c.status == State.PARKED.value)
)
_COUNT_AHEAD_NEW = select(func.count()).select_from(_T).where(_WAITING_IN, _T.c.sort_key <= bindparam("k"))
_COUNT_AHEAD = (
    select(func.count())
    .select_from(_T)
    .where(
        _WAITING_IN,
        or_(_T.c.sort_key < bindparam("k"), and_(_T.c.sort_key == bindparam("k"), _T.c.id < bindparam("id"))),
    )
)
