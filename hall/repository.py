"""Queries and writes for the engine; the only place that speaks SQL (besides migrations)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from hall.lifecycle import OPEN_STATES, State
from hall.models import (
    AuditEntry,
    Device,
    Hall,
    Item,
    NumberCounter,
    Period,
    Queue,
    Ticket,
    TicketItem,
    User,
    Window,
    WindowPeriod,
)


class Repository:
    """Wraps one session (one unit of work)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._dialect = session.get_bind().dialect.name

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

    # --- numbering ----------------------------------------------------------------------------
    def next_number(self, hall_id: int, queue_id: int, day: date) -> int:
        """Increment and return the day's counter for the queue, inside the current transaction."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(NumberCounter).values(hall_id=hall_id, queue_id=queue_id, day=day, last_no=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[NumberCounter.hall_id, NumberCounter.queue_id, NumberCounter.day],
            set_={"last_no": NumberCounter.last_no + 1},
        ).returning(NumberCounter.last_no)
        return int(self.session.execute(stmt).scalar_one())

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
        base = select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        targeted = base.where(Ticket.target_window == window_number).order_by(Ticket.sort_key).limit(1)
        per_queue = [
            base.where(Ticket.queue_code == code, Ticket.target_window.is_(None)).order_by(Ticket.sort_key).limit(1)
            for code in queue_codes
        ]
        for stmt in [targeted, *per_queue]:
            if self._dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=Ticket)
            row = self.session.scalar(stmt)
            if row is not None:
                heads.append(row)
        return heads

    def sort_key_at(self, hall_id: int, queue_code: str, places: int, exclude_id: int | None = None) -> float | None:
        """The sort key of the waiting ticket ``places`` positions from the head (0 = head), if any."""
        stmt = (
            select(Ticket.sort_key)
            .where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value, Ticket.queue_code == queue_code)
            .order_by(Ticket.sort_key)
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

    def min_sort_key(
        self, hall_id: int, queue_code: str | None = None, target_window: int | None = None
    ) -> float | None:
        """The head's sort key of a queue (or of the tickets sent to a window)."""
        stmt = select(func.min(Ticket.sort_key)).where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        if target_window is not None:
            stmt = stmt.where(Ticket.target_window == target_window)
        else:
            stmt = stmt.where(Ticket.queue_code == queue_code, Ticket.target_window.is_(None))
        return self.session.scalar(stmt)

    def count_ahead(self, hall_id: int, queue_codes: Sequence[str], sort_key: float) -> int:
        """Waiting tickets in these queues that will be called before ``sort_key``."""
        return int(
            self.session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.hall_id == hall_id,
                    Ticket.status == State.WAITING.value,
                    Ticket.queue_code.in_(list(queue_codes)),
                    Ticket.sort_key < sort_key,
                )
            )
            or 0
        )

    def waiting_counts(self, hall_id: int) -> dict[str, int]:
        """Waiting tickets per queue code."""
        rows = self.session.execute(
            select(Ticket.queue_code, func.count(Ticket.id))
            .where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
            .group_by(Ticket.queue_code)
        )
        return {code: int(n) for code, n in rows}

    def oldest_waiting(self, hall_id: int) -> dict[str, datetime]:
        """Queue entry time of the longest-waiting ticket per queue."""
        rows = self.session.execute(
            select(Ticket.queue_code, func.min(Ticket.queue_entered_at))
            .where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
            .group_by(Ticket.queue_code)
        )
        return {code: when for code, when in rows if when is not None}

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
            .order_by(Ticket.sort_key)
            .limit(limit)
        ).all()

    def open_tickets(self, hall_id: int, day: date | None = None) -> Sequence[Ticket]:
        """Tickets still open (waiting, called, serving, parked), optionally of one day or earlier."""
        stmt = select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status.in_([s.value for s in OPEN_STATES]))
        if day is not None:
            stmt = stmt.where(Ticket.day <= day)
        return self.session.scalars(stmt.order_by(Ticket.id)).all()

    def tickets_issued_today(self, hall_id: int, day: date, id_hash: str | None = None) -> int:
        """How many tickets were issued today (for one ID if given)."""
        stmt = select(func.count(Ticket.id)).where(Ticket.hall_id == hall_id, Ticket.day == day)
        if id_hash is not None:
            stmt = stmt.where(Ticket.id_hash == id_hash)
        return int(self.session.scalar(stmt) or 0)

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
    def audit(self, entry: AuditEntry) -> None:
        """Append one audit row."""
        self.session.add(entry)
