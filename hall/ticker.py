"""A daemon thread that runs a per-hall check every few seconds (printer polling, the dashboard watcher).

The daily jobs live in the scheduler; these light checks run in every server process. Core module: stdlib only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hall.errors import HallError

log = logging.getLogger(__name__)


class Ticker:
    """Calls ``check(hall_id)`` for every hall every ``interval`` seconds until stopped; errors are logged."""

    def __init__(self, name: str, check: Callable[[int], object], hall_ids: list[int], interval: float) -> None:
        self.name = name
        self._check = check
        self._hall_ids = list(hall_ids)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Ticker:
        """Start the thread (the first check runs at once)."""
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            for hall_id in self._hall_ids:
                try:
                    self._check(hall_id)
                except HallError as exc:
                    log.warning("%s of hall %s: %s", self.name, hall_id, exc)
                except Exception:  # one failing check must not end the thread
                    log.exception("%s of hall %s failed", self.name, hall_id)
            if self._stop.wait(self._interval):
                return

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
