"""The manager dashboard's live picture and its watcher (long waits, overdue 差评 cases).

``overview`` enriches the engine's load with waiting per priority class, the wait a ticket taken now would
be told (the kiosk's ETA model), and each window's time in service against its items' expected minutes.
``check`` raises or clears ``long_wait`` alerts and runs the overdue-case check; it runs every minute in a
background thread (the scheduler may call it instead). Core module: no Flask or Socket.IO.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from hall import eta, report_queries
from hall.alerts import Alerts
from hall.engine import Engine, merged_settings
from hall.ratings import Ratings
from hall.reports import kpi_settings
from hall.ticker import Ticker

log = logging.getLogger(__name__)

LONG_WAIT = "long_wait"
# Waiting citizens and no window able to serve them, or a predicted wait past the hall's SLA: the duty leader must
# open a window or send staff now, before anyone has waited long (long_wait only fires after the fact).
OVERLOAD = "overload"


def queue_source(code: str) -> str:
    """The alert source naming a queue."""
    return f"queue:{code}"


def service_state(elapsed_seconds: float, expected_minutes: float | None, factor: float) -> str:
    """ok while within the expected minutes, over past them, far past ``factor`` × expected."""
    if not expected_minutes:
        return "ok"
    minutes = elapsed_seconds / 60
    if minutes > expected_minutes * factor:
        return "far"
    return "over" if minutes > expected_minutes else "ok"


class Dashboard:
    """Reads the live hall for /manager and watches it for alerts."""

    def __init__(self, engine: Engine, alerts: Alerts, ratings: Ratings | None = None) -> None:
        self.engine = engine
        self.alerts = alerts
        self.ratings = ratings
        self._ticker: Ticker | None = None

    def overview(self, hall_id: int) -> dict[str, Any]:
        """Load + per-class waiting + predicted wait per queue + window service times against expectations."""
        load = self.engine.load(hall_id)
        ref = self.engine.reference(hall_id)
        kpi = kpi_settings(ref.settings)
        opts = merged_settings(ref.settings)["eta"]
        now = datetime.fromisoformat(load["at"])
        with self.engine.db.read() as session:
            classes = report_queries.waiting_by_class(session, hall_id)
        windows = load["windows"]
        counts = {q["code"]: q["waiting"] for q in load["queues"]}
        for q in load["queues"]:
            code = q["code"]
            mine = [c for c in classes if c["queue"] == code]
            q["classes"] = sorted(
                (
                    {
                        "priority": c["priority"],
                        "waiting": c["waiting"],
                        "longest_wait_seconds": max(0, int((now - c["oldest"]).total_seconds())) if c["oldest"] else 0,
                    }
                    for c in mine
                ),
                key=lambda c: (c["priority"] is not None, c["priority"] or ""),
            )
            serving = [w for w in windows if w["available"] and code in w["queues"]]
            free = sum(1 for w in serving if w["current_ticket_id"] is None)
            ahead = sum(counts.get(c, 0) for c in ref.pooled_queues(code)) if code in ref.queues else q["waiting"]
            queue = ref.queues.get(code)
            if serving and queue is not None:
                rng = eta.estimate(
                    ahead,
                    len(serving),
                    queue.service_minutes,
                    free_servers=free,
                    cv=float(opts.get("cv", 0.8)),
                    coverage=float(opts.get("coverage", 0.8)),
                )
                q["predicted_wait"] = rng.to_dict()
            else:
                q["predicted_wait"] = None  # no open window serves this queue
        by_class: dict[str | None, dict[str, Any]] = {}
        for c in classes:
            entry = by_class.setdefault(c["priority"], {"priority": c["priority"], "waiting": 0, "oldest": None})
            entry["waiting"] += c["waiting"]
            if c["oldest"] is not None and (entry["oldest"] is None or c["oldest"] < entry["oldest"]):
                entry["oldest"] = c["oldest"]
        load["classes"] = [
            {
                "priority": e["priority"],
                "waiting": e["waiting"],
                "longest_wait_seconds": max(0, int((now - e["oldest"]).total_seconds())) if e["oldest"] else 0,
            }
            for e in sorted(by_class.values(), key=lambda e: (e["priority"] is not None, e["priority"] or ""))
        ]
        for w in windows:
            current = w.get("current")
            if not current:
                continue
            minutes = [ref.items[c].service_minutes for c in current["items"] if c in ref.items]
            expected = sum(minutes) if minutes else None
            since = datetime.fromisoformat(current["since"]) if current.get("since") else now
            elapsed = max(0.0, (now - since).total_seconds())
            current["item_names"] = [ref.items[c].name if c in ref.items else c for c in current["items"]]
            current["elapsed_seconds"] = int(elapsed)
            current["expected_minutes"] = expected
            current["service"] = (
                service_state(elapsed, expected, kpi["overrun_factor"]) if current["status"] == "serving" else "ok"
            )
        load["kpi"] = kpi
        load["timezone"] = ref.timezone  # the wall clock and alert times show hall time, not the PC's
        return load

    # --- watching ---------------------------------------------------------------------------------------
    def check(self, hall_id: int) -> dict[str, Any]:
        """Raise ``long_wait`` for queues whose head waited past the threshold and ``overload`` for queues no
        open window serves or whose predicted wait passes the SLA; clear the rest; overdue cases."""
        ref = self.engine.reference(hall_id)
        limit = kpi_settings(ref.settings)["wait_alert_minutes"]
        sla = float(merged_settings(ref.settings)["routing"].get("sla_minutes") or 0)
        load = self.overview(hall_id)
        current = self.alerts.open_alerts(hall_id)
        # clear only what is open: no write per quiet queue per minute
        open_now = {a["source"] for a in current if a["kind"] == LONG_WAIT}
        overloaded_now = {a["source"] for a in current if a["kind"] == OVERLOAD}
        raised, overloaded = [], []
        for q in load["queues"]:
            source = queue_source(q["code"])
            predicted = q.get("predicted_wait")
            if q["waiting"] and (predicted is None or (sla and predicted["high"] > sla)):
                if predicted is None:
                    message = f"{q['name']}有{q['waiting']}人等候，但没有开放窗口可以办理，请开放窗口或安排人员到岗"
                else:
                    message = f"{q['name']}预计等候{predicted['high']}分钟，超过{int(sla)}分钟的时限，请增开窗口"
                details = {
                    "queue": q["code"],
                    "name": q["name"],
                    "waiting": q["waiting"],
                    "why": "no_window" if predicted is None else "sla",
                    "minutes": predicted["high"] if predicted else None,
                    "limit": int(sla),
                }
                # the reason may change (no window → window opened but still too slow): say the new one
                if source in overloaded_now and self._overload_why(current, source) != details["why"]:
                    self.alerts.clear(hall_id, source, OVERLOAD)
                self.alerts.raise_alert(hall_id, source, OVERLOAD, message, level="critical", details=details)
                overloaded.append(q["code"])
            elif source in overloaded_now:
                self.alerts.clear(hall_id, source, OVERLOAD)
            minutes = q["longest_wait_seconds"] / 60
            if q["waiting"] and minutes >= limit:
                self.alerts.raise_alert(
                    hall_id,
                    source,
                    LONG_WAIT,
                    f"{q['name']}队列最长等候已超过{int(limit)}分钟",
                    level="warning",
                    details={"queue": q["code"], "minutes": int(minutes)},
                )
                raised.append(q["code"])
            elif source in open_now:
                self.alerts.clear(hall_id, source, LONG_WAIT)
        overdue = self.ratings.overdue(hall_id) if self.ratings is not None else []
        return {"long_wait": raised, "overload": overloaded, "overdue_cases": [c["id"] for c in overdue]}

    @staticmethod
    def _overload_why(alerts: list[dict[str, Any]], source: str) -> str | None:
        return next((a["details"].get("why") for a in alerts if a["kind"] == OVERLOAD and a["source"] == source), None)

    def start(self, hall_ids: list[int], interval: float = 60.0) -> None:
        """Check every ``interval`` seconds in a daemon thread."""
        if self._ticker is None:
            self._ticker = Ticker("dashboard-watch", self.check, hall_ids, interval).start()

    def stop(self) -> None:
        """Stop checking."""
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
