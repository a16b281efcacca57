"""Citizens' secrets stay with citizens (issue 15, items 6, 7, 13 and the Host/channel points of 15).

The ticket's tracking secret (``track_url``) lets its holder follow, cancel and rate the ticket as the citizen:
only the issuing kiosk and the citizen may hold it; staff and other kiosks never receive it.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from devices.emulators import PrinterEmulator
from hall.models import Ticket
from tests.conftest import login
from tests.devices.escpos_decode import decode
from tests.factories import act, error_code, issue, item_code
from tests.web.test_printing import set_printer


def token_of(ticket: dict) -> str:
    return ticket["track_url"].rsplit("/", 1)[1]


def device(app, token: str):
    """A test client authenticated with a device token."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return c


def served(kiosk, clerk, window: int = 1) -> dict:
    """A kiosk ticket completed at ``window``."""
    t = issue(kiosk)
    act(clerk, window, "call-next")
    act(clerk, window, "start")
    act(clerk, window, "complete")
    return t


def no_secret(body: object, token: str) -> None:
    """Neither the tracking URL nor the raw secret anywhere in a JSON body."""
    text = json.dumps(body, ensure_ascii=False)
    assert "track_url" not in text and "track_token" not in text and token not in text, text


# --- item 6: staff never receive the secret -----------------------------------------------------------


def test_staff_views_of_a_ticket_carry_no_secret(kiosk, staff) -> None:
    t = issue(kiosk)
    token = token_of(t)
    for role in ("clerk1", "leader", "manager", "admin"):
        r = staff(role).get(f"/api/v1/tickets/{t['id']}")
        assert r.status_code == 200, r.get_json()
        no_secret(r.get_json(), token)
    clerk = staff("clerk1")
    called = act(clerk, 1, "call-next")
    no_secret(called, token)
    no_secret(clerk.get("/api/v1/windows").get_json(), token)
    no_secret(act(clerk, 1, "start"), token)
    no_secret(act(clerk, 1, "complete"), token)
    # The citizen still gets the link back with the secret they hold.
    mine = kiosk.application.test_client().get(f"/api/v1/tickets/{t['id']}?token={token}").get_json()
    assert mine["ticket"]["track_url"] == t["track_url"]


def test_a_ticket_issued_at_the_desk_gives_staff_no_secret(staff) -> None:
    clerk = staff("clerk1")
    r = clerk.post("/api/v1/tickets", json={"items": [item_code(clerk)], "channel": "guide"})
    assert r.status_code == 201, r.get_json()
    assert "track_url" not in r.get_json()["ticket"]


def test_guide_desk_reprint_prints_the_qr_but_does_not_answer_it(app, kiosk, staff, svc) -> None:
    with PrinterEmulator() as emu:
        set_printer(svc, "guide-printer", emu.url)
        t = issue(kiosk)
        r = staff("leader").post(f"/api/v1/tickets/{t['id']}/reprint", json={})
        assert r.status_code == 200 and r.get_json()["printed"] is True, r.get_json()
        no_secret(r.get_json(), token_of(t))
        assert ("qr_store", t["track_url"]) in decode(emu.wait_for_jobs(1)[0]), "the citizen's slip keeps its QR"


def test_staff_cannot_rate_even_with_a_tickets_secret(app, kiosk, staff) -> None:
    clerk1 = staff("clerk1")
    t = served(kiosk, clerk1)
    body = {"token": token_of(t), "score": 5}
    own = clerk1.post(f"/api/v1/tickets/{t['id']}/rating", json=body)
    assert own.status_code == 403 and error_code(own) == "forbidden_role"
    other = login(app, "clerk3").post(f"/api/v1/tickets/{t['id']}/rating", json={**body, "score": 1})
    assert other.status_code == 403 and error_code(other) == "forbidden_role"
    # The citizen's own phone (no session) still rates.
    assert app.test_client().post(f"/api/v1/tickets/{t['id']}/rating", json=body).status_code == 201


# --- item 7: a kiosk prints only its own tickets -------------------------------------------------------


def test_a_kiosk_cannot_print_another_kiosks_ticket(app, kiosk, svc) -> None:
    set_printer(svc, "kiosk-1", None)
    set_printer(svc, "kiosk-2", None)
    t = issue(kiosk)
    other = device(app, "demo-kiosk-2").post(f"/api/v1/tickets/{t['id']}/print")
    assert other.status_code == 404 and error_code(other) == "ticket_not_found"
    assert token_of(t) not in other.get_data(as_text=True)
    own = kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    assert own.status_code == 200, own.get_json()
    assert own.get_json()["ticket"]["track_url"] == t["track_url"], "the issuing kiosk shows the QR on screen"
    with svc.db.read() as session:
        assert session.scalar(select(Ticket.issuer).where(Ticket.id == t["id"])) == "kiosk-1"


def test_a_kiosk_cannot_print_a_desk_ticket(app, kiosk, staff, svc) -> None:
    clerk = staff("clerk1")
    r = clerk.post("/api/v1/tickets", json={"items": [item_code(clerk)], "channel": "guide"})
    assert kiosk.post(f"/api/v1/tickets/{r.get_json()['ticket']['id']}/print").status_code == 404


# --- item 13: the window's tablet rates only what its window just completed ----------------------------


def test_window_tablet_cannot_rate_old_tickets(app, kiosk, staff, clock) -> None:
    clerk = staff("clerk1")
    tablet = device(app, "demo-rate-1")
    old = served(kiosk, clerk)
    clock.advance(minutes=20)
    r = tablet.post(f"/api/v1/tickets/{old['id']}/rating", json={"score": 1})
    assert r.status_code == 409 and error_code(r) == "not_just_completed", r.get_json()
    assert r.get_json()["error"]["details"] == {"window_minutes": 10}


def test_window_tablet_rates_only_the_last_completed_item(app, kiosk, staff, clock) -> None:
    clerk = staff("clerk1")
    tablet = device(app, "demo-rate-1")
    first = served(kiosk, clerk)
    clock.advance(minutes=1)
    last = served(kiosk, clerk)
    r = tablet.post(f"/api/v1/tickets/{first['id']}/rating", json={"score": 1})
    assert r.status_code == 409 and error_code(r) == "not_just_completed"
    ok = tablet.post(f"/api/v1/tickets/{last['id']}/rating", json={"score": 5})
    assert ok.status_code == 201, ok.get_json()


# --- item 15: the Host header, the kiosk's channel -------------------------------------------------------


def test_an_untrusted_host_gets_no_tracking_link(app, kiosk, svc) -> None:
    code = item_code(kiosk)
    r = kiosk.post("/api/v1/tickets", json={"items": [code]}, headers={"Host": "evil.example"})
    assert r.status_code == 400 and error_code(r) == "untrusted_host", r.get_json()
    with svc.db.read() as session:
        assert session.scalar(select(Ticket.id)) is None, "refused before a number is taken"
    lan = kiosk.post(
        "/api/v1/tickets",
        json={"items": [code]},
        headers={"Host": "192.168.1.10:5000"},
        environ_overrides={"SERVER_PORT": "5000"},  # the port the server listens on
    )
    assert lan.status_code == 201 and lan.get_json()["ticket"]["track_url"].startswith("http://192.168.1.10:5000/t/")


@pytest.mark.parametrize(
    ("config", "host", "expect"),
    [
        ({"PUBLIC_URL": "https://hall.example.gov.cn/"}, "evil.example", "https://hall.example.gov.cn/t/"),
        ({"TRUSTED_HOSTS": ["hall.local", "localhost"]}, "hall.local", "http://hall.local/t/"),
        ({"TRUSTED_HOSTS": ["hall.local", "localhost"]}, "10.0.0.9", None),
    ],
)
def test_tracking_links_follow_the_configuration(app, kiosk, config, host, expect) -> None:
    app.config.update(config)
    r = kiosk.post("/api/v1/tickets", json={"items": [item_code(kiosk)]}, headers={"Host": host})
    if expect is None:  # Flask refuses a host outside HALL_TRUSTED_HOSTS before any view runs
        assert r.status_code == 400 and error_code(r) == "bad_request"
    else:
        assert r.status_code == 201 and r.get_json()["ticket"]["track_url"].startswith(expect)


def test_a_kiosk_issues_kiosk_tickets_only(kiosk, staff) -> None:
    r = kiosk.post("/api/v1/tickets", json={"items": [item_code(kiosk)], "channel": "guide"})
    assert r.status_code == 403 and error_code(r) == "bad_channel", r.get_json()
    assert issue(kiosk, channel="kiosk")["channel"] == "kiosk"
    clerk = staff("clerk1")
    desk = clerk.post("/api/v1/tickets", json={"items": [item_code(clerk)], "channel": "guide"})
    assert desk.get_json()["ticket"]["channel"] == "guide"


def test_the_kiosk_screens_qr_refuses_an_untrusted_host(app, kiosk) -> None:
    t = issue(kiosk)
    url = f"/t/{token_of(t)}/qr.svg"
    assert app.test_client().get(url, headers={"Host": "evil.example"}).status_code == 400
    ok = app.test_client().get(url, headers={"Host": "192.168.1.10:5000"}, environ_overrides={"SERVER_PORT": "5000"})
    assert ok.status_code == 200


def test_the_citizens_page_keeps_working_through_an_untrusted_host(app, kiosk) -> None:
    t = issue(kiosk)
    r = app.test_client().get(f"/api/v1/tickets/{t['id']}?token={token_of(t)}", headers={"Host": "hall.local"})
    assert r.status_code == 200 and "track_url" not in r.get_json()["ticket"]


def test_a_desk_check_in_gives_staff_no_secret_and_a_kiosk_check_in_does(client, kiosk, staff, clock) -> None:
    from tests.web.test_appointments import at, book

    desk_code = book(client, at("09:30"), who=1)["booking"]["code"]
    kiosk_code = book(client, at("09:30"), who=2)["booking"]["code"]
    clock.advance(minutes=20)  # 09:20: inside the check-in window
    desk = staff("clerk1").post(f"/api/v1/appointments/{desk_code}/check-in")
    assert desk.status_code == 201, desk.get_json()
    assert "track_url" not in desk.get_json()["ticket"]
    own = kiosk.post(f"/api/v1/appointments/{kiosk_code}/check-in")
    assert own.status_code == 201 and "/t/" in own.get_json()["ticket"]["track_url"]
    assert kiosk.post(f"/api/v1/tickets/{own.get_json()['ticket']['id']}/print").status_code == 200
