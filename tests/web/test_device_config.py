"""The admin device API stores only safe device configs: a schema per kind, an allow-list of URL schemes, and
network hosts only from the operator's list in the hall TOML (docs/security.md, docs/devices.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.policy import HostList, toml_hosts
from hall import config as hall_config
from tests.conftest import login, make_config
from tests.factories import error_code


def post(admin, name: str, kind: str, config: dict, window: int | None = None):
    body = {"name": name, "kind": kind, "config": config, **({"window": window} if window else {})}
    return admin.post("/api/v1/admin/devices", json=body)


@pytest.mark.parametrize(
    ("kind", "config", "code"),
    [
        ("printer", {"url": "file:///tmp/any/path"}, "device_url_refused"),
        ("kiosk", {"printer": {"url": "file:///etc/hosts"}}, "device_url_refused"),
        ("printer", {"url": "gopher://127.0.0.1:70/"}, "device_url_refused"),
        ("printer", {"url": "tcp://10.9.8.7:25"}, "device_host_refused"),
        ("printer", {"url": "tcp://evil.example:9100"}, "device_host_refused"),
        ("kiosk", {"printer": {"url": "tcp://203.0.113.5:9100"}}, "device_host_refused"),
        ("printer", {"url": "serial:///etc/passwd"}, "device_url_refused"),
        ("printer", {"url": "tcp://127.0.0.1:9100", "colour": "red"}, "bad_device_config"),
        ("printer", {"encoding": "gb18030"}, "bad_device_config"),
        ("kiosk", {"printer": {"url": "tcp://127.0.0.1:9100"}, "autorun": "x"}, "bad_device_config"),
        ("display", {"url": "tcp://127.0.0.1:9100"}, "bad_device_config"),
    ],
)
def test_unsafe_configs_are_refused(staff, kind, config, code) -> None:
    r = post(staff("admin"), "dev-x", kind, config)
    assert r.status_code == 422 and error_code(r) == code, r.get_json()
    assert "dev-x" not in {d["name"] for d in staff("admin").get("/api/v1/admin/devices").get_json()["devices"]}


@pytest.mark.parametrize(
    ("kind", "config", "window"),
    [
        ("led", {"driver": "hall-serial", "url": "gopher://127.0.0.1:9201", "address": 3}, 3),
        ("led", {"driver": "hall-serial", "url": "socket://10.9.8.7:4001", "address": 3}, 3),
        ("pad", {"driver": "hall-serial", "url": "/tmp/pty", "address": 2}, 3),
        ("keypad", {"driver": "hall-serial", "url": "socket://127.0.0.1:9202", "address": 1, "x": 1}, 3),
    ],
)
def test_unsafe_serial_lines_are_refused(staff, kind, config, window) -> None:
    r = post(staff("admin"), "line-x", kind, config, window)
    assert r.status_code == 422, r.get_json()


def test_the_demo_emulators_and_the_tomls_hosts_are_accepted(staff) -> None:
    admin = staff("admin")
    ok = [
        ("kiosk-9", "kiosk", {"printer": {"url": "tcp://127.0.0.1:9103", "encoding": "gb18030", "width_mm": 80}}, None),
        ("printer-9", "printer", {"url": "tcp://localhost:9104", "qr": "raster"}, None),
        ("printer-u", "printer", {"url": "usb://04b8:0202"}, None),
        ("printer-s", "printer", {"url": "serial:///dev/ttyUSB0?baudrate=9600"}, None),
        ("led-9", "led", {"driver": "hall-serial", "url": "socket://127.0.0.1:9203", "address": 1}, 3),
        ("pad-9", "pad", {"driver": "hall-serial", "url": "/dev/ttyUSB1", "address": 2}, 3),
        ("kiosk-8", "kiosk", {}, None),
        ("display-9", "display", {}, None),
        ("printer-0", "printer", {}, None),
        ("led-0", "led", {}, 4),
    ]
    for name, kind, config, window in ok:
        r = post(admin, name, kind, config, window)
        assert r.status_code == 201, (name, r.get_json())


def test_the_operator_allows_hosts_in_the_hall_toml(tmp_path: Path, db_path: Path) -> None:
    from app import create_app

    demo = Path(hall_config.DEMO_CONFIG).read_text(encoding="utf-8")
    toml = tmp_path / "hall.toml"
    toml.write_text(demo + '\n[admin_devices]\nallowed_hosts = ["192.168.10.0/24", "printer-7.hall.lan"]\n')
    app = create_app(make_config(db_path, AUTO_MIGRATE=False, HALL_CONFIG=str(toml)))
    try:
        admin = login(app, "admin")
        assert post(admin, "p1", "printer", {"url": "tcp://192.168.10.42:9100"}).status_code == 201
        assert post(admin, "p2", "printer", {"url": "tcp://printer-7.hall.lan:9100"}).status_code == 201
        assert error_code(post(admin, "p3", "printer", {"url": "tcp://192.168.11.1:9100"})) == "device_host_refused"
        assert error_code(post(admin, "p4", "printer", {"url": "file:///dev/usb/lp0"})) == "device_url_refused"
    finally:
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()


def test_host_lists() -> None:
    hosts = HostList(["192.168.1.0/24", "Printer.LAN", "[::1]"])
    assert hosts.allows("127.0.0.1") and hosts.allows("::1") and hosts.allows("localhost")
    assert hosts.allows("192.168.1.60") and hosts.allows("printer.lan")
    assert not hosts.allows("192.168.2.1") and not hosts.allows("evil.example") and not hosts.allows("")
    data = {
        "devices": [
            {"kind": "kiosk", "config": {"printer": {"url": "tcp://10.0.0.5:9100"}}},
            {"kind": "led", "config": {"url": "socket://10.0.0.6:4001"}},
            {"kind": "printer", "config": {"url": "file:///dev/usb/lp0"}},
        ]
    }
    listed = toml_hosts(data)
    assert listed.allows("10.0.0.5") and listed.allows("10.0.0.6") and not listed.allows("10.0.0.7")


def test_every_device_of_the_demo_toml_passes_the_web_policy() -> None:
    from devices.policy import check_config

    data = hall_config.load(None)
    hosts = toml_hosts(data)
    for device in data["devices"]:
        config = dict(device.get("config") or {})
        assert check_config(device["kind"], device["name"], device.get("window"), config, hosts) == config


def test_a_config_is_replaced_under_the_same_rules_and_audited(staff, svc) -> None:
    from hall import audit

    admin = staff("admin")
    assert post(admin, "printer-5", "printer", {}).status_code == 201
    r = admin.put("/api/v1/admin/devices/printer-5", json={"config": {"url": "file:///tmp/slip.bin"}})
    assert r.status_code == 422 and error_code(r) == "device_url_refused"
    r = admin.put("/api/v1/admin/devices/kiosk-1", json={"config": {"printer": {"url": "tcp://evil.example:9100"}}})
    assert r.status_code == 422 and error_code(r) == "device_host_refused"
    r = admin.put("/api/v1/admin/devices/printer-5", json={"config": {"url": "tcp://127.0.0.1:9105"}})
    assert r.status_code == 200 and r.get_json()["device"]["name"] == "printer-5", r.get_json()
    assert admin.put("/api/v1/admin/devices/nope", json={"config": {}}).status_code == 404
    assert staff("manager").put("/api/v1/admin/devices/printer-5", json={"config": {}}).status_code == 403
    rows = audit.search(svc.db, svc.hall_id, action="admin.device.config")
    assert [(row["before"], row["after"]) for row in rows] == [
        ({"config": {}}, {"config": {"url": "tcp://127.0.0.1:9105"}})
    ]


def test_a_malformed_host_list_fails_at_start_up() -> None:
    data = hall_config.load(None)
    data["admin_devices"] = {"allowed_hosts": "192.168.1.0/24"}
    with pytest.raises(hall_config.ConfigError, match="allowed_hosts"):
        hall_config.validate(data, "hall.toml")
