"""Run a device emulator: ``python -m devices.emulate printer --listen 127.0.0.1:9100 [--state ok]``.

The emulated printer prints every receipt it receives as readable text, so a hall can be demonstrated on one
PC without hardware (docs/printing.md). While it runs, type a state (ok, near_end, out, offline, silent) and
Enter to change its paper or power state. Other devices (led, pad, keypad) get their own subcommands later.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from devices.emulators import STATES, PrinterEmulator, describe


def _listen_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected host:port, not {value!r}")
    return host or "127.0.0.1", int(port)


def _run_printer(args: argparse.Namespace) -> int:
    host, port = args.listen

    def show(job: bytes) -> None:
        try:
            text = describe(job, args.encoding)
        except ValueError as exc:  # show that something arrived even when it is not a receipt we understand
            text = f"[not decodable: {exc}]"
        print(f"----- job ({len(job)} bytes) -----\n{text}\n-----", flush=True)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        emu = PrinterEmulator(host, port, state=args.state, on_job=show)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    print(f"printer emulator listening on {emu.url} (state {emu.state})", flush=True)
    print(f"type a state ({', '.join(STATES)}) and Enter to change it; Ctrl+C stops", flush=True)

    def read_states() -> None:
        for line in sys.stdin:
            wanted = line.strip()
            if wanted in STATES:
                emu.state = wanted
                print(f"state: {wanted}", flush=True)
            elif wanted:
                print(f"unknown state {wanted!r}", flush=True)
        # stdin closed (started in the background): keep serving until stopped

    threading.Thread(target=read_states, daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
    print("printer emulator stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen emulator."""
    parser = argparse.ArgumentParser(prog="python -m devices.emulate", description="hall device emulators")
    sub = parser.add_subparsers(dest="device", required=True, metavar="DEVICE")
    p = sub.add_parser("printer", help="an ESC/POS network receipt printer (raw TCP, answers DLE EOT)")
    p.add_argument("--listen", type=_listen_address, default="127.0.0.1:9100", help="host:port (port 0: any free)")
    p.add_argument("--state", default="ok", choices=STATES, help="paper/power state to start in")
    p.add_argument("--encoding", default="gb18030", help="encoding used to show received text")
    p.set_defaults(run=_run_printer)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
