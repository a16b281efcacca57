"""What the web admin may register as a device's ``config``: a schema per kind and an allow-list of addresses.

A device's address is where the server writes and connects to. The hall TOML (the operator, who has the
machine) may name anything the drivers support, ``file://`` and any network host included. The web API (an
admin account, reachable over the network) may store only:

- printers on ``tcp://host:port``, ``usb://vid:pid`` or ``serial:///dev/…``; never ``file://`` (a reprint would
  overwrite that file) nor any other scheme;
- serial lines (条屏、评价器、呼叫器) on a ``/dev/…`` port or ``socket://`` / ``rfc2217://host:port``;
- printers on the network only on the hall's printer ports (9100–9109, raw printing, unless the TOML's
  ``[admin_devices] printer_ports`` says otherwise; the ports of the TOML's own printers are allowed too), so the
  admin API cannot aim the server at ``tcp://localhost:22`` or another service;
- network hosts only from the operator's list: loopback (the demo's emulators), every host the hall TOML's own
  devices use, and ``[admin_devices] allowed_hosts`` of the hall TOML (names, addresses or networks such as
  ``192.168.10.0/24``).

Every key of ``config`` must be known for the kind (a typo is refused, not silently ignored). An empty config
stays allowed for every kind: the device is registered (its token made) and connected later.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from devices.drivers import SERIAL_KINDS, DeviceSpec
from devices.printer import PrinterConfig

PRINTER_KEYS = frozenset({"url", "encoding", "width_mm", "qr", "timeout"})
PRINTER_SCHEMES = ("tcp", "usb", "serial")
SERIAL_SCHEMES = ("socket", "rfc2217")  # besides a plain /dev/… port
NETWORK_SCHEMES = frozenset({"tcp", "socket", "rfc2217"})
DEFAULT_PRINTER_PORTS = range(9100, 9110)  # raw (JetDirect) printing; the demo's emulators use 9100-9109
PRINTER_URL_FORMS = "tcp://主机:端口、usb://厂商号:产品号、serial:///dev/…"
SERIAL_URL_FORMS = "/dev/…、socket://主机:端口、rfc2217://主机:端口"
PRINTER_FIELD_TEXTS = {
    "encoding": "打印机编码 encoding 须为 gb18030、gbk 或 utf-8 之一",
    "width_mm": "纸宽 width_mm 须为 58 或 80",
    "qr": "二维码方式 qr 须为 native 或 raster",
    "timeout": "超时 timeout 须为 0–30 秒",
}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
# Kinds whose config is one table of its own, or a table per part; kinds not listed take no config at all.
KIND_KEYS: dict[str, frozenset[str]] = {"kiosk": frozenset({"printer"}), "printer": PRINTER_KEYS}


class RefusedConfig(ValueError):
    """The config is not acceptable from the web API; ``field`` names the key, ``code`` the reason."""

    def __init__(self, field: str, message: str, code: str = "bad_device_config") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class HostList:
    """Network hosts the web API may point devices at: exact names/addresses and networks."""

    def __init__(self, entries: Iterable[str] = (), printer_ports: Iterable[int] = DEFAULT_PRINTER_PORTS) -> None:
        self.printer_ports = frozenset(int(p) for p in printer_ports)
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            text = str(entry).strip().lower().strip("[]")
            try:
                self.networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                if text:
                    self.names.add(text)

    def allows(self, host: str) -> bool:
        """True for loopback, a listed name or address, or an address inside a listed network."""
        host = host.strip().lower().strip("[]")
        if host in LOOPBACK_NAMES or host in self.names:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_loopback or any(address in net for net in self.networks)


def url_of(kind: str, config: dict[str, Any]) -> str | None:
    """The address a device of ``kind`` uses (a kiosk's printer, a printer's or a serial device's url)."""
    raw = config.get("printer") if kind == "kiosk" else config
    url = raw.get("url") if isinstance(raw, dict) else None
    return url if isinstance(url, str) else None


def parse_ports(raw: Any) -> set[int]:
    """``[9100, "9200-9203"]`` → the ports; ValueError when an entry is not a port or a range of ports."""
    if not isinstance(raw, list):
        raise ValueError("printer_ports must be a list")
    ports: set[int] = set()
    for entry in raw:
        if isinstance(entry, int) and not isinstance(entry, bool):
            low = high = entry
        elif isinstance(entry, str) and entry.count("-") == 1 and all(p.strip().isdigit() for p in entry.split("-")):
            low, high = (int(p) for p in entry.split("-"))
        else:
            raise ValueError(f"bad printer port {entry!r}")
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"bad printer port {entry!r}")
        ports.update(range(low, high + 1))
    return ports


def toml_hosts(data: dict[str, Any]) -> HostList:
    """The hosts a hall TOML allows: its ``[admin_devices] allowed_hosts`` and its own devices' hosts (and ports)."""
    section = data.get("admin_devices") or {}
    entries = [str(h) for h in section.get("allowed_hosts", [])]
    ports = parse_ports(section["printer_ports"]) if "printer_ports" in section else set(DEFAULT_PRINTER_PORTS)
    for device in data.get("devices", []):
        kind = str(device.get("kind", ""))
        url = url_of(kind, dict(device.get("config") or {}))
        if url and "://" in url:
            try:
                parts = urlsplit(url)
                host, port = parts.hostname, parts.port
            except ValueError:
                host = port = None
            if host:
                entries.append(host)
            if port and kind in ("printer", "kiosk") and parts.scheme == "tcp":
                ports.add(port)
    return HostList(entries, ports)


def _scheme_refused(field: str, url: str, forms: str) -> RefusedConfig:
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = ""
    shown = f"{scheme}://" if scheme else "该地址"
    return RefusedConfig(field, f"不允许的设备地址类型 {shown}（只可用 {forms}）", "device_url_refused")


def _network_target(url: str, schemes: Iterable[str], hosts: HostList, field: str, forms: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _scheme_refused(field, url, forms) from None
    if parts.scheme not in schemes:
        raise _scheme_refused(field, url, forms)
    if parts.scheme in NETWORK_SCHEMES:
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise RefusedConfig(field, f"设备地址须为 {parts.scheme}://主机:端口", "bad_device_config")
        if not hosts.allows(parts.hostname):
            raise RefusedConfig(
                field,
                f"主机 {parts.hostname} 不在允许的设备主机列表中"
                "（由运维在大厅配置文件 [admin_devices] allowed_hosts 中设置）",
                "device_host_refused",
            )
        if parts.scheme == "tcp" and port not in hosts.printer_ports:
            raise RefusedConfig(
                field,
                f"端口 {port} 不是打印机端口（允许 {_ports_text(hosts.printer_ports)}，"
                "由运维在大厅配置文件 [admin_devices] printer_ports 中设置）",
                "device_port_refused",
            )
    elif parts.scheme == "serial" and not (parts.path or "").startswith("/dev/"):
        raise RefusedConfig(field, "串口打印机须为 serial:///dev/… 设备", "device_url_refused")


def _ports_text(ports: frozenset[int]) -> str:
    """``9100–9109, 9200`` for the error message."""
    runs: list[list[int]] = []
    for port in sorted(ports):
        if runs and port == runs[-1][1] + 1:
            runs[-1][1] = port
        else:
            runs.append([port, port])
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in runs) or "无"


def _printer(raw: Any, hosts: HostList, field: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RefusedConfig(field, "打印机配置须为对象，至少含 url")
    url = raw.get("url")
    if isinstance(url, str) and url.split("://", 1)[0] not in PRINTER_SCHEMES:
        # Checked before the driver's own parser, whose messages are English and list schemes the web refuses.
        raise _scheme_refused(f"{field}.url", url, PRINTER_URL_FORMS)
    unknown = sorted(set(raw) - PRINTER_KEYS)
    if unknown:
        raise RefusedConfig(
            f"{field}.{unknown[0]}", f"未知的打印机设置：{', '.join(unknown)}（可用 {', '.join(sorted(PRINTER_KEYS))}）"
        )
    try:
        cfg = PrinterConfig.from_dict(raw)
    except (ValueError, TypeError) as exc:
        key = next((k for k in PRINTER_FIELD_TEXTS if k in str(exc)), "url")
        text = PRINTER_FIELD_TEXTS.get(key, f"打印机地址 url 须为 {PRINTER_URL_FORMS}")
        raise RefusedConfig(f"{field}.{key}", text) from None
    _network_target(cfg.url, PRINTER_SCHEMES, hosts, f"{field}.url", PRINTER_URL_FORMS)
    return dict(raw)


def check_config(kind: str, name: str, window: int | None, config: dict[str, Any], hosts: HostList) -> dict[str, Any]:
    """The config the web API may store for a device of ``kind``; RefusedConfig says which key and why."""
    config = dict(config or {})
    if not config:  # registered now, connected later (the admin page's form sends no config)
        return config
    if kind in SERIAL_KINDS:
        try:
            spec = DeviceSpec.from_config(name, kind, window, config)
        except ValueError:
            raise RefusedConfig(
                "config", "串口设备设置无效（driver、url、address、baudrate 见 docs/devices.md）"
            ) from None
        if spec.url.startswith("/dev/"):
            return config
        _network_target(spec.url, SERIAL_SCHEMES, hosts, "config.url", SERIAL_URL_FORMS)
        return config
    allowed = KIND_KEYS.get(kind, frozenset())
    unknown = sorted(set(config) - allowed)
    if unknown:
        keys = f"（可用 {', '.join(sorted(allowed))}）" if allowed else "（这类设备没有设置项）"
        raise RefusedConfig(f"config.{unknown[0]}", f"未知的设置：{', '.join(unknown)}{keys}")
    if kind == "printer":
        return _printer(config, hosts, "config")
    if kind == "kiosk" and "printer" in config:
        return {"printer": _printer(config["printer"], hosts, "config.printer")}
    return config
