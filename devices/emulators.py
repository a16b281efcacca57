"""Device emulators that speak the same bytes as the hardware, for tests and for demos on one PC.

PrinterEmulator is a network receipt printer (the TCP 9100 "raw" port): it keeps the bytes it is sent and
answers ``DLE EOT`` real-time status requests the way an Epson-compatible printer does.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

STATES = ("ok", "near_end", "out", "offline", "silent")


def status_reply(state: str, n: int) -> bytes | None:
    """The status byte a printer in ``state`` sends for ``DLE EOT n`` (None: it says nothing)."""
    if state == "silent":
        return None
    value = 0x12  # bits 1 and 4 are always set in these replies
    if n == 1 and state == "offline":
        value |= 0x08
    elif n == 4 and state == "near_end":
        value |= 0x0C
    elif n == 4 and state == "out":
        value |= 0x60
    return bytes([value])


class PrinterEmulator:
    """A TCP receipt printer on 127.0.0.1; ``state`` can change at any time."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state: str = "ok",
        on_job: Callable[[bytes], None] | None = None,
    ) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        self.state = state
        self.on_job = on_job
        self.jobs: list[bytes] = []
        self._lock = threading.Condition()
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.2)
        self.host, self.port = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"printer-emulator-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The printer URL for the hall config."""
        return f"tcp://{self.host}:{self.port}"

    @property
    def received(self) -> bytes:
        """Everything printed so far (status requests excluded)."""
        with self._lock:
            return b"".join(self.jobs)

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The jobs once ``count`` have arrived (a job is complete when its connection closes)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.jobs) >= count, timeout)
            return list(self.jobs)

    def __enter__(self) -> PrinterEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (later connections are refused, like a printer switched off)."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        data = bytearray()
        pending = b""
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buf = pending + chunk
                pending = b""
                i = 0
                while i < len(buf):
                    # DLE EOT n is answered at once, wherever it appears (a real printer does the same).
                    if buf[i] == 0x10:
                        if i + 2 >= len(buf):
                            pending = bytes(buf[i:])
                            break
                        if buf[i + 1] == 0x04:
                            reply = status_reply(self.state, buf[i + 2])
                            if reply is not None:
                                try:
                                    conn.sendall(reply)
                                except OSError:
                                    break
                            i += 3
                            continue
                    data.append(buf[i])
                    i += 1
        if data:
            job = bytes(data)
            with self._lock:
                self.jobs.append(job)
                self._lock.notify_all()
            if self.on_job:
                self.on_job(job)
