"""Start the real hall server (python app.py) in a subprocess on a free loopback port, for benchmarks and e2e."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running ``python app.py`` with its own instance directory; use as a context manager."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        instance: Path | None = None,
        *,
        gunicorn: bool = False,
        threads: int = 32,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = None if instance else tempfile.TemporaryDirectory(prefix="hall-bench-")
        self.instance = instance or Path(self._tmp.name)
        self.instance.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "HALL_INSTANCE": str(self.instance),
            "PYTHONUNBUFFERED": "1",
            "HALL_SECRET_KEY": "bench-secret",
            "HALL_OPEN_ALL_HOURS": "1",  # benchmarks and e2e tests run at any hour
            "HALL_RATELIMIT": "0",  # load generators issue far more than a kiosk could
            **(env or {}),
        }
        self.env.setdefault("HALL_DATABASE_URL", f"sqlite:///{self.instance / 'hall.db'}")
        self.proc: subprocess.Popen | None = None
        self.gunicorn = gunicorn
        self.threads = threads
        self.log = self.instance / "server.log"

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        """Launch and wait until the API answers."""
        if self.gunicorn:
            # The documented Linux production server: one gthread worker, many threads (Flask-SocketIO threading).
            cmd = [
                str(Path(sys.executable).parent / "gunicorn"),
                "-w",
                "1",
                "--threads",
                str(self.threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "app:create_app()",
            ]
        else:
            cmd = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(self.port)]
        if getattr(self, "_log_fh", None) is not None:
            self._log_fh.close()  # a restart after a crash (fault tests) appends to the same log
        self._log_fh = self.log.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log_fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                # close the log here: __exit__ never runs when __enter__ fails, and the open file would leak
                self._log_fh.close()
                self._log_fh = None
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/items", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        """Terminate the server process."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log_fh", None) is not None:
            self._log_fh.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def rss_mb(self) -> float:
        """Resident memory of the server process and its children (gunicorn workers) in MiB."""
        assert self.proc is not None
        total = 0.0
        pids = [self.proc.pid]
        while pids:
            pid = pids.pop()
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        return total


def staff_session(url: str, username: str, password: str = "demo") -> requests.Session:  # noqa: S107 - demo
    """A requests session logged in as a staff member, sending the CSRF token the login returned."""
    s = requests.Session()
    r = s.post(f"{url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)
    r.raise_for_status()
    s.headers["X-CSRFToken"] = r.json()["csrf_token"]
    return s
