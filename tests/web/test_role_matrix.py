"""Role × action matrix: every /api/v1 endpoint against every kind of caller, including another hall's manager.

Allowed callers must never get 401/403; everyone else must. A new endpoint fails
``test_every_endpoint_is_classified`` until it is added to MATRIX below.
"""

from __future__ import annotations

import copy

import pytest

from hall import config as hall_config
from tests.conftest import login
from tests.factories import issue

ANON, KIOSK, DISPLAY, RATER = "anonymous", "kiosk", "display", "rater"
CLERK, OTHER_CLERK, LEADER, MANAGER, ADMIN, FOREIGN = (
    "clerk (this window)",
    "clerk (other window)",
    "leader",
    "manager",
    "admin",
    "other hall's manager",
)
EVERYONE = {ANON, KIOSK, DISPLAY, RATER, CLERK, OTHER_CLERK, LEADER, MANAGER, ADMIN, FOREIGN}
STAFF = {CLERK, OTHER_CLERK, LEADER, MANAGER, ADMIN}
SUPERVISORS = {LEADER, MANAGER, ADMIN}
WINDOW_1 = {CLERK, LEADER, MANAGER, ADMIN}  # window moves: the clerk of that window or a supervisor

# (method, rule, endpoint-specific body) → who may. "{w}" is window 1, "{t}" a ticket of this hall.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("POST", "/api/v1/auth/login"): EVERYONE,
    ("POST", "/api/v1/auth/logout"): EVERYONE,
    ("GET", "/api/v1/auth/me"): STAFF,
    ("GET", "/api/v1/items"): EVERYONE,
    ("GET", "/api/v1/hall/status"): EVERYONE,
    ("GET", "/api/v1/hall/load"): STAFF | {DISPLAY},
    ("GET", "/api/v1/hall/alerts"): SUPERVISORS,
    ("GET", "/api/v1/hall/devices"): SUPERVISORS,
    ("POST", "/api/v1/hall/devices/check"): SUPERVISORS,
    ("GET", "/api/v1/hall/devices/mine"): {KIOSK},  # its own printer, before a citizen takes a number
    ("GET", "/api/v1/hall/stats"): SUPERVISORS,
    ("GET", "/api/v1/hall/tidal"): STAFF,
    ("POST", "/api/v1/hall/tidal"): SUPERVISORS,
    ("POST", "/api/v1/hall/alerts/{alert}/ack"): {LEADER, MANAGER},
    ("GET", "/api/v1/hall/audit"): {MANAGER, ADMIN},
    ("POST", "/api/v1/hall/devices/{name}/token"): {ADMIN},
    ("POST", "/api/v1/tickets"): {KIOSK} | STAFF,
    ("POST", "/api/v1/tickets/priority-check"): {KIOSK} | STAFF,
    ("GET", "/api/v1/tickets/{t}"): STAFF,
    ("POST", "/api/v1/tickets/{t}/cancel"): STAFF,
    ("POST", "/api/v1/tickets/{t}/print"): {KIOSK},
    ("POST", "/api/v1/tickets/{t}/reprint"): STAFF,
    ("POST", "/api/v1/tickets/{t}/return"): STAFF,
    ("POST", "/api/v1/tickets/{t}/unpark"): STAFF,
    ("POST", "/api/v1/tickets/{t}/rating"): EVERYONE,  # the citizen proves it with the ticket secret
    ("GET", "/api/v1/windows/{w}"): STAFF,
    ("GET", "/api/v1/windows/{w}/rating"): {RATER},
    ("GET", "/api/v1/windows/{w}/next"): STAFF,
    ("POST", "/api/v1/windows/{w}/call-ticket"): WINDOW_1,
    ("POST", "/api/v1/windows/{w}/presence"): WINDOW_1,
    ("DELETE", "/api/v1/windows/{w}/presence"): WINDOW_1,
    ("POST", "/api/v1/windows/{w}/rating"): {RATER},
    ("GET", "/api/v1/appointments/slots"): EVERYONE,
    ("POST", "/api/v1/appointments"): EVERYONE,
    ("GET", "/api/v1/appointments"): STAFF,
    ("POST", "/api/v1/appointments/{code}/cancel"): STAFF,
    ("POST", "/api/v1/appointments/{code}/check-in"): {KIOSK} | STAFF,
    ("GET", "/api/v1/roster"): STAFF,
    ("PUT", "/api/v1/roster"): {MANAGER, ADMIN},
    ("GET", "/api/v1/roster/today"): STAFF,
    ("GET", "/api/v1/day-reports"): SUPERVISORS,
    ("GET", "/api/v1/operations/runs"): SUPERVISORS,
    ("GET", "/api/v1/cases"): STAFF,
    ("POST", "/api/v1/cases/{case}/close"): SUPERVISORS,
    ("GET", "/api/v1/ratings/mine"): STAFF,
    ("GET", "/api/v1/ratings/summary"): SUPERVISORS,
    ("GET", "/api/v1/reports"): SUPERVISORS,
    ("GET", "/api/v1/reports/export"): SUPERVISORS,
    ("GET", "/api/v1/reports/hourly"): SUPERVISORS,
    ("GET", "/api/v1/dashboard"): SUPERVISORS,
    ("GET", "/api/v1/city/overview"): SUPERVISORS,
    ("GET", "/api/v1/reviews"): STAFF,
    ("POST", "/api/v1/reviews"): STAFF,
    # 系统管理 (tests/web/test_admin.py): the admin only; "{code}"/"{name}" resolve to nothing of theirs → 404
    ("GET", "/api/v1/admin/items"): {ADMIN},
    ("POST", "/api/v1/admin/items"): {ADMIN},
    ("PUT", "/api/v1/admin/items/{code}"): {ADMIN},
    ("POST", "/api/v1/admin/items/{code}/deactivate"): {ADMIN},
    ("GET", "/api/v1/admin/windows"): {ADMIN},
    ("POST", "/api/v1/admin/windows"): {ADMIN},
    ("PUT", "/api/v1/admin/windows/{w}"): {ADMIN},
    ("GET", "/api/v1/admin/staff"): {ADMIN},
    ("POST", "/api/v1/admin/staff"): {ADMIN},
    ("PUT", "/api/v1/admin/staff/{name}"): {ADMIN},
    ("POST", "/api/v1/admin/staff/{name}/password"): {ADMIN},
    ("GET", "/api/v1/admin/devices"): {ADMIN},
    ("POST", "/api/v1/admin/devices"): {ADMIN},
    ("POST", "/api/v1/admin/devices/{name}/deactivate"): {ADMIN},
    ("POST", "/api/v1/admin/devices/{name}/token"): {ADMIN},
    ("POST", "/api/v1/admin/devices/{name}/activate"): {ADMIN},
    ("PUT", "/api/v1/admin/devices/{name}"): {ADMIN},
    ("GET", "/api/v1/admin/notices"): {ADMIN},
    ("PUT", "/api/v1/admin/notices"): {ADMIN},
    ("GET", "/api/v1/admin/hours"): {ADMIN},
    ("PUT", "/api/v1/admin/hours"): {ADMIN},
    ("GET", "/api/v1/admin/settings"): {ADMIN},
    ("PUT", "/api/v1/admin/settings"): {ADMIN},
    (
        "POST",
        "/api/v1/reviews/{review}/close",
    ): STAFF,  # whose step it is is checked per case (tests/web/test_reviews.py)
}
for action in (
    "call-next",
    "recall",
    "no-show",
    "start",
    "complete",
    "transfer",
    "priority",
    "park",
    "resume",
    "pause",
    "open",
    "close",
):
    MATRIX[("POST", f"/api/v1/windows/{{w}}/{action}")] = WINDOW_1

# Another hall's manager acts in their own hall like our manager does, but a ticket, booking or case of this
# hall is out of reach for them: refused or not found (its existence is not revealed).
RESOURCE_MARKERS = ("{t}", "{code}", "{case}", "{review}", "{alert}")


def _rule_key(method: str, rule: str) -> tuple[str, str]:
    out = rule
    for a, b in (
        ("<int(max=9999):number>", "{w}"),
        ("<int(max=2147483647):ticket_id>", "{t}"),
        ("<code>", "{code}"),
        ("<name>", "{name}"),
        ("<int(max=2147483647):case_id>", "{case}"),
        ("<int(max=2147483647):review_id>", "{review}"),
        ("<int(max=2147483647):alert_id>", "{alert}"),
        ("<action>", "close"),
    ):
        out = out.replace(a, b)
    return method, out


def test_every_endpoint_is_classified(app) -> None:
    rules = {
        _rule_key(m, r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(rules - set(MATRIX))
    assert not missing, f"classify these in tests/web/test_role_matrix.py: {missing}"


@pytest.fixture
def callers(app, svc):
    """A client per caller kind; the foreign manager belongs to a second hall in the same database."""
    other = copy.deepcopy(hall_config.load(None))
    other["hall"]["code"], other["hall"]["name"] = "other", "邻县医疗保障服务大厅"
    for s in other["staff"]:
        s["username"] = "o-" + s["username"]
    for d in other["devices"]:
        d["token"] = "other-" + d["token"]
    hall_config.seed(svc.db, other, svc.passwords)

    def device(token: str):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return c

    return {
        ANON: app.test_client(),
        KIOSK: device("demo-kiosk-1"),
        DISPLAY: device("demo-hall-display"),
        RATER: device("demo-rate-1"),
        CLERK: login(app, "clerk1"),
        OTHER_CLERK: login(app, "clerk2"),
        LEADER: login(app, "leader"),
        MANAGER: login(app, "manager"),
        ADMIN: login(app, "admin"),
        FOREIGN: login(app, "o-manager"),
    }


def test_role_matrix(app, svc, kiosk, callers) -> None:
    ticket = issue(kiosk)
    code = (
        callers[ANON]
        .post(
            "/api/v1/appointments",
            json={"item": "YB001", "slot_start": "2026-11-24T10:00:00+08:00", "id_number": "110101195001011239"},
        )
        .get_json()["booking"]["code"]
    )
    values = {
        "{w}": "1",
        "{t}": str(ticket["id"]),
        "{code}": code,
        "{case}": "1",
        "{name}": "kiosk-2",
        "{review}": "1",
        "{alert}": str(svc.alerts.raise_alert(svc.hall_id, "test", "test", "测试")),
    }
    failures = []
    for (method, template), allowed in sorted(MATRIX.items()):
        path = template
        for k, v in values.items():
            path = path.replace(k, v)
        if path.endswith("/slots"):
            path += "?item=YB001&day=2026-11-24"
        if path == "/api/v1/appointments" and method == "GET":
            path += "?day=2026-11-24"
        for who, client in callers.items():
            if path.endswith("/auth/logout") or path.endswith("/auth/login"):
                continue  # logging in and out changes the caller; covered in test_auth_and_errors
            r = client.open(path, method=method, json={} if method == "POST" else None)
            expected = allowed
            if who == FOREIGN and allowed is not EVERYONE:
                expected = (
                    set()
                    if any(m in template for m in RESOURCE_MARKERS)
                    else allowed | ({FOREIGN} if MANAGER in allowed else set())
                )
            refused = r.status_code in (401, 403) or (who == FOREIGN and r.status_code == 404)
            if template.endswith("/appointments/{code}/cancel") and r.status_code == 404:
                refused = True  # a citizen without the right ID learns nothing: the answer of an unknown code
            if (who in expected) == refused:
                failures.append(f"{method} {template} as {who}: {r.status_code} {r.get_json()}")
    assert not failures, "\n".join(failures)


def test_sockets_are_authorised_per_namespace(app, callers) -> None:
    sio = app.extensions["hall.socketio"]
    for who, client in callers.items():
        if who in (KIOSK, DISPLAY, RATER):
            continue  # devices use the public /display namespace with the hall code
        for namespace, allowed in (
            ("/display", EVERYONE),
            ("/counter", STAFF | {FOREIGN}),
            ("/manager", SUPERVISORS | {FOREIGN}),
        ):
            sc = sio.test_client(app, namespace=namespace, flask_test_client=client)
            assert sc.is_connected(namespace) == (who in allowed), (who, namespace)
            if sc.is_connected(namespace):
                sc.disconnect(namespace)
