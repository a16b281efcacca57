"""Racing threads on a real SQLite file: numbers are unique and gap-free, no ticket is ever called twice."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from hall.engine import Actor
from hall.models import NumberCounter, Period, Ticket


def test_16_threads_issue_2000_gap_free_unique_numbers(svc) -> None:
    kiosk = Actor(name="kiosk-1", role="kiosk", hall_id=svc.hall_id)
    codes = [i["code"] for i in svc.engine.items(svc.hall_id) if i["queue"] == "A"][:3]
    start = threading.Barrier(16)

    def worker(n: int) -> list[str]:
        start.wait()
        return [svc.engine.issue(kiosk, svc.hall_id, [codes[(n + k) % len(codes)]])["number"] for k in range(125)]

    with ThreadPoolExecutor(16) as pool:
        numbers = [num for chunk in pool.map(worker, range(16)) for num in chunk]
    assert len(numbers) == 2000
    assert len(set(numbers)) == 2000, [n for n, c in Counter(numbers).items() if c > 1][:5]
    assert sorted(numbers, key=lambda n: int(n[1:])) == [f"A{i:03d}" if i < 1000 else f"A{i}" for i in range(1, 2001)]
    with svc.db.read() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 2000
        assert s.scalar(select(NumberCounter.last_no)) == 2000


def test_two_windows_racing_call_next_1000_times_never_share_a_ticket(svc) -> None:
    kiosk = Actor(name="kiosk-1", role="kiosk", hall_id=svc.hall_id)
    code = next(i["code"] for i in svc.engine.items(svc.hall_id) if i["queue"] == "A")
    for _ in range(1000):
        svc.engine.issue(kiosk, svc.hall_id, [code])
    clerks = {n: Actor(name=f"clerk{n}", role="clerk", hall_id=svc.hall_id, window_number=n) for n in (1, 2)}
    start = threading.Barrier(2)

    def window(n: int) -> list[int]:
        got: list[int] = []
        start.wait()
        while True:
            ticket = svc.engine.call_next(clerks[n], svc.hall_id, n)
            if ticket is None:
                return got
            got.append(ticket["id"])
            svc.engine.start(clerks[n], svc.hall_id, n)
            svc.engine.complete(clerks[n], svc.hall_id, n)

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(window, (1, 2))
    assert len(a) + len(b) == 1000
    assert not set(a) & set(b)
    assert len(set(a)) == len(a) and len(set(b)) == len(b)
    assert a and b, "both windows got work"
    with svc.db.read() as s:
        calls = s.execute(
            select(Period.ticket_id, func.count()).where(Period.state == "called").group_by(Period.ticket_id)
        ).all()
        assert len(calls) == 1000 and all(n == 1 for _, n in calls)
        assert s.scalar(select(func.count(Ticket.id)).where(Ticket.status == "completed")) == 1000


def test_many_windows_racing_on_few_tickets(svc) -> None:
    kiosk = Actor(name="kiosk-1", role="kiosk", hall_id=svc.hall_id)
    code = next(i["code"] for i in svc.engine.items(svc.hall_id) if i["queue"] == "A")
    manager = Actor(name="manager", role="manager", hall_id=svc.hall_id)
    for round_ in range(20):
        for _ in range(3):
            svc.engine.issue(kiosk, svc.hall_id, [code])
        start = threading.Barrier(5)

        def one(n: int, start: threading.Barrier = start) -> tuple[int, int | None]:
            start.wait()
            t = svc.engine.call_next(manager, svc.hall_id, n)
            return n, (t["id"] if t else None)

        with ThreadPoolExecutor(5) as pool:
            got = [(n, x) for n, x in pool.map(one, (1, 2, 3, 4, 5)) if x is not None]
        ids = [x for _, x in got]
        assert len(ids) == 3 and len(set(ids)) == 3, (round_, got)
        for n, _ in got:
            svc.engine.start(manager, svc.hall_id, n)
            svc.engine.complete(manager, svc.hall_id, n)
