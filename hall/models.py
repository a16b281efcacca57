"""SQLAlchemy tables. Every row belongs to a hall so one database can serve a whole city."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored naive UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes (a bug) and normalise to naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC again."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base for all hall tables."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Hall(Base):
    """A service hall or village service point."""

    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), default="county")
    parent_code: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Queue(Base):
    """A line of tickets with its own number prefix (A001, L001, …)."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("hall_id", "code"), UniqueConstraint("hall_id", "prefix"))
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="normal")  # normal | priority | joint | long
    service_minutes: Mapped[float] = mapped_column(Float, default=6.0)


class Item(Base):
    """A service item (事项) of the catalogue."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(20), default="医保")
    handling_class: Mapped[str] = mapped_column(String(40))
    time_limit_days: Mapped[int] = mapped_column(Integer, default=0)  # 限时办结, working days (0 = at once)
    service_minutes: Mapped[float] = mapped_column(Float, default=6.0)  # typical time at the window
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    materials: Mapped[list[Any]] = mapped_column(default=list)
    # Words citizens use for the item (医保卡, 社保卡…): the kiosk's search matches them like the name.
    keywords: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    queue_code: Mapped[str] = mapped_column(String(20))
    review_chain: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_quota: Mapped[int | None] = mapped_column(Integer)  # 限号: tickets per day, None = unlimited
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A staff account (clerk, leader, manager, admin)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    staff_no: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    window_number: Mapped[int | None] = mapped_column(Integer)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Login sessions carry the generation they began in; logout, a password reset and deactivation bump it,
    # which ends every session (and staff socket) of the account, on every server process.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Window(Base):
    """A counter window as citizens see it (number, name) and what it can serve."""

    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # comprehensive | tidal | green | joint | dedicated
    queues: Mapped[list[Any]] = mapped_column(default=list)  # queue codes, in the window's order
    state: Mapped[str] = mapped_column(String(10), default="closed")  # open | paused | closed
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    current_ticket_id: Mapped[int | None] = mapped_column(Integer)
    state_since: Mapped[datetime | None]
    # Presence: the clerk signed in at the window (clerk_id) last showed a sign of life at seen_at; None = nobody
    # is signed in, and the window does not count as open (docs/routing.md §7).
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(20))  # meal | meeting | away, while paused
    clerk: Mapped[User | None] = relationship(lazy="joined")

    @property
    def staffed(self) -> bool:
        """A clerk is signed in at the window now."""
        return self.clerk_id is not None and self.seen_at is not None


class WindowPeriod(Base):
    """History of window states (staff-hours, breaks, tidal openings)."""

    __tablename__ = "window_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Device(Base):
    """A registered kiosk, display, printer or serial device, authenticated by a token."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("hall_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(128), index=True)
    window_number: Mapped[int | None] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Last health check (printers, serial devices): ok, near_end, paper_out, offline, error; None = never checked.
    status: Mapped[str | None] = mapped_column(String(20))
    status_at: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]


class NumberCounter(Base):
    """The last number given out per hall, queue and day (updated in the issuing transaction)."""

    __tablename__ = "number_counters"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """A number taken by a citizen, with one or more items (办件)."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("hall_id", "queue_id", "day", "seq"),
        Index("ix_tickets_queue_waiting", "hall_id", "status", "queue_code", "sort_key"),
        # Longest wait per queue (displays, dashboard, alerts) read from the index alone, without table rows.
        Index("ix_tickets_waiting_since", "hall_id", "status", "queue_code", "queue_entered_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    queue_code: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(20))
    joint: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), default="kiosk")
    id_masked: Mapped[str | None] = mapped_column(String(32))
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime]
    queue_entered_at: Mapped[datetime]
    sort_key: Mapped[float] = mapped_column(Float)
    called_at: Mapped[datetime | None]
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    window_number: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    target_window: Mapped[int | None] = mapped_column(Integer)  # transferred to a given window
    first_window: Mapped[int | None] = mapped_column(Integer)  # 首问负责
    first_clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    missing_materials: Mapped[list[Any]] = mapped_column(default=list)
    parked_until: Mapped[datetime | None]
    track_token: Mapped[str] = mapped_column(String(64), unique=True)
    eta_low: Mapped[float | None] = mapped_column(Float)
    eta_high: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    prints: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The kiosk that issued the ticket: only it may print the slip (and so learn the tracking secret).
    issuer: Mapped[str | None] = mapped_column(String(64))
    # Who checked a green-channel claim at the window (待核验 → 已核验); None = not checked by a person.
    priority_checked_by: Mapped[str | None] = mapped_column(String(64))

    items: Mapped[list[TicketItem]] = relationship(
        back_populates="ticket", order_by="TicketItem.position", cascade="all, delete-orphan"
    )
    periods: Mapped[list[Period]] = relationship(order_by="Period.id", cascade="all, delete-orphan")

    # Optimistic lock: a second writer working from a stale row fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}


class TicketItem(Base):
    """办件: one item of one ticket (rated and counted separately)."""

    __tablename__ = "ticket_items"
    __table_args__ = (UniqueConstraint("ticket_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done | transferred
    completed_at: Mapped[datetime | None]
    window_number: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticket: Mapped[Ticket] = relationship(back_populates="items")
    item: Mapped[Item] = relationship(lazy="joined")


class Period(Base):
    """History row: a ticket was in a state from started_at to ended_at (where, who)."""

    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_action: Mapped[str | None] = mapped_column(String(20))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    window_number: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Booking(Base):
    """预约办: a citizen's slot for one item; checked in at the kiosk or the guide desk for a ticket."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("hall_id", "day", "code"),
        Index("ix_bookings_slot", "hall_id", "slot_start"),
        Index("ix_bookings_person", "hall_id", "day", "id_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(20), default="booked")  # booked|cancelled|checked_in|late|no_show
    id_hash: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20), default="online")
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class Rating(Base):
    """好差评: one rating per 办件 (ticket × item), five levels plus the four on-site indicators."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("ticket_item_id"), Index("ix_ratings_hall_time", "hall_id", "rated_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    ticket_item_id: Mapped[int] = mapped_column(ForeignKey("ticket_items.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    window_number: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    indicators: Mapped[dict[str, Any]] = mapped_column(default=dict)  # overall, efficiency, level, attitude
    comment: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))  # window | pad | phone
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)  # the ticket carried an ID (实名)
    rated_at: Mapped[datetime]


class FollowUpCase(Base):
    """差评整改: a bad rating's case, owned by the clerk who did the work and their duty leader."""

    __tablename__ = "followup_cases"
    __table_args__ = (UniqueConstraint("rating_id"), Index("ix_cases_open", "hall_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # open → contacted → rectified | explained → closed; appealed → appeal_upheld | closed
    status: Mapped[str] = mapped_column(String(20), default="open")
    deadline: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    records: Mapped[list[Any]] = mapped_column(default=list)  # 回访 and decisions: {at, by, kind, how, text}


class ReviewCase(Base):
    """审核链 for special items: accepted at the window → risk control (风控) → duty leader → the window closes it."""

    __tablename__ = "review_cases"
    __table_args__ = (UniqueConstraint("ticket_item_id"), Index("ix_reviews_open", "hall_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    ticket_item_id: Mapped[int] = mapped_column(ForeignKey("ticket_items.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    window_number: Mapped[int | None] = mapped_column(Integer)
    # submitted → checked (风控通过) → approved (领导审批) → closed (窗口办结); rejected at either step
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    steps: Mapped[list[Any]] = mapped_column(default=list)  # {at, by, role, step, ok, note}


class Alert(Base):
    """Something the duty leader or manager must look at (printer out of paper, device offline, …).

    One open row per (hall, source, kind); it closes (cleared_at) when the condition goes away.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "hall_id", "cleared_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    source: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(10), default="warning")
    message: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only record of every state change and admin change (内控: 事后可追溯)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    window_number: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client: Mapped[str | None] = mapped_column(String(64))
    # Hash chain (hall.audit): this row's SHA-256 over the previous row's hash and its own content.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The last row of each audit chain (one per hall; 0 = rows without a hall), locked while appending."""

    __tablename__ = "audit_heads"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class DutyAssignment(Base):
    """值班安排 (seed 001): who is the day's duty leader, duty clerk or guide-desk staff (咨询引导).

    One row per (hall, day, duty, position); guides may be several a day (position 0, 1, …). ``name`` keeps
    the person's display name as shown on the hall display; ``user_id`` links an account when there is one.
    """

    __tablename__ = "duty_roster"
    __table_args__ = (UniqueConstraint("hall_id", "day", "duty", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    day: Mapped[date] = mapped_column(Date)
    duty: Mapped[str] = mapped_column(String(10))  # leader | clerk | guide
    position: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))  # "rota" when filled from the hall config


class DayReport(Base):
    """The day's report, computed and stored by the closing job (waits, outcomes, resets, no-shows)."""

    __tablename__ = "day_reports"
    __table_args__ = (UniqueConstraint("hall_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobRun(Base):
    """Ledger of the daily jobs: at most one run per (hall, job, day), so no job acts twice on a day."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("hall_id", "job", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    job: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # running | done | failed
    runs: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
