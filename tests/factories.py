"""Small helpers that build hall situations through the public API (the "actions" of the Flask tutorial)."""

from __future__ import annotations

from typing import Any

from hall.idcard import make_valid


def items(client: Any) -> list[dict]:
    """The catalogue."""
    r = client.get("/api/v1/items")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def item_code(client: Any, *, queue: str = "A", department: str | None = None, index: int = 0) -> str:
    """The code of an item in a given queue (and department)."""
    matches = [
        i["code"]
        for i in items(client)
        if i["queue"] == queue and (department is None or i["department"] == department)
    ]
    assert len(matches) > index, f"no item #{index} in queue {queue}"
    return matches[index]


def issue(kiosk: Any, codes: list[str] | None = None, expect: int = 201, **body: Any) -> dict:
    """Take a ticket through the kiosk API; returns the ticket (or the error body when expect != 201)."""
    if codes is None:
        codes = [item_code(kiosk)]
    r = kiosk.post("/api/v1/tickets", json={"items": codes, **body})
    assert r.status_code == expect, (r.status_code, r.get_json())
    data = r.get_json()
    return data["ticket"] if expect == 201 else data


def act(client: Any, window: int, action: str, expect: int = 200, **body: Any) -> dict | None:
    """POST a window action and check the status code."""
    r = client.post(f"/api/v1/windows/{window}/{action}", json=body if body else None)
    assert r.status_code == expect, (action, r.status_code, r.get_json())
    return r.get_json() if r.status_code != 204 else None


def elderly_id(birth_year: int = 1950) -> str:
    """A checksum-valid 身份证 number of someone born on 1 January ``birth_year``."""
    return make_valid(f"110101{birth_year}0101123")


def error_code(response: Any) -> str:
    """The ``error.code`` of an error response (asserting the standard shape)."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]["code"]
