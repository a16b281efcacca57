"""Core benchmark: tickets/s through the HTTP API on the embedded SQLite, latency, call-next p99."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from pathlib import Path

import requests

from bench.load import call_next_load, cpu_seconds, issue_load
from bench.server import Server
from bench.services import WEB_ONLY_ENV, Redis, redis_available
from bench.stats import table, write

CONFIGS = {
    "python_app": "python app.py (werkzeug, threads), SQLite",
    "gunicorn_gthread": "gunicorn, 1 gthread worker (32 threads), SQLite",
    "gunicorn_2_processes": "2 × gunicorn (1 gthread worker each) on one SQLite file + Redis message queue",
}


def run() -> dict:
    """Run the core benchmark in each configuration; write bench/results/core.json."""
    result: dict = {"configurations": CONFIGS}
    result["python_app"] = _run_server(processes=1, gunicorn=False)
    result["gunicorn_gthread"] = _run_server(processes=1, gunicorn=True)
    if redis_available():
        result["gunicorn_2_processes"] = _run_server(processes=2, gunicorn=True)
    rows = []
    for key in ("python_app", "gunicorn_gthread", "gunicorn_2_processes"):
        if key not in result:
            rows.append((f"[{key}] skipped: redis-server missing", "", "", ""))
            continue
        r = result[key]
        label = {"python_app": "python app.py", "gunicorn_gthread": "gunicorn", "gunicorn_2_processes": "2×gunicorn"}[
            key
        ]
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
            (f"[{label}] server CPU ms per ticket", f"{c8['server_cpu_ms_per_ticket']}", "", ""),
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


def _measured(servers: list[Server], urls: list[str], clients: int, per_client: int, item: str) -> dict:
    """An issue load with the servers' CPU time per ticket (user + system, from /proc)."""
    before = sum(cpu_seconds(s.proc.pid) for s in servers)
    out = issue_load(urls, clients, per_client, [item])
    after = sum(cpu_seconds(s.proc.pid) for s in servers)
    out["server_cpu_ms_per_ticket"] = round((after - before) / out["tickets"] * 1000, 2)
    return out


def _run_server(*, processes: int, gunicorn: bool) -> dict:
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hall-core-")))
        if processes > 1:
            env["HALL_MESSAGE_QUEUE"] = stack.enter_context(Redis()).url
        servers = []
        for n in range(processes):
            # The first process runs the jobs and pollers; the others are web-only (docs/deployment.md).
            extra = env if n == 0 else {**env, **WEB_ONLY_ENV}
            servers.append(stack.enter_context(Server(env=extra, instance=instance, gunicorn=gunicorn)))
        urls = [s.url for s in servers]
        items = requests.get(f"{urls[0]}/api/v1/items", timeout=5).json()["items"]
        item = next(i["code"] for i in items if i["queue"] == "A" and i.get("daily_quota") is None)
        warm = issue_load(urls, 4, 25, [item])
        c8 = _measured(servers, urls, 8, 250, item)
        c50 = _measured(servers, urls, 50, 40, item)
        calls = call_next_load(urls, [1, 2, 3, 4, 5, 7], 150)
        db = sqlite3.connect(instance / "hall.db")
        total, distinct = db.execute(
            "SELECT count(*), count(DISTINCT hall_id || '/' || queue_id || '/' || day || '/' || seq) FROM tickets"
        ).fetchone()
        called_twice = db.execute(
            "SELECT count(*) FROM (SELECT ticket_id FROM periods WHERE state='called' "
            "AND (end_action IS NULL OR end_action <> 'recall') GROUP BY ticket_id HAVING count(*) > 1)"
        ).fetchone()[0]
        db.close()
        rss = sum(s.rss_mb() for s in servers)
    return {
        "database": "sqlite (WAL, BEGIN IMMEDIATE, in-process writer lock + writers' file lock)",
        "processes": processes,
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
