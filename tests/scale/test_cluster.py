"""Two gunicorn processes on one PostgreSQL and one Redis: numbering, call-next, limits and displays across them."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from hall.idcard import make_valid
from tests.scale.conftest import KIOSK, DisplayClient, issue, issue_and_drain, staff

ISSUERS_PER_PROCESS = 3
TICKETS_PER_ISSUER = 30
WINDOWS = (1, 2, 3, 4, 5)


def _items_by_queue(url: str) -> dict[str, list[str]]:
    items = requests.get(f"{url}/api/v1/items", timeout=10).json()["items"]
    out: dict[str, list[str]] = {}
    for it in items:
        if it.get("daily_quota") is None:
            out.setdefault(it["queue"], []).append(it["code"])
    return out


def _post_many(url_cycle: list[str], n: int, body: dict) -> list[requests.Response]:
    """``n`` concurrent POST /tickets spread over the processes, started together."""
    barrier = threading.Barrier(n)

    def one(i: int) -> requests.Response:
        barrier.wait()
        return requests.post(f"{url_cycle[i % len(url_cycle)]}/api/v1/tickets", json=body, headers=KIOSK, timeout=30)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_no_duplicate_number_and_no_double_call_across_processes(cluster) -> None:
    urls = [cluster.a.url, cluster.b.url]
    by_queue = _items_by_queue(cluster.a.url)
    mix = [by_queue["A"][0], by_queue["B"][0], by_queue["A"][1]]
    run = issue_and_drain(urls, WINDOWS, 2 * ISSUERS_PER_PROCESS, TICKETS_PER_ISSUER, mix)
    issued, calls, failures = run.issued, run.calls, run.failures

    if failures:  # say why: the servers' tracebacks, not only the status codes
        logs = "".join(srv.log.read_text(errors="replace")[-4000:] for srv in (cluster.a, cluster.b))
        raise AssertionError("\n".join(failures[:20]) + "\n--- server logs ---\n" + logs)
    assert len(issued) == 2 * ISSUERS_PER_PROCESS * TICKETS_PER_ISSUER
    numbers = Counter(t["number"] for t in issued)
    assert [n for n, c in numbers.items() if c > 1] == []
    called_ids = Counter(i for i, _, _ in calls)
    assert [i for i, c in called_ids.items() if c > 1] == [], "a ticket was called twice"
    assert {t["id"] for t in issued} <= set(called_ids), "the queue was not drained"
    assert len({w for _, _, w in calls}) > 1, "the calls came from several windows"

    with cluster.pg.connect() as conn:
        # Gap-free and unique per queue and day, over every ticket in the database.
        for queue, day, count, distinct, low, high in conn.execute(
            "SELECT queue_code, day, count(*), count(DISTINCT number), min(seq), max(seq) "
            "FROM tickets GROUP BY queue_code, day"
        ):
            assert (count, distinct, low, high) == (count, count, 1, count), (queue, day)
        ids = [t["id"] for t in issued]
        called_twice = conn.execute(
            "SELECT ticket_id FROM periods WHERE state = 'called' AND ticket_id = ANY(%s) "
            "GROUP BY ticket_id HAVING count(*) <> 1",
            (ids,),
        ).fetchall()
        assert called_twice == []
        statuses = Counter(
            s for (s,) in conn.execute("SELECT status FROM tickets WHERE id = ANY(%s)", (ids,)).fetchall()
        )
        assert statuses == {"completed": len(ids)}


def test_the_per_id_daily_limit_holds_across_processes(cluster) -> None:
    limit = 5
    id_number = make_valid("44010619800101123")
    responses = _post_many([cluster.a.url, cluster.b.url], 12, {"items": ["YB001"], "id_number": id_number})
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: limit, 429: 12 - limit}, [r.text[:200] for r in responses if r.status_code not in (201, 429)]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {"id_daily_limit"}


def test_an_item_quota_holds_across_processes(cluster) -> None:
    items = requests.get(f"{cluster.a.url}/api/v1/items", timeout=10).json()["items"]
    limited = next(it for it in items if it.get("daily_quota"))
    quota = limited["quota_left"]
    responses = _post_many([cluster.a.url, cluster.b.url], quota + 20, {"items": [limited["code"]]})
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: quota, 409: 20}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"quota_reached"}


def test_a_call_on_one_process_reaches_a_display_on_the_other(cluster) -> None:
    on_b = DisplayClient(cluster.b.url)
    on_a = DisplayClient(cluster.a.url)
    try:
        on_b.next("snapshot")
        on_a.next("snapshot")
        for caller, display, window in ((cluster.a, on_b, 1), (cluster.b, on_a, 2)):
            clerk = staff(caller.url, f"clerk{window}")
            issue(caller.url, "YB001")
            r = clerk.post(f"{caller.url}/api/v1/windows/{window}/call-next", timeout=10)
            assert r.status_code == 200, r.text
            number = r.json()["ticket"]["number"]  # older waiting tickets of other tests may come first
            call = display.next("called", where=lambda d, n=number: d["number"] == n)
            assert call["window"] == window and call["text"] == f"请{number}号到{window}号窗口办理"
            for action in ("start", "complete"):
                clerk.post(f"{caller.url}/api/v1/windows/{window}/{action}", timeout=10).raise_for_status()
    finally:
        on_a.close()
        on_b.close()
