"""Scale-out benchmark: two gunicorn processes on PostgreSQL + Redis (the production topology) on this machine.

Tickets/s and latency with 50 concurrent kiosk clients spread over both processes, call-next from six windows
alternating between the processes, and call → display delivery across processes (calls made on A, 50 /display
clients connected to B through the Redis message queue). PostgreSQL runs with its production defaults (fsync on).
Everything (load generators, both servers, PostgreSQL, Redis) shares the same cores. The results record the
durability settings PostgreSQL ran with, and pg_stat_statements counts the statements per ticket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests

from bench.load import KIOSK, call_next_load, cpu_seconds, issue_load
from bench.server import ROOT, Server, staff_session
from bench.services import WEB_ONLY_ENV, Postgres, Redis
from bench.stats import percentile, table, write

CLIENTS = 50
PER_CLIENT = 40
WINDOWS = [1, 2, 3, 4, 5, 7]
CALL_ROUNDS = 60
DISPLAYS = 50
DISPLAY_CALLS = 40


def _display_across(caller: str, display_server: str, item: str) -> dict:
    """Calls made on ``caller``; ``DISPLAYS`` /display clients on the other process record their arrival."""
    clients = subprocess.Popen(
        [sys.executable, "-m", "bench.display_clients", "--url", display_server, "--n", str(DISPLAYS)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert clients.stdout is not None
    line = clients.stdout.readline()
    if line.strip() != "READY":
        clients.kill()
        raise RuntimeError(f"display clients failed: {line!r}")
    for _ in range(DISPLAY_CALLS):
        requests.post(f"{caller}/api/v1/tickets", json={"items": [item]}, headers=KIOSK, timeout=10).raise_for_status()
    clerk = staff_session(caller, "clerk8")
    manager = staff_session(caller, "manager")
    # Window 8 (一件事 / 人社) also serves queue A; it may be closed in the demo hall.
    manager.post(f"{caller}/api/v1/windows/8/open", timeout=10)
    sent: dict[str, float] = {}
    http_ms: list[float] = []
    for _ in range(DISPLAY_CALLS):
        t0 = time.time()
        r = clerk.post(f"{caller}/api/v1/windows/8/call-next", timeout=10)
        http_ms.append((time.time() - t0) * 1000)
        r.raise_for_status()
        sent[r.json()["ticket"]["number"]] = t0
        clerk.post(f"{caller}/api/v1/windows/8/start", timeout=10).raise_for_status()
        clerk.post(f"{caller}/api/v1/windows/8/complete", timeout=10).raise_for_status()
        time.sleep(0.25)  # calls at a hall come seconds apart
    time.sleep(1.0)
    out = clients.communicate("stop\n", timeout=120)[0]
    deliveries = json.loads(out.strip().splitlines()[-1])["deliveries"]
    latencies = [(at - sent[number]) * 1000 for _, number, at in deliveries if number in sent]
    return {
        "displays": DISPLAYS,
        "calls": DISPLAY_CALLS,
        "deliveries": len(latencies),
        "missed": DISPLAYS * DISPLAY_CALLS - len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "call_next_http_p50_ms": round(percentile(http_ms, 50), 2),
    }


def _pg_counters(pg: Postgres) -> dict:
    """Statements (pg_stat_statements), transactions and the number counter's statement time so far."""
    with pg.connect() as conn:
        calls, counter_ms, counter_calls = conn.execute(
            "SELECT coalesce(sum(calls), 0), "
            "coalesce(sum(total_exec_time) FILTER (WHERE query LIKE 'INSERT INTO number_counters%'), 0), "
            "coalesce(sum(calls) FILTER (WHERE query LIKE 'INSERT INTO number_counters%'), 0) "
            "FROM pg_stat_statements JOIN pg_database d ON d.oid = dbid WHERE d.datname = 'hall'"
        ).fetchone()
        xacts = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'hall'"
        ).fetchone()[0]
    return {
        "statements": float(calls),
        "transactions": float(xacts),
        "counter_ms": float(counter_ms),
        "counter": float(counter_calls),
    }


def _pg_settings(pg: Postgres) -> dict:
    """The durability settings the benchmark's PostgreSQL ran with (reported with the results)."""
    with pg.connect() as conn:
        return {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # noqa: S608 - fixed names
            for name in ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "server_version")
        }


def _profiled_load(urls: list[str], items: list[str], servers: list[Server], pg: Postgres) -> dict:
    """The 50-client load: CPU per ticket in the servers, PostgreSQL and this load generator, and what it asked
    of PostgreSQL per ticket — statements sent by the clients (each one a round trip; foreign-key checks inside
    PostgreSQL not counted), transactions (the screens' refreshes included), and the number counter upsert's
    mean time (mostly waiting for the row lock the previous ticket's transaction holds until it commits)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    pg_before = _pg_counters(pg)
    before = [cpu_seconds(s.proc.pid) for s in servers], cpu_seconds(postmaster), time.process_time()
    load_before = os.getloadavg()[0]
    result = issue_load(urls, CLIENTS, PER_CLIENT, items)
    after = [cpu_seconds(s.proc.pid) for s in servers], cpu_seconds(postmaster), time.process_time()
    n = result["tickets"]
    cpu = {
        "servers": round(sum(a - b for a, b in zip(after[0], before[0], strict=True)) / n * 1000, 2),
        "postgres": round((after[1] - before[1]) / n * 1000, 2),
        "load_generator": round((after[2] - before[2]) / n * 1000, 2),
    }
    cpu["total"] = round(sum(cpu.values()), 2)
    pg_after = _pg_counters(pg)
    counted = pg_after["counter"] - pg_before["counter"]
    result["postgres_per_ticket"] = {
        "statements": round((pg_after["statements"] - pg_before["statements"]) / n, 2),
        "transactions": round((pg_after["transactions"] - pg_before["transactions"]) / n, 2),
        "number_counter_ms": (
            round((pg_after["counter_ms"] - pg_before["counter_ms"]) / counted, 3) if counted else None
        ),
    }
    cores = len(os.sched_getaffinity(0))
    result["cpu_ms_per_ticket"] = cpu
    # If the cores did nothing else, this is as fast as the measured CPU cost per ticket allows.
    result["cpu_ceiling_tickets_per_s"] = round(cores * 1000 / cpu["total"], 1) if cpu["total"] else None
    result["load_average_1min"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return result


def _commit_ms(pg: Postgres) -> float:
    """One small committed INSERT on the benchmark's PostgreSQL (WAL flush included)."""
    with pg.connect("postgres") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (x int)")
        t0 = time.perf_counter()
        for _ in range(200):
            conn.execute("INSERT INTO bench_commit VALUES (1)")
        ms = (time.perf_counter() - t0) / 200 * 1000
        conn.execute("DROP TABLE bench_commit")
    return round(ms, 3)


def _integrity(pg: Postgres) -> dict:
    with pg.connect() as conn:
        total, distinct_seq, distinct_number = conn.execute(
            "SELECT count(*), count(DISTINCT (hall_id, queue_id, day, seq)), count(DISTINCT (hall_id, day, number)) "
            "FROM tickets"
        ).fetchone()
        gaps = conn.execute(
            "SELECT count(*) FROM (SELECT queue_id, day FROM tickets GROUP BY queue_id, day "
            "HAVING max(seq) <> count(*) OR min(seq) <> 1) g"
        ).fetchone()[0]
        called_twice = conn.execute(
            "SELECT count(*) FROM (SELECT ticket_id FROM periods WHERE state = 'called' "
            "AND (end_action IS NULL OR end_action <> 'recall') GROUP BY ticket_id HAVING count(*) > 1) t"
        ).fetchone()[0]
    return {
        "tickets_total": total,
        "duplicate_numbers": total - min(distinct_seq, distinct_number),
        "queues_with_gaps": gaps,
        "tickets_called_twice": called_twice,
    }


def measure() -> dict:
    """Bring up PostgreSQL, Redis and two gunicorn processes; run the loads; tear everything down."""
    with Postgres(fsync=True, stat_statements=True) as pg, Redis() as redis_server:
        with pg.connect() as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        env = {"HALL_DATABASE_URL": pg.url, "HALL_MESSAGE_QUEUE": redis_server.url, **WEB_ONLY_ENV}
        with (
            Server(env=env, gunicorn=True, threads=64) as a,
            Server(env=env, gunicorn=True, threads=64) as b,
        ):
            urls = [a.url, b.url]
            items = requests.get(f"{a.url}/api/v1/items", timeout=10).json()["items"]
            item = next(i["code"] for i in items if i["queue"] == "A" and i.get("daily_quota") is None)
            other = next(i["code"] for i in items if i["queue"] == "B" and i.get("daily_quota") is None)
            warmup = issue_load(urls, 4, 25, [item])
            single = issue_load(urls[:1], 1, 100, [item])
            one_queue = _profiled_load(urls, [item], [a, b], pg)
            two_queues = issue_load(urls, CLIENTS, PER_CLIENT // 2, [other])
            calls = call_next_load(urls, WINDOWS, CALL_ROUNDS)
            display = _display_across(a.url, b.url, item)
            rss = {"a": round(a.rss_mb(), 1), "b": round(b.rss_mb(), 1)}
            integrity = _integrity(pg)
            commit_ms = _commit_ms(pg)
            settings = _pg_settings(pg)
    return {
        "topology": "2 × gunicorn (1 gthread worker, 64 threads) + PostgreSQL 15 (fsync on) + Redis, one machine",
        "warmup": warmup,
        "issue_1_client": single,
        "postgres_settings": settings,
        "postgres_commit_ms": commit_ms,
        "issue_50_clients_one_queue": one_queue,
        "issue_50_clients_queue_b": two_queues,
        "call_next": calls,
        "call_to_display_across_processes": display,
        "server_rss_mb": rss,
        **integrity,
    }


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


def run() -> dict:
    """Run the scale benchmark; write bench/results/scale.json."""
    result = measure()
    q, calls = result["issue_50_clients_one_queue"], result["call_next"]
    disp = result["call_to_display_across_processes"]
    errors = q["errors"] + result["issue_50_clients_queue_b"]["errors"]
    rows = [
        ("tickets/s, 50 clients, 2 processes", f"{q['tickets_per_s']}", ">= 300", _ok(q["tickets_per_s"] >= 300)),
        ("issue p50 / p99 ms, 50 clients", f"{q['p50_ms']} / {q['p99_ms']}", "p99 <= 200", _ok(q["p99_ms"] <= 200)),
        ("issue errors", f"{errors}", "0", _ok(errors == 0)),
        ("1 client: issue p50 ms (serial cost)", f"{result['issue_1_client']['p50_ms']}", "", ""),
        ("CPU ms per ticket (servers+PG+client)", f"{q['cpu_ms_per_ticket']['total']}", "", ""),
        (
            "  servers / PostgreSQL / client",
            "{servers} / {postgres} / {load_generator}".format(**q["cpu_ms_per_ticket"]),
            "",
            "",
        ),
        ("CPU-bound ceiling tickets/s (all cores)", f"{q['cpu_ceiling_tickets_per_s']}", "", ""),
        ("load average before / after", "{before} / {after}".format(**q["load_average_1min"]), "", ""),
        (
            "PostgreSQL fsync / synchronous_commit",
            "{fsync} / {synchronous_commit}".format(**result["postgres_settings"]),
            "",
            "",
        ),
        ("PostgreSQL commit ms", f"{result['postgres_commit_ms']}", "", ""),
        (
            "PG statements / transactions per ticket",
            "{statements} / {transactions}".format(**q["postgres_per_ticket"]),
            "",
            "",
        ),
        ("number counter upsert ms (lock wait)", f"{q['postgres_per_ticket']['number_counter_ms']}", "", ""),
        ("duplicate numbers", f"{result['duplicate_numbers']}", "0", _ok(result["duplicate_numbers"] == 0)),
        ("queues with gaps", f"{result['queues_with_gaps']}", "0", _ok(result["queues_with_gaps"] == 0)),
        ("call-next p50 / p99 ms, 6 windows", f"{calls['p50_ms']} / {calls['p99_ms']}", "", ""),
        ("tickets called twice", f"{result['tickets_called_twice']}", "0", _ok(result["tickets_called_twice"] == 0)),
        (
            f"call A → {disp['displays']} displays on B p50 / p99 ms",
            f"{disp['p50_ms']} / {disp['p99_ms']}",
            "",
            "",
        ),
        ("deliveries missed", f"{disp['missed']}", "0", _ok(disp["missed"] == 0)),
        ("server RSS MiB (A, B)", f"{result['server_rss_mb']['a']}, {result['server_rss_mb']['b']}", "", ""),
    ]
    result["table"] = table(rows)
    write("scale", {k: v for k, v in result.items() if k != "table"})
    return result


if __name__ == "__main__":
    print(run()["table"])
