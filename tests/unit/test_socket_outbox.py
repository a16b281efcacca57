"""hall/outbox.py: inline websocket writes keep each socket's order and never block on a slow client."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest
from engineio import packet
from wsproto.frame_protocol import FrameProtocol

from hall import outbox
from hall.outbox import Outbox, RawFrame, ws_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 4000, 65535, 65536, 70000])
def test_frames_are_the_ones_wsproto_builds(size: int) -> None:
    text = "号" * (size // 3) + "x" * (size % 3)
    assert ws_frame(text.encode()) == FrameProtocol(client=False, extensions=[]).send_data(text, True)
    data = bytes(range(256)) * (size // 256) + b"\x00" * (size % 256)
    assert ws_frame(data, outbox.BINARY) == FrameProtocol(client=False, extensions=[]).send_data(data, True)


def read_frames(sock: socket.socket, count: int, timeout: float = 10.0) -> list[str]:
    """Text payloads of ``count`` unmasked frames read from ``sock``."""
    sock.settimeout(timeout)
    buf = b""
    out: list[str] = []
    while len(out) < count:
        header = None
        if len(buf) >= 2:
            n, at = buf[1] & 0x7F, 2
            if n == 126:
                n, at = (int.from_bytes(buf[2:4], "big"), 4) if len(buf) >= 4 else (None, 0)
            elif n == 127:
                n, at = (int.from_bytes(buf[2:10], "big"), 10) if len(buf) >= 10 else (None, 0)
            header = (n, at) if n is not None else None
        if header and len(buf) >= header[1] + header[0]:
            n, at = header
            assert buf[0] == 0x81, "FIN + text frame"
            out.append(buf[at : at + n].decode())
            buf = buf[at + n :]
            continue
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        buf += chunk
    return out


class FakeEngineWebSocket:
    """Stands for Engine.IO's threading websocket wrapper: ``send`` frames and writes (blocking)."""

    def __init__(self, sock: socket.socket) -> None:
        self.ws = SimpleNamespace(sock=sock)
        self.app = None
        self.sent: list[str] = []
        self.hold = threading.Event()
        self.hold.set()

    def send(self, message: str) -> None:
        self.hold.wait(10)
        self.sent.append(message)
        self.ws.sock.sendall(ws_frame(message.encode()))


Wire = outbox._websocket_class(FakeEngineWebSocket)


class Rig:
    """An Outbox on one end of a socket pair, with Engine.IO's writer loop running in a thread."""

    def __init__(self, sndbuf: int | None = None) -> None:
        self.server, self.client = socket.socketpair()
        if sndbuf:
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.owner = SimpleNamespace(upgraded=True, closed=False)
        self.box = Outbox()
        self.wire = Wire(self.server)
        self.wire.outbox = self.box
        self.box.attach(self.owner, self.wire)
        self.thread: threading.Thread | None = None

    def start_writer(self) -> None:
        def writer() -> None:  # engineio.socket.Socket._websocket_handler's writer, with poll() inlined
            while True:
                packets = [self.box.get(timeout=0.05)]
                while packets[-1] is not None:
                    try:
                        packets.append(self.box.get(block=False))
                    except Exception:
                        break
                for pkt in packets:
                    if pkt is None:
                        return
                    self.wire.send(pkt.encode())

        self.thread = threading.Thread(target=writer, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.box.inline and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.box.inline

    def close(self) -> None:
        self.box.put(None)
        if self.thread:
            self.thread.join(10)
        self.server.close()
        self.client.close()


def msg(text: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, text)


def test_an_idle_websocket_gets_packets_written_inline_without_its_writer_thread() -> None:
    rig = Rig()
    try:
        rig.start_writer()
        for i in range(3):
            rig.box.put(msg(f"m{i}"))
        assert read_frames(rig.client, 3) == ["4m0", "4m1", "4m2"]
        assert rig.box.inline_writes == 3 and rig.wire.sent == []
    finally:
        rig.close()


def test_a_packet_in_the_writers_hands_keeps_its_place() -> None:
    rig = Rig()
    try:
        rig.wire.hold.clear()  # the writer takes "first" and stalls before writing it
        rig.box.put(msg("first"))
        rig.start_writer()
        deadline = time.monotonic() + 10
        while rig.box._busy == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        rig.box.put(msg("second"))  # must queue behind "first", not overtake it
        rig.box.put(msg("third"))
        assert rig.box.inline_writes == 0
        rig.wire.hold.set()
        assert read_frames(rig.client, 3) == ["4first", "4second", "4third"]
        deadline = time.monotonic() + 10
        while rig.box._busy and time.monotonic() < deadline:
            time.sleep(0.005)
        rig.box.put(msg("fourth"))  # the writer is idle again: written inline
        assert read_frames(rig.client, 1) == ["4fourth"] and rig.box.inline_writes == 1
    finally:
        rig.close()


def test_a_client_that_does_not_read_never_blocks_the_emitter_and_loses_nothing() -> None:
    rig = Rig(sndbuf=4096)
    try:
        rig.start_writer()
        texts = [f"{i:04d}" + "号" * 700 for i in range(200)]  # ~2 KB each, far more than the socket buffers
        emitter = threading.Thread(target=lambda: [rig.box.put(msg(t)) for t in texts], daemon=True)
        emitter.start()
        emitter.join(20)
        assert not emitter.is_alive(), "put blocked on a client that does not read"
        assert read_frames(rig.client, len(texts), timeout=20) == ["4" + t for t in texts]
        assert rig.box.inline_writes >= 1 and rig.wire.sent, "some inline, the rest through the writer thread"
    finally:
        rig.close()


def test_a_quiet_inline_socket_keeps_its_writer_until_closed() -> None:
    rig = Rig()
    rig.start_writer()  # its get(timeout=0.05) would end the writer if Empty escaped
    time.sleep(0.3)
    assert rig.thread is not None and rig.thread.is_alive()
    rig.close()
    assert not rig.thread.is_alive()


def test_the_rest_of_a_partial_write_goes_out_as_is() -> None:
    rest = outbox._Rest(b"\x81\x02hi")
    assert isinstance(rest.encode(), RawFrame) and rest.encode() == b"\x81\x02hi"


def test_the_hall_server_uses_outboxes(app) -> None:
    eio = app.extensions["hall.socketio"].server.eio
    assert isinstance(eio.create_queue(), Outbox), "inline websocket writes are installed"
    assert eio._async["websocket"].__name__ == "HallWebSocket"
    assert outbox.install(eio) is True  # idempotent
