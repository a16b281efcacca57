"""Device emulators that speak the hardware's bytes, for tests and for demonstrating a hall on one PC.

PrinterEmulator is a network receipt printer (the raw TCP 9100 port): it keeps what it is sent and answers the
``DLE EOT n`` real-time status requests as an Epson-compatible printer does: wherever they appear in the
stream, at once, in order with the data around them. ``python -m devices.emulate printer`` runs one.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

from devices.escpos_text import describe

log = logging.getLogger(__name__)

STATES = ("ok", "near_end", "out", "offline", "silent")
__all__ = ["STATES", "PrinterEmulator", "describe", "status_reply"]


def status_reply(state: str, n: int) -> bytes | None:
    """The byte a printer in ``state`` sends for ``DLE EOT n`` (None: it says nothing)."""
    if state == "silent":
        return None
    value = 0x12  # bits 1 and 4 are set in every status reply
    if n == 1 and state == "offline":
        value |= 0x08
    elif n == 4 and state == "near_end":
        value |= 0x0C  # paper near-end sensors (bits 2–3)
    elif n == 4 and state == "out":
        value |= 0x60  # paper-end sensors (bits 5–6)
    return bytes([value])


class PrinterEmulator:
    """A TCP receipt printer (``port=0``: any free port); ``state`` may change at any time.

    ``jobs`` holds the bytes of each connection that carried print data, status requests left out, in the
    order the connections came; ``received`` is all of it. Data is recorded before a later status request is
    answered, so a client that got its answer knows everything before it has been recorded.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state: str = "ok",
        on_job: Callable[[bytes], None] | None = None,
    ) -> None:
        self.state = state
        self.on_job = on_job
        self._buffers: list[bytearray] = []  # one per connection
        self._done: set[int] = set()  # indexes of the connections that have closed
        self._changed = threading.Condition()
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self.host, self.port = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, name=f"printer-emulator-{self.port}", daemon=True)
        self._thread.start()

    @property
    def state(self) -> str:
        """ok, near_end, out, offline or silent (accepts connections, never answers)."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATES:
            raise ValueError(f"printer state must be one of {', '.join(STATES)}, not {value!r}")
        self._state = value

    @property
    def url(self) -> str:
        """The printer URL for a PrinterConfig."""
        return f"tcp://{self.host}:{self.port}"

    @property
    def jobs(self) -> list[bytes]:
        """The print data of each connection that sent any (a snapshot)."""
        with self._changed:
            return [bytes(buf) for buf in self._buffers if buf]

    @property
    def received(self) -> bytes:
        """Everything received so far, status requests excluded."""
        return b"".join(self.jobs)

    def wait_for_jobs(self, count: int = 1, timeout: float = 5.0) -> list[bytes]:
        """The jobs once ``count`` connections carrying data have closed (or whatever there is after ``timeout``)."""

        def complete() -> bool:
            return sum(1 for n, buf in enumerate(self._buffers) if buf and n in self._done) >= count

        with self._changed:
            self._changed.wait_for(complete, timeout)
        return self.jobs

    def clear(self) -> None:
        """Forget the jobs received so far."""
        with self._changed:
            for buf in self._buffers:
                buf.clear()

    def __enter__(self) -> PrinterEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Switch the printer off: open connections drop and new ones are refused."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()
        with self._changed:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=2)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._client, args=(conn,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _client(self, conn: socket.socket) -> None:
        buf = bytearray()
        with self._changed:
            index = len(self._buffers)
            self._buffers.append(buf)
            self._clients.add(conn)
        conn.settimeout(0.1)
        pending = b""  # an incomplete DLE EOT at the end of a chunk
        answering = True
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                stream = pending + chunk
                pending = b""
                start = i = 0
                while i < len(stream):
                    if stream[i] != 0x10:
                        i += 1
                        continue
                    if len(stream) - i < 3 and stream[i + 1 : i + 2] in (b"", b"\x04"):
                        pending = stream[i:]
                        break
                    if stream[i + 1] == 0x04 and stream[i + 2] in (1, 2, 3, 4):
                        self._record(buf, stream[start:i])
                        reply = status_reply(self.state, stream[i + 2])
                        if reply is not None and answering:
                            try:
                                conn.sendall(reply)
                            except OSError:
                                answering = False  # the client has gone; keep reading what it sent
                        i += 3
                        start = i
                        continue
                    i += 1
                self._record(buf, stream[start : len(stream) - len(pending)])
        finally:
            if pending:
                self._record(buf, pending)
            conn.close()
            with self._changed:
                self._clients.discard(conn)
                self._done.add(index)
                self._changed.notify_all()
                job = bytes(buf)
            if job and self.on_job is not None:
                try:
                    self.on_job(job)
                except Exception:
                    log.exception("printer emulator job callback failed")

    def _record(self, buf: bytearray, data: bytes) -> None:
        if data:
            with self._changed:
                buf.extend(data)
                self._changed.notify_all()
