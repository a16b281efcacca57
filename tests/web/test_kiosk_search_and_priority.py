"""Issue 14 (kiosk, phone page) through the API: item keywords and pinyin initials, the green-channel ID check
before the item, 待核验 tickets, and which 办件 of a ticket were rated."""

from __future__ import annotations

from hall.pinyin import initials
from tests.conftest import login
from tests.factories import act, elderly_id, error_code, issue


def test_pinyin_initials_keep_latin_and_drop_punctuation() -> None:
    assert initials("社会保障卡补换") == "shbzkbh"
    assert initials('"两病"（高血压、糖尿病）用药认定') == "lbgxytnbyyrd"
    assert initials("长期照护保险") == "cqzhbx"  # 长期 reads cháng, not zhǎng
    assert initials("A1 医保") == "a1yb"


def test_items_carry_keywords_and_initials(client) -> None:
    items = {i["code"]: i for i in client.get("/api/v1/items").get_json()["items"]}
    card = next(i for i in items.values() if i["name"] == "社会保障卡补换")
    assert {"医保卡", "社保卡"} <= set(card["keywords"])
    assert card["initials"][0] == "shbzkbh"
    assert "ybk" in card["initials"] and "sbk" in card["initials"]


def test_admin_edits_an_items_keywords(app, client) -> None:
    admin = login(app, "admin")
    r = admin.put("/api/v1/admin/items/YB001", json={"keywords": ["新农合", " ", "居民医保 "]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["item"]["keywords"] == ["新农合", "居民医保"]
    item = next(i for i in client.get("/api/v1/items").get_json()["items"] if i["code"] == "YB001")
    assert item["keywords"] == ["新农合", "居民医保"]
    bad = admin.put("/api/v1/admin/items/YB001", json={"keywords": "医保卡"})
    assert bad.status_code == 422


def test_priority_check_before_the_item(kiosk, client) -> None:
    ok = kiosk.post("/api/v1/tickets/priority-check", json={"priority": "elderly", "id_number": elderly_id(1950)})
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["verified"] is True and body["priority"] == "elderly"
    assert body["id_masked"].startswith(elderly_id(1950)[:4]) and "*" in body["id_masked"]
    young = kiosk.post("/api/v1/tickets/priority-check", json={"priority": "elderly", "id_number": elderly_id(1990)})
    assert young.status_code == 422 and error_code(young) == "not_elderly"
    bad = kiosk.post("/api/v1/tickets/priority-check", json={"priority": "elderly", "id_number": "110101195001011230"})
    assert bad.status_code == 422 and error_code(bad).startswith("id_")
    group = kiosk.post("/api/v1/tickets/priority-check", json={"priority": "nobody", "id_number": elderly_id()})
    assert group.status_code == 422
    anonymous = client.post("/api/v1/tickets/priority-check", json={"priority": "elderly", "id_number": elderly_id()})
    assert anonymous.status_code == 401


def test_green_channel_without_id_is_to_be_verified(kiosk, staff) -> None:
    skipped = issue(kiosk, priority="elderly")
    assert skipped["priority_verified"] is False
    checked = issue(kiosk, priority="elderly", id_number=elderly_id(1950))
    assert checked["priority_verified"] is True
    assert issue(kiosk)["priority_verified"] is None
    assert issue(kiosk, priority="veteran")["priority_verified"] is False  # 退役军人证 is shown at the window
    clerk = staff("clerk1")
    view = clerk.get(f"/api/v1/tickets/{skipped['id']}").get_json()["ticket"]
    assert view["priority"] == "elderly" and view["priority_verified"] is False


def test_ticket_view_says_which_items_were_rated(client, kiosk, staff) -> None:
    t = issue(kiosk)
    token = t["track_url"].rsplit("/", 1)[1]
    clerk = staff("clerk1")
    for action in ("call-next", "start", "complete"):
        act(clerk, 1, action)
    url = f"/api/v1/tickets/{t['id']}?token={token}"
    assert [i["rated"] for i in client.get(url).get_json()["ticket"]["items"]] == [False]
    r = client.post(f"/api/v1/tickets/{t['id']}/rating", json={"token": token, "score": 5})
    assert r.status_code == 201
    assert [i["rated"] for i in client.get(url).get_json()["ticket"]["items"]] == [True]


def test_kiosk_idle_reset_is_a_setting(app, client) -> None:
    assert "idle: 60," in client.get("/kiosk").get_data(as_text=True)  # the default: 60 s
    admin = login(app, "admin")
    r = admin.put("/api/v1/admin/settings", json={"kiosk": {"idle_seconds": 90, "idle_warning_seconds": 15}})
    assert r.status_code == 200 and r.get_json()["kiosk"] == {"idle_seconds": 90, "idle_warning_seconds": 15}
    page = client.get("/kiosk").get_data(as_text=True)
    assert "idle: 90," in page and "idleWarning: 15," in page
    bad = admin.put("/api/v1/admin/settings", json={"kiosk": {"idle_seconds": 10, "idle_warning_seconds": 12}})
    assert bad.status_code == 422
    assert admin.put("/api/v1/admin/settings", json={"kiosk": {"idle_seconds": 1}}).status_code == 422


def test_the_slip_of_a_ticket_to_be_verified_says_so(kiosk) -> None:
    from kiosk.receipt import Text, build_receipt

    def slip(ticket: dict) -> str:
        return "".join(b.text.strip() for b in build_receipt(ticket, hall_name="大厅") if isinstance(b, Text))

    skipped = slip(issue(kiosk, priority="elderly"))
    assert "绿色通道" in skipped and "待核验" in skipped
    assert "待核验" not in slip(issue(kiosk, priority="elderly", id_number=elderly_id(1950)))
