"""What the web admin may register as a device's ``config``: a schema per kind and an allow-list of addresses.

A device's address is where the server writes and connects to. The hall TOML (the operator, who has the
machine) may name anything the drivers support, ``file://`` and any network host included. The web API (an
admin account, reachable over the network) may store only:

- printers on ``tcp://host:port``, ``usb://vid:pid`` or ``serial:///dev/…``; never ``file://`` (a reprint would
  overwrite that file) nor any other scheme;
- serial lines (条屏、评价器、呼叫器) on a ``/dev/…`` port or ``socket://`` / ``rfc2217://host:port``;
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

    def __init__(self, entries: Iterable[str] = ()) -> None:
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


def toml_hosts(data: dict[str, Any]) -> HostList:
    """The hosts a hall TOML allows: its ``[admin_devices] allowed_hosts`` and its own devices' hosts."""
    entries = [str(h) for h in (data.get("admin_devices") or {}).get("allowed_hosts", [])]
    for device in data.get("devices", []):
        url = url_of(str(device.get("kind", "")), dict(device.get("config") or {}))
        if url and "://" in url:
            try:
                host = urlsplit(url).hostname
            except ValueError:
                host = None
            if host:
                entries.append(host)
    return HostList(entries)


def _network_target(url: str, schemes: Iterable[str], hosts: HostList, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise RefusedConfig(
            field, f"不允许的设备地址类型 {parts.scheme or url!r}（只可用 {', '.join(schemes)}）", "device_url_refused"
        )
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
    elif parts.scheme == "serial" and not (parts.path or "").startswith("/dev/"):
        raise RefusedConfig(field, "串口打印机须为 serial:///dev/… 设备", "device_url_refused")


def _printer(raw: Any, hosts: HostList, field: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RefusedConfig(field, "打印机配置须为对象，至少含 url")
    unknown = sorted(set(raw) - PRINTER_KEYS)
    if unknown:
        raise RefusedConfig(
            f"{field}.{unknown[0]}", f"未知的打印机设置：{', '.join(unknown)}（可用 {', '.join(sorted(PRINTER_KEYS))}）"
        )
    try:
        cfg = PrinterConfig.from_dict(raw)
    except (ValueError, TypeError) as exc:
        raise RefusedConfig(f"{field}.url" if "url" in str(exc) else field, str(exc)) from None
    _network_target(cfg.url, PRINTER_SCHEMES, hosts, f"{field}.url")
    return dict(raw)


def check_config(kind: str, name: str, window: int | None, config: dict[str, Any], hosts: HostList) -> dict[str, Any]:
    """The config the web API may store for a device of ``kind``; RefusedConfig says which key and why."""
    config = dict(config or {})
    if not config:  # registered now, connected later (the admin page's form sends no config)
        return config
    if kind in SERIAL_KINDS:
        try:
            spec = DeviceSpec.from_config(name, kind, window, config)
        except ValueError as exc:
            raise RefusedConfig("config", str(exc)) from None
        if spec.url.startswith("/dev/"):
            return config
        _network_target(spec.url, SERIAL_SCHEMES, hosts, "config.url")
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
