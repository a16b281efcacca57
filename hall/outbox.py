"""Inline websocket writes for Flask-SocketIO in threading mode: no thread hand-off per client, one frame per emit.

In threading mode every Engine.IO socket has a queue and its own writer thread. An emit to the room of 200 hall
displays puts the packet in 200 queues and wakes 200 threads; each takes the GIL in turn, frames the message with
wsproto and writes it. On 2 cores that hand-off costs ~100 µs per client (200 sockets: 19–21 ms through writer
threads, 0.7 ms written in one loop), and it was most of a call's latency at 200 displays.

``Outbox`` is the socket's queue instead. Once the socket is an upgraded websocket, ``put`` writes the frame at
once in the emitting thread with a non-blocking send, but only while nothing is queued or in the writer thread's
hands, so every socket still gets its packets in the order they were sent. What cannot be written at once (the
socket buffer is full: a slow or stalled client; the rest of a partial write) is queued for the socket's own writer
thread as before, so a slow display never blocks the emitter or the other displays. Server frames are not masked,
so the frame of a packet sent to a whole room is built once and the same bytes go to every client.

Hall sockets do not negotiate permessage-deflate (browsers offer it): messages are a few hundred bytes to a few
KB on a LAN, and deflate would cost a compressor per socket plus one compression per client per message.

Everything else (polling clients, the upgrade from polling, pings, closing) is Engine.IO's own code path;
``install`` leaves the server untouched when the async mode or the library layout is not the expected one.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import ssl
import threading
from typing import Any

log = logging.getLogger(__name__)

TEXT, BINARY = 0x1, 0x2


def ws_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """One unmasked, unfragmented websocket frame (RFC 6455 §5.2), as a server sends it."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, n))
    elif n < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return header + payload


class RawFrame(bytes):
    """Bytes already framed for the wire (the writer thread sends them as they are)."""


class _Rest:
    """The unsent tail of an inline write, queued for the writer thread."""

    def __init__(self, data: bytes) -> None:
        self.data = RawFrame(data)

    def encode(self, b64: bool = False) -> RawFrame:
        return self.data


def _frame_of(pkt: Any) -> bytes:
    """The websocket frame of an Engine.IO packet, built once per packet object (one emit → one packet)."""
    frame = getattr(pkt, "_hall_frame", None)
    if frame is None:
        encoded = pkt.encode()
        frame = ws_frame(encoded.encode(), TEXT) if isinstance(encoded, str) else ws_frame(bytes(encoded), BINARY)
        with contextlib.suppress(AttributeError):  # a packet class with __slots__: framed per client
            pkt._hall_frame = frame
    return frame


class Outbox(queue.Queue):
    """An Engine.IO socket's send queue that writes to its websocket at once when it can (see the module doc)."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.owner: Any = None  # the engineio Socket
        self.wire: Any = None  # its websocket (the engineio wrapper around simple_websocket)
        self.inline = False
        self.inline_writes = 0  # packets written inline (tests and diagnostics)
        self._sock: socket.socket | None = None
        self._writer: int | None = None  # thread id of the socket's writer
        self._busy = 0  # packets the writer has taken and not yet written

    def attach(self, owner: Any, wire: Any) -> None:
        """The websocket of ``owner`` exists (called by the websocket wrapper before the handler runs)."""
        self.owner, self.wire = owner, wire

    # --- producers (any thread) ---------------------------------------------------------------------
    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Write the packet now if nothing is ahead of it, else queue it for the writer thread."""
        if self.maxsize:  # pragma: no cover - Engine.IO creates unbounded queues
            super().put(item, block, timeout)
            return
        with self.mutex:
            if item is not None and self.inline and not self.queue and not self._busy:
                item = self._write_now(item)
                if item is None:
                    return
            self._put(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def _write_now(self, item: Any) -> Any:
        """Non-blocking write under the queue's lock; returns what is left for the writer (None: all sent)."""
        assert self._sock is not None
        frame = _frame_of(item)
        try:
            sent = self._sock.send(frame, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return item  # the client is not reading: its writer thread takes over (blocking writes)
        except OSError:
            self.inline = False  # the connection is gone; the writer finds out and closes the socket
            return item
        self.inline_writes += 1
        if sent == len(frame):
            return None
        return _Rest(frame[sent:])

    # --- the writer thread --------------------------------------------------------------------------
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The writer thread's wait; in inline mode a quiet socket is not a dead one, so keep waiting."""
        if not self.inline:
            self._maybe_go_inline()
        while True:
            try:
                return super().get(block, timeout)
            except queue.Empty:
                # Engine.IO's writer gives up after ping_interval + ping_timeout without a packet, because
                # pings go through the queue. Inline, pings are written directly: only a closed socket ends it
                # (closing puts None; a missed pong closes the socket when the next ping is sent).
                if not (block and self.inline and not getattr(self.owner, "closed", True)):
                    raise

    def _get(self) -> Any:
        item = self.queue.popleft()
        if item is not None and self.inline and threading.get_ident() == self._writer:
            self._busy += 1
        return item

    def written(self) -> None:
        """The writer thread wrote one packet it had taken."""
        if threading.get_ident() != self._writer:
            return
        with self.mutex:
            if self._busy:
                self._busy -= 1

    def _maybe_go_inline(self) -> None:
        """Called by the first get of the writer thread of an upgraded websocket (no other thread polls then)."""
        owner, wire = self.owner, self.wire
        if owner is None or wire is None or not getattr(owner, "upgraded", False):
            return
        sock = getattr(getattr(wire, "ws", None), "sock", None)
        if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket) or sock.gettimeout() is not None:
            return  # TLS or a socket with a timeout: leave it to the writer thread
        with self.mutex:
            self._sock = sock
            self._writer = threading.get_ident()
            self._busy = 0
            self.inline = True


def _websocket_class(base: type) -> type:
    """Engine.IO's threading websocket wrapper, declining permessage-deflate and attaching the socket's Outbox."""

    class HallWebSocket(base):  # type: ignore[misc, valid-type]
        def __call__(self, environ: dict, start_response: Any) -> Any:
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)  # no permessage-deflate (see the module doc)
            owner = getattr(self.app, "__self__", None)  # the handler is the engineio Socket's bound method
            self.outbox = getattr(owner, "queue", None)
            if isinstance(self.outbox, Outbox):
                self.outbox.attach(owner, self)
            return super().__call__(environ, start_response)

        def send(self, message: Any) -> Any:
            try:
                if isinstance(message, RawFrame):
                    try:
                        return self.ws.sock.sendall(message)
                    except OSError as exc:
                        raise OSError(str(exc)) from exc
                return super().send(message)
            finally:
                outbox = getattr(self, "outbox", None)
                if isinstance(outbox, Outbox):
                    outbox.written()

    return HallWebSocket


def install(eio: Any) -> bool:
    """Give every new socket of this Engine.IO server an Outbox; False (and no change) if it does not fit."""
    table = getattr(eio, "_async", None)
    if getattr(eio, "async_mode", None) != "threading" or not isinstance(table, dict):
        return False
    if table.get("queue") is Outbox:
        return True  # already installed
    base = table.get("websocket")
    if base is None or table.get("queue") is not queue.Queue or not callable(getattr(base, "send", None)):
        log.warning("engineio layout not recognised: websocket sends keep one writer thread per client")
        return False
    eio._async = {**table, "queue": Outbox, "websocket": _websocket_class(base)}
    return True
