"""Run a device emulator: ``python -m devices.emulate printer --listen 127.0.0.1:9100 [--state ok]``.

The emulated printer prints every receipt it receives as readable text, so a whole hall can be demonstrated
on one PC without hardware (docs/printing.md). Type a state name (ok, near_end, out, offline, silent) and
Enter to change the paper or power state while it runs.
"""

from __future__ import annotations

import argparse
import sys
import threading

from devices.emulators import STATES, PrinterEmulator


def _printer(args: argparse.Namespace) -> int:
    from devices.escpos_decode import describe

    host, _, port = args.listen.rpartition(":")

    def show(job: bytes) -> None:
        try:
            text = describe(job, args.encoding)
        except ValueError as exc:  # show what arrived even when it is not a receipt we understand
            text = f"[{len(job)} bytes, not decodable: {exc}]"
        print(f"----- receipt ({len(job)} bytes) -----\n{text}\n", flush=True)

    emu = PrinterEmulator(host or "127.0.0.1", int(port), state=args.state, on_job=show)
    print(
        f"printer emulator on {emu.url}, state {emu.state}; type a state ({', '.join(STATES)}) to change it", flush=True
    )
    stop = threading.Event()
    try:
        for line in sys.stdin:
            wanted = line.strip()
            if wanted in STATES:
                emu.state = wanted
                print(f"state: {wanted}", flush=True)
            elif wanted:
                print(f"unknown state {wanted!r}", flush=True)
        stop.wait()  # stdin closed (run in the background): keep serving until killed
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen emulator."""
    parser = argparse.ArgumentParser(prog="python -m devices.emulate", description="hall device emulators")
    sub = parser.add_subparsers(dest="device", required=True)
    p = sub.add_parser("printer", help="an ESC/POS network receipt printer (TCP, answers DLE EOT)")
    p.add_argument("--listen", default="127.0.0.1:9100", help="host:port to listen on")
    p.add_argument("--state", default="ok", choices=STATES)
    p.add_argument("--encoding", default="gb18030", help="how to show received text")
    p.set_defaults(run=_printer)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
