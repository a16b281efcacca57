"""Fixes for what an outside attacker found on the merged product (docs/security.md, "Attack findings")."""

from __future__ import annotations

import re

import pytest

from tests.factories import error_code


def _device(admin, name: str, kind: str, config: dict):
    return admin.post("/api/v1/admin/devices", json={"name": name, "kind": kind, "config": config})


def test_a_device_config_put_needs_a_config(staff) -> None:
    admin = staff("admin")
    assert _device(admin, "printer-5", "printer", {"url": "tcp://127.0.0.1:9105"}).status_code == 201
    r = admin.put("/api/v1/admin/devices/printer-5", json={})
    assert r.status_code == 422, "an empty body wiped the config"
    assert "config" in str(r.get_json()["error"])
    r = admin.put("/api/v1/admin/devices/printer-5", json={"config": {"url": "tcp://127.0.0.1:9106"}})
    assert r.status_code == 200


@pytest.mark.parametrize("url", ["tcp://localhost:22", "tcp://127.0.0.1:6379", "tcp://127.0.0.1:9110"])
def test_printer_urls_only_on_printer_ports(staff, url) -> None:
    r = _device(staff("admin"), "printer-x", "printer", {"url": url})
    assert r.status_code == 422 and error_code(r) == "device_port_refused", r.get_json()
    assert "9100–9109" in r.get_json()["error"]["message"]


def test_printer_url_errors_are_chinese_and_list_what_is_accepted(staff) -> None:
    admin = staff("admin")
    for url in ("gopher://127.0.0.1:70/", "file:///etc/hosts", "http://127.0.0.1:9100"):
        r = _device(admin, "printer-x", "printer", {"url": url})
        message = r.get_json()["error"]["message"]
        assert r.status_code == 422 and error_code(r) == "device_url_refused", r.get_json()
        assert "unknown printer connection" not in message
        assert "tcp://主机:端口、usb://厂商号:产品号、serial:///dev/…" in message
        assert not re.search(r"\b(use|must|unknown)\b", message), message
    r = _device(admin, "printer-x", "printer", {"url": "tcp://127.0.0.1:9100", "width_mm": 100})
    assert r.status_code == 422 and "58 或 80" in r.get_json()["error"]["message"]
    r = admin.post(
        "/api/v1/admin/devices?lang=en",
        json={"name": "printer-x", "kind": "printer", "config": {"url": "gopher://x:1"}},
    )
    message = r.get_json()["error"]["message"]
    assert r.status_code == 422 and "tcp://" in message and not re.search(r"[\u4e00-\u9fff]", message), message


def test_the_printer_ports_are_set_in_the_hall_toml() -> None:
    from devices.policy import toml_hosts
    from hall import config as hall_config

    assert toml_hosts({}).printer_ports == frozenset(range(9100, 9110))
    hosts = toml_hosts({"admin_devices": {"printer_ports": [9200, "9300-9301"]}})
    assert hosts.printer_ports == {9200, 9300, 9301}
    data = hall_config.load(None)
    data["admin_devices"] = {"printer_ports": ["22-"]}
    with pytest.raises(hall_config.ConfigError, match="printer_ports"):
        hall_config.validate(data, "hall.toml")


INVISIBLE_NAMES = ["\u200b", "\u200b\u200c\u200d", "\ufeff", "   ", "\u3000", " \u200b ", "\u2060", "\u3164"]
BIDI_AND_SEPARATORS = ["周\u200f国平", "周\u200e国平", "周\u061c国平", "周\u2028国平", "周\u2029国平"]


@pytest.mark.parametrize("bad", INVISIBLE_NAMES + BIDI_AND_SEPARATORS)
def test_names_that_show_nothing_or_reorder_are_refused(staff, bad) -> None:
    admin = staff("admin")
    r = admin.put("/api/v1/admin/staff/clerk1", json={"display_name": bad})
    assert r.status_code == 422 and "display_name" in str(r.get_json()["error"]), r.get_json()
    assert admin.put("/api/v1/admin/windows/1", json={"name": bad}).status_code == 422
    r = admin.post(
        "/api/v1/admin/items",
        json={"code": "ZZ001", "name": bad, "handling_class": "立办立结", "queue": "A"},
    )
    assert r.status_code == 422 and "'name'" in str(r.get_json()["error"]["details"]), r.get_json()
    assert "handling_class" not in str(r.get_json()["error"]["details"])


def test_a_name_with_a_real_character_and_a_joiner_is_kept(staff) -> None:
    r = staff("admin").put("/api/v1/admin/staff/clerk1", json={"display_name": "周国平"})
    assert r.status_code == 200


@pytest.mark.parametrize("bad", ["password\u200b1", "pass\u202eword1", "password\u00071", "pass\u2028word1"])
def test_passwords_with_control_or_format_characters_are_refused(staff, bad) -> None:
    r = staff("admin").post("/api/v1/admin/staff/clerk1/password", json={"password": bad})
    assert r.status_code == 422, r.get_json()
    assert bad not in r.get_data(as_text=True)


@pytest.mark.parametrize("host", ["127.0.0.1:6666", "localhost:22", "192.168.1.10:8080"])
def test_a_tracking_link_only_on_the_servers_own_port(app, kiosk, host) -> None:
    from tests.factories import item_code

    code = item_code(kiosk)
    r = kiosk.post("/api/v1/tickets", json={"items": [code]}, headers={"Host": host})
    assert r.status_code == 400 and error_code(r) == "untrusted_host", r.get_json()
    body = r.get_data(as_text=True)
    assert "HALL_" not in body and host not in body, "no server settings (nor the host) echoed to the client"
    assert r.get_json()["error"]["message"] == "请求地址不受信任"
    name = host.rsplit(":", 1)[0]
    own = kiosk.post(
        "/api/v1/tickets",
        json={"items": [code]},
        headers={"Host": host},
        environ_overrides={"SERVER_PORT": host.rsplit(":", 1)[1]},
    )
    assert own.status_code == 201 and own.get_json()["ticket"]["track_url"].startswith(f"http://{host}/t/")
    assert name in own.get_json()["ticket"]["track_url"]
    plain = kiosk.post("/api/v1/tickets", json={"items": [code]}, headers={"Host": name})
    assert plain.status_code == 201, "no port: the default port, which the test server listens on"


def test_api_refusals_are_json_even_from_the_http_server(app) -> None:
    import threading

    import requests
    from werkzeug.serving import make_server

    r = app.test_client().options("/api/v1/tickets")
    assert r.status_code == 204 and not r.get_data() and "POST" in r.headers["Allow"]
    assert "text/html" not in r.headers.get("Content-Type", "")
    server = make_server("127.0.0.1", 0, app, threaded=True)  # the real werkzeug server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        long = requests.get(f"http://127.0.0.1:{server.server_port}/api/v1/tickets?q={'x' * 80000}", timeout=10)
    finally:
        server.shutdown()
        thread.join()
    assert long.status_code == 414 and long.headers["Content-Type"].startswith("application/json"), long.text
    assert long.json()["error"]["code"] == "bad_request" and long.json()["error"]["details"]["status"] == 414


@pytest.mark.parametrize(
    "url",
    ["/api/v1/cases?status=bogus", "/api/v1/reviews?status=bogus", "/api/v1/hall/audit?actor=%FF"],
)
def test_unknown_filter_values_are_refused_not_an_empty_list(staff, url) -> None:
    r = staff("manager").get(url)
    assert r.status_code == 422 and error_code(r) == "invalid", (url, r.get_json())


def test_known_filter_values_still_list(staff) -> None:
    manager = staff("manager")
    assert manager.get("/api/v1/cases?status=open").status_code == 200
    assert manager.get("/api/v1/reviews?status=submitted").status_code == 200
    assert manager.get("/api/v1/hall/audit?actor=clerk1").status_code == 200


def test_an_unknown_hall_is_404_for_staff_too(staff, client) -> None:
    r = staff("manager").get("/api/v1/hall/load?hall=nohall")
    assert r.status_code == 404 and error_code(r) == "hall_not_found", r.get_json()
    assert client.get("/api/v1/hall/status?hall=nohall").status_code == 404
    assert staff("manager").get("/api/v1/hall/load?hall=demo").status_code == 200


def test_a_clerk_cancels_only_numbers_of_their_own_windows_queues(kiosk, staff, svc) -> None:
    from hall import audit
    from tests.factories import issue

    special = issue(kiosk, ["RS001"])  # queue R: served at window 8 only
    r = staff("clerk2").post(f"/api/v1/tickets/{special['id']}/cancel", json={})
    assert r.status_code == 403 and error_code(r) == "not_your_queue", r.get_json()
    assert staff("clerk8").post(f"/api/v1/tickets/{special['id']}/cancel", json={}).status_code == 200
    other = issue(kiosk, ["RS002"])
    assert staff("leader").post(f"/api/v1/tickets/{other['id']}/cancel", json={}).status_code == 200
    normal = issue(kiosk)
    assert staff("clerk2").post(f"/api/v1/tickets/{normal['id']}/cancel", json={}).status_code == 200
    actors = [row["actor"] for row in audit.search(svc.db, svc.hall_id, action="ticket.cancel")]
    assert sorted(actors) == ["clerk2", "clerk8", "leader"], actors


def test_bookings_read_back_in_the_halls_local_time(client, staff) -> None:
    from tests.web.test_appointments import MONDAY, at, book

    booked = book(client, at("14:00"))
    slot = (booked.get("booking") or booked)["slot_start"]
    assert slot.endswith("+08:00") and "T14:00" in slot, booked
    listed = staff("clerk1").get("/api/v1/appointments", query_string={"day": MONDAY}).get_json()["bookings"]
    assert [b["slot_start"] for b in listed] == [slot], "the day list said 06:00+00:00"
    assert listed[0]["slot_end"].endswith("+08:00")


def test_the_clerk_confirms_or_downgrades_an_unverified_green_channel_number(app, kiosk, staff, svc) -> None:
    from hall import audit
    from tests.factories import act, issue

    clerk = staff("clerk1")
    early = issue(kiosk)  # a normal number issued before the green-channel claims
    claim = issue(kiosk, ["YB003"], priority="disabled")
    assert claim["priority_verified"] is False, "a self-declared group is 待核验"
    called = act(clerk, 1, "call-next")["ticket"]
    assert called["id"] == claim["id"], "the green channel is called first"
    # The clerk saw no 残疾人证: back to the normal queue, at its issue-time place (behind ``early`` only).
    r = clerk.post("/api/v1/windows/1/priority", json={"verified": False})
    assert r.status_code == 200, r.get_json()
    moved = r.get_json()["ticket"]
    assert moved["status"] == "waiting" and moved["priority"] is None and moved["queue"] != "L", moved
    assert act(clerk, 1, "call-next")["ticket"]["id"] == early["id"]
    act(clerk, 1, "no-show")
    assert act(clerk, 1, "call-next")["ticket"]["id"] == claim["id"], "its place by issue time was kept"
    # Another claim, this time with the document shown: confirmed and marked 已核验.
    act(clerk, 1, "start")
    act(clerk, 1, "complete")
    second = issue(kiosk, ["YB003"], priority="veteran")
    act(clerk, 1, "call-next")
    ok = clerk.post("/api/v1/windows/1/priority", json={"verified": True})
    assert ok.status_code == 200 and ok.get_json()["ticket"]["priority_verified"] is True, ok.get_json()
    assert staff("manager").get(f"/api/v1/tickets/{second['id']}").get_json()["ticket"]["priority_verified"] is True
    assert clerk.post("/api/v1/windows/2/priority", json={"verified": True}).status_code == 403
    rows = {row["action"]: row["actor"] for row in audit.search(svc.db, svc.hall_id, action="ticket.priority")}
    assert rows.get("ticket.priority_downgrade") == "clerk1" and rows.get("ticket.priority_verified") == "clerk1"
