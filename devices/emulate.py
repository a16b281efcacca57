"""Run device emulators so a hall can be demonstrated on one PC without hardware.

``python -m devices.emulate printer --listen 127.0.0.1:9100 [--state ok]``: an ESC/POS network printer that
prints every receipt it receives as readable text (docs/printing.md); type a state (ok, near_end, out,
offline, silent) and Enter to change its paper or power state.

``python -m devices.emulate led|pad|keypad (--listen HOST:PORT | --url PORT) [--address N]``: a serial
device on the other end of a TCP port (the hall's ``socket://HOST:PORT``) or of a serial port / pty; it prints
what it is told to show, and takes key presses (keypad: n 叫号, r 重呼, s 过号, p 暂停/恢复) or ratings
(pad: 1–5) typed with Enter. ``--also KIND:ADDRESS`` puts more devices on the same line (RS-485 bus).

``python -m devices.emulate hall [--config hall.toml]``: every printer and serial device of a hall whose
address is on this PC, in one process (``make emulators``); type ``<device> <key, score or state>``.
docs/devices.md describes the whole-hall demo.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from devices.emulators import STATES, PrinterEmulator, describe
from devices.serial_emulators import EmulatedLine, LineEmulator, make_device

KEY_WORDS = {"n": "N", "next": "N", "叫号": "N", "r": "R", "recall": "R", "重呼": "R", "s": "S", "skip": "S"}
KEY_WORDS |= {"过号": "S", "p": "P", "pause": "P", "暂停": "P", "恢复": "P"}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


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


def _on_display(device: object, number: str, text: str) -> None:
    label = getattr(device, "label", None) or getattr(device, "name", "device")
    print(f"[{label}] {number or '—'}  {text}", flush=True)


def _press(devices: list, word: str) -> str:
    """Apply one typed key or score to the first keypad or pad of ``devices``; returns what happened."""
    word = word.strip()
    if word.isdigit():
        pads = [d for d in devices if d.kind == "pad"]
        if not pads:
            return "no rating pad here"
        if int(word) not in range(1, 6):
            return "a rating is 1–5"
        pads[0].rate(int(word))
        return f"{pads[0].label}: rated {word}"
    key = KEY_WORDS.get(word.lower(), word.upper() if word.upper() in ("N", "R", "S", "P") else None)
    keypads = [d for d in devices if d.kind == "keypad"]
    if key is None:
        return f"unknown input {word!r}: keypad n/r/s/p, pad 1–5"
    if not keypads:
        return "no keypad here"
    keypads[0].press(key)
    return f"{keypads[0].label}: key {key}"


def _wait_for_stop(stop: threading.Event) -> None:
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def _device_spec(value: str) -> tuple[str, int]:
    kind, sep, address = value.partition(":")
    if kind not in ("led", "pad", "keypad") or not sep or not address.isdigit():
        raise argparse.ArgumentTypeError(f"expected KIND:ADDRESS (led, pad or keypad), not {value!r}")
    return kind, int(address)


def _run_serial(args: argparse.Namespace) -> int:
    driver = getattr(args, "driver", "hall-serial")
    wanted = [(args.device, args.address), *args.also]
    if driver != "hall-serial" and len(wanted) > 1:
        print("--also works with hall-serial devices only", file=sys.stderr)
        return 2
    devices = []
    for kind, address in wanted:
        device = make_device(driver, kind, address, encoding=args.encoding, on_display=_on_display)
        device.label = f"{kind}@{address}"
        devices.append(device)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        line = LineEmulator(EmulatedLine(driver, devices), url=args.url, listen=args.listen)
    except (OSError, ValueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(d.label for d in devices)
    print(f"{driver} line {line.url}: {names}", flush=True)
    if any(d.kind in ("pad", "keypad") for d in devices):
        print("type n (叫号), r (重呼), s (过号), p (暂停/恢复) or a rating 1–5 and Enter; Ctrl+C stops", flush=True)

    def read_keys() -> None:
        for text in sys.stdin:
            if text.strip():
                print(_press(devices, text), flush=True)

    threading.Thread(target=read_keys, daemon=True).start()
    try:
        _wait_for_stop(stop)
    finally:
        line.close()
    print("emulator stopped", flush=True)
    return 0


def _run_hall(args: argparse.Namespace) -> int:
    """Every device of a hall config with a local address: printers and serial lines, in one process."""
    from urllib.parse import urlsplit

    from devices.drivers import SERIAL_KINDS, DeviceSpec, ModbusLedDriver
    from devices.printer import PrinterConfig
    from hall.config import ConfigError, load

    try:
        data = load(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    printers: list[tuple[str, str, int, str]] = []  # name, host, port, encoding
    by_device: dict[str, object] = {}
    lines: dict[str, tuple[str, list]] = {}
    skipped = []
    for d in data.get("devices", []):
        conf = dict(d.get("config") or {})
        if d["kind"] in SERIAL_KINDS:
            try:
                spec = DeviceSpec.from_config(d["name"], d["kind"], d.get("window"), conf)
            except ValueError as exc:
                skipped.append(f"{d['name']}: {exc}")
                continue
            parts = urlsplit(spec.url)
            if parts.scheme != "socket" or parts.hostname not in LOCAL_HOSTS:
                skipped.append(f"{spec.name}: {spec.url} is not a local socket:// address")
                continue
            options = {"encoding": spec.encoding, "on_display": _on_display}
            if spec.driver == "modbus-led":
                options["regmap"] = ModbusLedDriver.register_map(spec)
            device = make_device(spec.driver, spec.kind, spec.address, **options)
            device.label = f"{spec.name} {spec.window or ''}号窗口".strip()
            lines.setdefault(spec.url, (spec.driver, []))[1].append(device)
            by_device[spec.name] = device
            continue
        raw = (conf if conf.get("url") else None) if d["kind"] == "printer" else conf.get("printer")
        if raw:
            cfg = PrinterConfig.from_dict(dict(raw))
            parts = urlsplit(cfg.url)
            if parts.scheme != "tcp" or parts.hostname not in LOCAL_HOSTS:
                skipped.append(f"{d['name']}: {cfg.url} is not a local tcp:// printer")
                continue
            printers.append((d["name"], parts.hostname, parts.port or 9100, cfg.encoding))
    running: list = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        for name, host, port, encoding in printers:

            def show(job: bytes, name: str = name, encoding: str = encoding) -> None:
                try:
                    text = describe(job, encoding)
                except ValueError as exc:
                    text = f"[not decodable: {exc}]"
                print(f"----- {name}: job ({len(job)} bytes) -----\n{text}\n-----", flush=True)

            emu = PrinterEmulator(host, port, on_job=show)
            by_device[name] = emu
            running.append(emu)
            print(f"printer {name} on {emu.url}", flush=True)
        for url, (driver, devices) in lines.items():
            parts = urlsplit(url)
            running.append(LineEmulator(EmulatedLine(driver, devices), listen=(parts.hostname, parts.port)))
            print(f"{driver} line {url}: {', '.join(d.label for d in devices)}", flush=True)
    except OSError as exc:
        print(f"cannot listen: {exc}", file=sys.stderr)
        for emu in running:
            emu.close()
        return 1
    for note in skipped:
        print(f"not emulated: {note}", flush=True)
    print(
        "type <device> <input> and Enter: keypad-1 n|r|s|p (叫号/重呼/过号/暂停), pad-1 1–5, "
        f"kiosk-1 {'|'.join(STATES)}; Ctrl+C stops",
        flush=True,
    )

    def read_commands() -> None:
        for text in sys.stdin:
            name, _, value = text.strip().partition(" ")
            if not name:
                continue
            target = by_device.get(name)
            if target is None:
                print(f"no device {name!r}; devices: {', '.join(sorted(by_device))}", flush=True)
            elif isinstance(target, PrinterEmulator):
                if value.strip() in STATES:
                    target.state = value.strip()
                    print(f"{name}: state {target.state}", flush=True)
                else:
                    print(f"printer states: {', '.join(STATES)}", flush=True)
            else:
                print(_press([target], value), flush=True)

    threading.Thread(target=read_commands, daemon=True).start()
    try:
        _wait_for_stop(stop)
    finally:
        for emu in running:
            emu.close()
    print("emulators stopped", flush=True)
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
    helps = {
        "led": "an LED window strip (条屏): prints what it is told to show",
        "pad": "a rating pad (评价器): type 1–5",
        "keypad": "a call keypad (呼叫器): type n, r, s or p",
    }
    for kind, text in helps.items():
        s = sub.add_parser(kind, help=text)
        where = s.add_mutually_exclusive_group(required=True)
        where.add_argument("--listen", type=_listen_address, help="host:port to accept the hall on (socket://)")
        where.add_argument("--url", help="a serial port or pty to open (the other end of the hall's)")
        s.add_argument("--address", type=int, default=1, help="bus address (hall-serial 1–254, Modbus unit 1–247)")
        if kind == "led":
            s.add_argument("--driver", default="hall-serial", choices=("hall-serial", "modbus-led"))
        s.add_argument("--also", type=_device_spec, action="append", default=[], metavar="KIND:ADDRESS")
        s.add_argument("--encoding", default="gb18030", help="text encoding (modbus-led: gb2312)")
        s.set_defaults(run=_run_serial)
    h = sub.add_parser("hall", help="every printer and serial device of a hall config that lives on this PC")
    h.add_argument(
        "--config",
        default=os.environ.get("HALL_CONFIG") or None,
        help="hall TOML (default: HALL_CONFIG or the demo hall)",
    )
    h.set_defaults(run=_run_hall)
    args = parser.parse_args(argv)
    if getattr(args, "driver", None) == "modbus-led" and args.encoding == "gb18030":
        args.encoding = "gb2312"
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
