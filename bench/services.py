"""Throwaway PostgreSQL and Redis servers on 127.0.0.1 for tests and benchmarks (started and stopped by us).

PostgreSQL refuses to run as root, so when we are root the data directory belongs to the ``postgres`` system
user and ``initdb``/``pg_ctl`` run through ``runuser -u postgres`` (see ../shared/stack.md). The directory is a
fresh ``mkdtemp`` under /tmp (pytest's own temp tree is root-only, the postgres user could not enter it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.server import free_port

# A web-only server process of the production topology: no scheduler, no background pollers, no serial lines
# (exactly one other process runs those, see docs/deployment.md). Tests also want no job firing at the real
# opening or closing time in the middle of a run.
WEB_ONLY_ENV = {
    "HALL_SCHEDULER": "0",
    "HALL_DEVICE_POLL_SECONDS": "0",
    "HALL_TIDAL_TICK_SECONDS": "0",
    "HALL_WATCH_SECONDS": "0",
    "HALL_SERIAL_DEVICES": "0",
}


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL bin directory with initdb and pg_ctl, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_available() -> bool:
    """initdb and pg_ctl are installed, and (as root) there is a postgres user to run them."""
    if postgres_bin() is None:
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
        return shutil.which("runuser") is not None
    return True


def redis_available() -> bool:
    """redis-server is installed."""
    return shutil.which("redis-server") is not None


class Postgres:
    """A private PostgreSQL cluster on a free loopback port; ``url`` is the SQLAlchemy URL of database ``hall``.

    ``fsync=False`` is for tests only (faster, not crash-safe); benchmarks keep the production default.
    ``stat_statements=True`` loads pg_stat_statements (benchmarks count statements and lock waits per ticket).
    """

    def __init__(self, *, fsync: bool = True, max_connections: int = 200, stat_statements: bool = False) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed")
        self.bin = bindir
        self.port = free_port()
        self.fsync = fsync
        self.max_connections = max_connections
        self.stat_statements = stat_statements
        self.dir = Path(tempfile.mkdtemp(prefix="hall-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/hall"
        self._as_postgres = os.geteuid() == 0

    # --- lifetime -------------------------------------------------------------------------------
    def __enter__(self) -> Postgres:
        try:
            self.init()
            self.start()
            self.create_database("hall")
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)

    def init(self) -> None:
        """initdb with trust auth for user postgres (loopback only, throwaway)."""
        if self._as_postgres:
            os.chmod(self.dir, 0o755)  # noqa: S103 - the postgres user must enter it; the data dir stays 0700
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def _options(self) -> str:
        opts = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-c unix_socket_directories={self.dir}",
            f"-c max_connections={self.max_connections}",
            "-c shared_buffers=128MB",
        ]
        if not self.fsync:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self.stat_statements:
            opts += ["-c shared_preload_libraries=pg_stat_statements", "-c pg_stat_statements.track=top"]
        return " ".join(opts)

    def start(self, timeout: float = 60) -> None:
        """pg_ctl start and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.dir / "log"), "-w", "start")
        self.wait_ready(timeout)

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop (``fast`` ends sessions and rolls back; ``immediate`` is a crash)."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers --------------------------------------------------------------------------------
    def connect(self, dbname: str = "hall"):  # noqa: ANN201 - psycopg connection
        """A psycopg connection in autocommit mode."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def wait_ready(self, timeout: float = 30) -> None:
        """Until a connection to the ``postgres`` database succeeds."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect("postgres"):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> None:
        """CREATE DATABASE (UTF-8, from template0)."""
        with self.connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server log (for failure messages)."""
        path = self.dir / "log"
        try:
            return path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Redis:
    """A private redis-server on a free loopback port (no persistence); ``url`` is its redis:// URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="hall-redis-"))
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Redis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, timeout: float = 10) -> None:
        """Start redis-server and wait for PONG."""
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Terminate redis-server (its port is then refused until start())."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
