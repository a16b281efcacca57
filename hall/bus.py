"""In-process publish/subscribe for domain events (adapters subscribe; the engine publishes after commit)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from hall.events import DomainEvent

log = logging.getLogger(__name__)
Handler = Callable[[DomainEvent], None]


class EventBus:
    """Calls every subscriber for every event; a failing subscriber is logged, never raised to the caller."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> None:
        """Register a handler for all events."""
        with self._lock:
            self._handlers.append(handler)

    def unsubscribe(self, handler: Handler) -> None:
        """Remove a handler (no error if it was not subscribed)."""
        with self._lock:
            if handler in self._handlers:
                self._handlers.remove(handler)

    def publish(self, events: Iterable[DomainEvent]) -> None:
        """Deliver events in order to every handler."""
        with self._lock:
            handlers = list(self._handlers)
        for event in events:
            for handler in handlers:
                try:
                    handler(event)
                except Exception:  # an adapter (display, LED, printer) must never break the hall
                    log.exception("event handler %r failed on %s", handler, event.name)
