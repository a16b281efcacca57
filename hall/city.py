"""A city's network of halls on one page: load per hall and the nearby hall with a shorter wait.

The five-level network (市、县、乡镇、村) puts a service point within a 15-minute trip of most citizens
(15分钟医保服务圈). For each hall this finds the halls reachable in ``circle_minutes`` whose predicted wait
for a newcomer is clearly shorter, so a manager (or a guide) can send people there. Core module: no Flask.
"""

from __future__ import annotations

import math
from typing import Any

from hall import eta
from hall.engine import Engine
from hall.models import Hall

EARTH_KM = 6371.0


def distance_km(a: dict[str, float], b: dict[str, float]) -> float:
    """Great-circle distance between two {lat, lon} points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def hall_load(engine: Engine, hall_id: int) -> dict[str, Any]:
    """One hall's line: waiting, longest wait, open windows, open now, and a newcomer's predicted wait."""
    ref = engine.reference(hall_id)
    with engine.db.read() as session:
        row = session.get(Hall, hall_id)
        level, parent = row.level, row.parent_code
    load = engine.load(hall_id)
    status = engine.hall_status(hall_id)
    open_windows = sum(1 for w in load["windows"] if w["available"])
    free = sum(1 for w in load["windows"] if w["available"] and w.get("current_ticket_id") is None)
    means = [q.service_minutes for q in ref.queues.values()] or [6.0]
    mean = sum(means) / len(means)
    if open_windows:
        rng = eta.estimate(load["waiting"], open_windows, mean, free_servers=free)
        predicted = (rng.low + rng.high) / 2
    else:
        predicted = None  # nobody serving: no honest estimate
    return {
        "id": hall_id,
        "code": ref.code,
        "name": ref.name,
        "level": level,
        "parent": parent,
        "open": status["open"],
        "waiting": load["waiting"],
        "longest_wait_minutes": round(load["longest_wait_seconds"] / 60, 1),
        "open_windows": open_windows,
        "predicted_wait_minutes": round(predicted, 1) if predicted is not None else None,
        "location": ref.settings.get("location"),
    }


def overview(
    engine: Engine,
    hall_ids: list[int],
    *,
    circle_minutes: float = 15.0,
    speed_kmh: float = 30.0,
    better_by_minutes: float = 5.0,
    only: int | None = None,
) -> dict[str, Any]:
    """Every hall's load, and for each the open halls within the service circle with a shorter wait.

    ``only``: a hall-scoped manager sees their own hall's line (with the nearby halls it could send people to).
    """
    halls = [hall_load(engine, h) for h in hall_ids]
    reach_km = speed_kmh * circle_minutes / 60
    for hall in halls:
        better = []
        mine = hall["predicted_wait_minutes"]
        for other in halls:
            if other is hall or not (hall["location"] and other["location"]) or not other["open"]:
                continue
            if other["predicted_wait_minutes"] is None:
                continue
            km = distance_km(hall["location"], other["location"])
            travel = km / speed_kmh * 60
            if km > reach_km:
                continue
            if mine is None or other["predicted_wait_minutes"] + travel + better_by_minutes <= mine:
                better.append(
                    {
                        "code": other["code"],
                        "name": other["name"],
                        "distance_km": round(km, 1),
                        "travel_minutes": round(travel),
                        "predicted_wait_minutes": other["predicted_wait_minutes"],
                    }
                )
        better.sort(key=lambda b: b["predicted_wait_minutes"] + b["travel_minutes"])
        hall["shorter_nearby"] = better
    return {
        "circle_minutes": circle_minutes,
        "halls": halls if only is None else [h for h in halls if h["id"] == only],
        "waiting": sum(h["waiting"] for h in halls if only is None or h["id"] == only),
        "at": engine.clock.now().isoformat(),  # the page says "as of HH:MM" in hall time
    }
