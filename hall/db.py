"""Database engines and units of work (SQLAlchemy only, no Flask).

SQLite runs in WAL mode and opens write transactions with ``BEGIN IMMEDIATE`` so writers queue up
instead of failing with "database is locked"; reads use a second engine with deferred transactions so
they never wait for writers. PostgreSQL uses one engine and row locks.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hall.models import Base

try:  # POSIX: a blocking file lock shared by every server process on this SQLite file
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per hall PC, the in-process lock is enough
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SETUP_LOCK_ID = 0x68616C6C  # "hall": the advisory lock id held while a process migrates and seeds


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"isolation_level": None, "timeout": 30, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_timeout=60,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: str, *, pool_size: int) -> Engine:
    """PostgreSQL (psycopg 3): a pool whose checkout tests a pooled connection without a round trip.

    ``pool_pre_ping`` sends an empty query to the server before every unit of work: one more round trip per
    ticket, call or screen refresh, each a wake-up of a PostgreSQL backend (a transaction in its statistics) —
    under load, round trips are what a short transaction's time is made of. A pooled connection is idle, so the
    server has nothing to say on it: if its socket is readable (the server ended the session: a restart,
    ``pg_terminate_backend``, an idle timeout) or psycopg already knows it is closed or broken, the pool drops
    it and checks out another (SQLAlchemy retries a ``DisconnectionError`` raised at checkout with a fresh
    connection). A network path that silently died is not seen here; the statement then fails (503), SQLAlchemy
    invalidates the pool and the next request reconnects.
    """
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if _connection_gone(dbapi_conn):
            raise DisconnectionError("pooled PostgreSQL connection was closed by the server")

    return engine


def _connection_gone(dbapi_conn: Any) -> bool:
    """An idle psycopg connection that is closed, broken, or has something (an error, EOF) waiting on its socket."""
    if dbapi_conn.closed or dbapi_conn.broken:
        return True
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class Database:
    """Owns the engines and hands out sessions for one write or read unit of work."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
                raise ValueError("use a SQLite file, not :memory: (threads need one shared database)")
            self.write_engine = _sqlite_engine(url, immediate=True, pool_size=pool_size)
            self.read_engine = _sqlite_engine(url, immediate=False, pool_size=pool_size)
        else:
            self.write_engine = _postgres_engine(url, pool_size=pool_size)
            self.read_engine = self.write_engine
        # SQLite has one writer at a time. Queuing writers of this process on a lock is far cheaper than
        # letting them collide in SQLite's busy handler, which sleeps in growing steps (p99 in seconds).
        self._write_lock = threading.RLock() if self.is_sqlite else None
        # Several processes on one SQLite file (gunicorn processes of a busy hall PC) also queue on a file lock
        # next to the database: the kernel wakes the next writer the moment the lock is free.
        self._file_lock = _FileLock(url) if self.is_sqlite and fcntl is not None else None
        self._lanes: dict[str, threading.RLock] = {}
        self._lanes_lock = threading.Lock()
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        """SQLite: this process's writer lock, then the writers' file lock shared with other processes."""
        with self._write_lock or nullcontext(), self._file_lock or nullcontext():
            yield

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._serialised():
            session = self._writer()
            try:
                with session.begin():
                    yield session
            finally:
                session.close()

    @contextmanager
    def rehearsal(self) -> Iterator[Session]:
        """A write transaction that is always rolled back: work done in it leaves the database as it was."""
        with self._serialised(), self.write_engine.connect() as conn:
            trans = conn.begin()
            session = self._writer(bind=conn)  # the writers' session settings, on this one connection
            try:
                yield session
            finally:
                session.close()
                trans.rollback()

    @contextmanager
    def write_connection(self) -> Iterator[Any]:
        """A write transaction on a bare Core connection, for hot paths that need no ORM unit of work."""
        with self._serialised(), self.write_engine.begin() as conn:
            yield conn

    def lane(self, key: str) -> Any:
        """A process-local lock for writers that would queue on the same row anyway (PostgreSQL).

        Threads of one process that all want the same rows (a queue's number counter, the hall's audit head)
        would otherwise each hold a pooled connection and a database backend while waiting for the row lock:
        a burst of kiosk requests exhausts the pool that call-next and the displays need too, and the lock
        holder competes for the GIL with all of them. Waiting on this lock holds nothing. SQLite already
        serialises every writer of the process (``write``), so this is a no-op there.
        """
        if self.is_sqlite:
            return nullcontext()
        with self._lanes_lock:
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = threading.RLock()
        return lane

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        session = self._reader()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """Serialise start-up work (migrations, seeding) of server processes started at the same time.

        On PostgreSQL a session advisory lock on its own connection; on SQLite the writers' file lock.
        """
        if self.is_sqlite:
            with self._serialised():
                yield
            return
        with self.write_engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SETUP_LOCK_ID})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SETUP_LOCK_ID})
                conn.commit()

    def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision``."""
        from alembic import command

        with self.write_engine.connect() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()

    def create_all(self) -> None:
        """Create tables straight from the models (only for throwaway databases)."""
        Base.metadata.create_all(self.write_engine)

    def dispose(self) -> None:
        """Close every pooled connection (and the writer lock file)."""
        if self._file_lock is not None:
            self._file_lock.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


class _FileLock:
    """An exclusive ``flock`` on ``<database>-writer.lock``, taken by a thread already holding the process lock.

    Only one thread of a process asks for it at a time (the caller holds ``Database._write_lock``), so one
    descriptor per process is enough; re-entry by the same thread (nested ``write``) is counted.
    """

    def __init__(self, url: str) -> None:
        path = url.split(":///", 1)[1].split("?", 1)[0]
        self.path = f"{path}-writer.lock"
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0

    def __enter__(self) -> None:
        if self._pid != os.getpid():  # a forked child must not share its parent's lock description
            self._fd, self._pid, self._depth = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid(), 0
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Give the descriptor back (a disposed Database)."""
        if self._fd is not None and self._pid == os.getpid() and self._depth == 0:
            os.close(self._fd)
        self._fd, self._pid = None, 0


def alembic_config(url: str) -> Any:
    """An Alembic Config pointing at the project's migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
