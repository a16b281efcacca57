"""Core benchmark: tickets/s through the HTTP API on the embedded SQLite, latency, call-next p99."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.server import Server, staff_session
from bench.stats import percentile, table, write

KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def _issue_load(url: str, clients: int, per_client: int, item: str) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"items": [item]})
    headers = {"Content-Type": "application/json", **KIOSK}

    def worker(_: int) -> None:
        nonlocal errors
        # http.client with keep-alive: the load generator must not eat the CPU the server needs.
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine: list[float] = []
        bad = 0
        barrier.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/tickets", body, headers)
            r = conn.getresponse()
            r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status != 201:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - t0
    n = clients * per_client
    return {
        "clients": clients,
        "tickets": n,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "tickets_per_s": round(n / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def _call_next_load(url: str, windows: list[int], rounds: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    called: list[str] = []

    def clerk(n: int) -> None:
        s = staff_session(url, f"clerk{n}")
        for _ in range(rounds):
            t0 = time.perf_counter()
            r = s.post(f"{url}/api/v1/windows/{n}/call-next")
            dt = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                break
            with lock:
                latencies.append(dt)
                called.append(r.json()["ticket"]["number"])
            s.post(f"{url}/api/v1/windows/{n}/start").raise_for_status()
            s.post(f"{url}/api/v1/windows/{n}/complete").raise_for_status()

    with ThreadPoolExecutor(len(windows)) as pool:
        list(pool.map(clerk, windows))
    return {
        "windows": len(windows),
        "calls": len(called),
        "double_calls": len(called) - len(set(called)),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def run() -> dict:
    """Run the core benchmark against `python app.py` and gunicorn gthread; write bench/results/core.json."""
    result = {"python_app": _run_server(gunicorn=False), "gunicorn_gthread": _run_server(gunicorn=True)}
    rows = []
    for label, r in (("python app.py", result["python_app"]), ("gunicorn gthread", result["gunicorn_gthread"])):
        c8, c50, calls = r["issue_8_clients"], r["issue_50_clients"], r["call_next"]
        rows += [
            (f"[{label}] tickets/s, 8 clients", f"{c8['tickets_per_s']}", ">= 500", _ok(c8["tickets_per_s"] >= 500)),
            (f"[{label}] p50 / p99 ms, 8 clients", f"{c8['p50_ms']} / {c8['p99_ms']}", "", ""),
            (f"[{label}] tickets/s, 50 clients", f"{c50['tickets_per_s']}", "", ""),
            (
                f"[{label}] p50 / p99 ms, 50 clients",
                f"{c50['p50_ms']} / {c50['p99_ms']}",
                "p99 <= 100",
                _ok(c50["p99_ms"] <= 100),
            ),
            (f"[{label}] call-next p50 / p99 ms", f"{calls['p50_ms']} / {calls['p99_ms']}", "", ""),
            (f"[{label}] errors", f"{c8['errors'] + c50['errors']}", "0", _ok(c8["errors"] + c50["errors"] == 0)),
            (f"[{label}] duplicate numbers", f"{r['duplicate_numbers']}", "0", _ok(r["duplicate_numbers"] == 0)),
            (
                f"[{label}] tickets called twice",
                f"{r['tickets_called_twice']}",
                "0",
                _ok(r["tickets_called_twice"] == 0),
            ),
            (f"[{label}] server RSS MiB", f"{r['server_rss_mb']}", "", ""),
        ]
    result["table"] = table(rows)
    write("core", {k: v for k, v in result.items() if k != "table"})
    return result


def _run_server(*, gunicorn: bool) -> dict:
    with Server(gunicorn=gunicorn) as server:
        items = requests.get(f"{server.url}/api/v1/items", timeout=5).json()["items"]
        item = next(i["code"] for i in items if i["queue"] == "A")
        warm = _issue_load(server.url, 4, 25, item)
        c8 = _issue_load(server.url, 8, 250, item)
        c50 = _issue_load(server.url, 50, 40, item)
        calls = _call_next_load(server.url, [1, 2, 3, 4, 5, 7], 150)
        db = sqlite3.connect(server.instance / "hall.db")
        total, distinct = db.execute(
            "SELECT count(*), count(DISTINCT hall_id || queue_id || day || seq) FROM tickets"
        ).fetchone()
        called_twice = db.execute(
            "SELECT count(*) FROM (SELECT ticket_id FROM periods WHERE state='called' "
            "GROUP BY ticket_id HAVING count(*) > 1)"
        ).fetchone()[0]
        db.close()
        rss = server.rss_mb()
    return {
        "database": "sqlite (WAL, BEGIN IMMEDIATE, in-process writer lock)",
        "warmup": warm,
        "issue_8_clients": c8,
        "issue_50_clients": c50,
        "call_next": calls,
        "tickets_total": total,
        "duplicate_numbers": total - distinct,
        "tickets_called_twice": called_twice + calls["double_calls"],
        "server_rss_mb": round(rss, 1),
    }


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


if __name__ == "__main__":
    print(run()["table"])
