"""The per-hall periodic check thread: runs every hall, survives a failing check, stops."""

from __future__ import annotations

import threading

from hall.errors import NotFound
from hall.ticker import Ticker


def test_ticker_checks_every_hall_and_survives_errors() -> None:
    seen: list[int] = []
    done = threading.Event()

    def check(hall_id: int) -> None:
        seen.append(hall_id)
        if hall_id == 2 and seen.count(2) == 1:
            raise NotFound("gone", code="hall_not_found")
        if hall_id == 3 and seen.count(3) == 1:
            raise RuntimeError("a printer library bug")
        if seen.count(1) >= 3:
            done.set()

    ticker = Ticker("test", check, [1, 2, 3], interval=0.01).start()
    assert done.wait(5), "kept ticking after the failures"
    ticker.stop()
    after = len(seen)
    assert not ticker._thread.is_alive() and len(seen) == after
    assert seen[:3] == [1, 2, 3]
