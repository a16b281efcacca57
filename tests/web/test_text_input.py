"""Text is checked once, at the schema layer: no lone surrogates or control characters get in, no response fails."""

from __future__ import annotations

import json

import marshmallow as ma
import pytest

from hall.api import error_response
from hall.api.schemas import CleanText, Input
from tests.factories import act, elderly_id, error_code, issue

SURROGATE = b'"\\ud800"'  # valid JSON: the escape of a lone UTF-16 surrogate, which UTF-8 cannot carry


def post_raw(client, url: str, body: bytes):
    """POST a JSON body given as bytes (the test client's json= cannot build a lone surrogate escape)."""
    return client.post(url, data=body, content_type="application/json")


def open_case(client, kiosk, clerk) -> int:
    """A 差评 on a ticket served at window 1 opens a follow-up case; returns its id."""
    t = issue(kiosk, priority="elderly", id_number=elderly_id())
    for action in ("call-next", "start", "complete"):
        act(clerk, 1, action)
    token = t["track_url"].rsplit("/", 1)[1]
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token, "score": 1})
    assert r.get_json()["rating"]["case_opened"] is True
    return r.get_json()["rating"]["id"]


def test_a_lone_surrogate_in_a_case_note_is_refused_and_cases_stay_readable(client, kiosk, staff) -> None:
    clerk = staff("clerk1")
    open_case(client, kiosk, clerk)
    manager = staff("manager")
    (case,) = manager.get("/api/v1/cases").get_json()["cases"]
    url = f"/api/v1/cases/{case['id']}/contact"
    r = post_raw(clerk, url, b'{"how":"\xe7\x94\xb5\xe8\xaf\x9d","text":' + SURROGATE + b"}")
    assert r.status_code == 422 and error_code(r) == "invalid"
    assert "text" in r.get_json()["error"]["details"]["json"]
    for who in (manager, clerk):
        listed = who.get("/api/v1/cases")
        assert listed.status_code == 200 and listed.get_json()["cases"][0]["status"] == "open"
    ok = clerk.post(url, json={"how": "电话", "text": "电话回访：\n已致歉并说明\t原因"})
    assert ok.status_code == 200, "a multi-line note keeps its line breaks and tabs"


def test_a_lone_surrogate_in_a_login_name_or_item_code_is_a_422(client, kiosk) -> None:
    r = post_raw(client, "/api/v1/auth/login", b'{"username":' + SURROGATE + b',"password":"x"}')
    assert r.status_code == 422 and error_code(r) == "invalid"
    r = post_raw(kiosk, "/api/v1/tickets", b'{"items":[' + SURROGATE + b"]}")
    assert r.status_code == 422 and error_code(r) == "invalid"
    assert "items" in r.get_json()["error"]["details"]["json"]


@pytest.mark.parametrize("bad", ["clerk\x00", "clerk\n1", "a\x1bb", "\u202eadmin", "x\x7f"])
def test_control_characters_are_refused_in_one_line_fields(client, bad: str) -> None:
    r = client.post("/api/v1/auth/login", json={"username": bad, "password": "demo"})
    assert r.status_code == 422 and error_code(r) == "invalid"


def test_control_characters_are_refused_in_a_multi_line_field_and_in_free_form_dicts(client, kiosk, staff) -> None:
    clerk = staff("clerk1")
    open_case(client, kiosk, clerk)
    (case,) = staff("manager").get("/api/v1/cases").get_json()["cases"]
    r = clerk.post(f"/api/v1/cases/{case['id']}/contact", json={"how": "电话", "text": "回访\x00"})
    assert r.status_code == 422
    admin = staff("admin")
    r = admin.post("/api/v1/admin/devices", json={"name": "p9", "kind": "printer", "config": {"url": "tcp://a\x00b"}})
    assert r.status_code == 422 and error_code(r) == "invalid"


def test_query_strings_are_checked_too(staff) -> None:
    r = staff("manager").get("/api/v1/cases?status=open%00")
    assert r.status_code == 422 and error_code(r) == "invalid"


def _string_fields(field: ma.fields.Field):
    if isinstance(field, ma.fields.List):
        yield from _string_fields(field.inner)
    elif isinstance(field, ma.fields.Nested):
        yield from (f for inner in field.schema.fields.values() for f in _string_fields(inner))
    elif isinstance(field, ma.fields.String | ma.fields.Mapping | ma.fields.Raw):
        yield field


def test_every_text_field_of_every_operation_is_guarded(app) -> None:
    schemas = [
        p["schema"]
        for view in app.view_functions.values()
        for p in (getattr(view, "_apidoc", {}).get("arguments") or {}).get("parameters", [])
    ]
    assert len(schemas) > 40
    unguarded = []
    for schema in schemas:
        assert isinstance(schema, Input), f"{type(schema).__name__} must derive from hall.api.schemas.Input"
        for name, field in schema.fields.items():
            for f in _string_fields(field):
                if not any(isinstance(v, CleanText) for v in f.validators):
                    unguarded.append(f"{type(schema).__name__}.{name}")
    assert unguarded == []


def test_a_response_carrying_a_lone_surrogate_still_encodes(app) -> None:
    # Text stored before the check (or reaching a response another way) must not turn a read into a 500.
    with app.test_request_context("/api/v1/anything"):
        response, status = error_response(404, "unknown_item", "事项不存在: \ud800")
        body = response.get_data()
    assert status == 404
    assert json.loads(body)["error"]["message"] == "事项不存在: \ud800"
    with app.test_request_context("/api/v1/anything"):
        assert json.loads(app.json.response({"n": "窗口"}).get_data()) == {"n": "窗口"}
        assert "窗口".encode() in app.json.response({"n": "窗口"}).get_data(), "Chinese stays UTF-8, not escaped"


def test_a_lone_surrogate_already_stored_does_not_break_the_case_list(client, kiosk, staff, svc) -> None:
    # How the attack got one in: JSON columns are stored with ASCII escapes, so "\ud800" went through the
    # database and came back as a lone surrogate. Such a row must not turn GET /cases into a 500.
    from sqlalchemy import update

    from hall.models import FollowUpCase

    clerk = staff("clerk1")
    open_case(client, kiosk, clerk)
    with svc.db.write() as session:
        session.execute(update(FollowUpCase).values(records=[{"kind": "contact", "how": "电话", "text": "\ud800"}]))
    for who in ("manager", "clerk1"):
        r = staff(who).get("/api/v1/cases")
        assert r.status_code == 200
        assert json.loads(r.get_data())["cases"][0]["records"][0]["text"] == "\ud800"


def test_a_socket_hall_code_follows_the_same_text_rules(app) -> None:
    socketio = app.extensions["hall.socketio"]
    bad = socketio.test_client(app, namespace="/display", auth={"hall": "\ud800"})
    assert not bad.is_connected("/display")
    good = socketio.test_client(app, namespace="/display", auth={"hall": "demo"})
    assert good.is_connected("/display")


def test_a_page_with_a_lone_surrogate_still_renders(app) -> None:
    from flask import render_template_string

    @app.get("/_page")
    def page() -> str:
        return render_template_string("<p>{{ name }}</p>", name="窗口\ud800")

    r = app.test_client().get("/_page")
    assert r.status_code == 200 and r.get_data().decode() == "<p>窗口?</p>"
