"""Load generators shared by the benchmarks: kiosks issuing tickets, clerks calling, and CPU time of processes."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.server import staff_session
from bench.stats import percentile

KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def issue_load(urls: list[str], clients: int, per_client: int, items: list[str]) -> dict:
    """``clients`` keep-alive connections, client k on ``urls[k % len(urls)]`` asking for ``items[k % len]``."""
    latencies: list[float] = []
    errors: list[int] = []
    numbers: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    headers = {"Content-Type": "application/json", **KIOSK}

    def worker(k: int) -> None:
        host, port = urls[k % len(urls)].removeprefix("http://").split(":")
        body = json.dumps({"items": [items[k % len(items)]]})
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        mine: list[float] = []
        got: list[str] = []
        bad: list[int] = []
        barrier.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/tickets", body, headers)
            r = conn.getresponse()
            data = r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status == 201:
                got.append(json.loads(data)["ticket"]["number"])
            else:
                bad.append(r.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            numbers.extend(got)
            errors.extend(bad)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - t0
    n = clients * per_client
    return {
        "clients": clients,
        "processes": len(urls),
        "tickets": n,
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "duplicate_numbers_in_responses": len(numbers) - len(set(numbers)),
        "seconds": round(elapsed, 3),
        "tickets_per_s": round(n / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def call_next_load(urls: list[str], windows: list[int], rounds: int) -> dict:
    """Each window's clerk calls, starts and completes, every request to the other process than the last."""
    latencies: list[float] = []
    called: list[int] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        s = staff_session(urls[0], f"clerk{n}")
        mine: list[float] = []
        got: list[int] = []
        for i in range(rounds):
            url = urls[(n + i) % len(urls)]
            t0 = time.perf_counter()
            r = s.post(f"{url}/api/v1/windows/{n}/call-next", timeout=60)
            dt = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                break
            mine.append(dt)
            got.append(r.json()["ticket"]["id"])
            other = urls[(n + i + 1) % len(urls)]
            s.post(f"{other}/api/v1/windows/{n}/start", timeout=60).raise_for_status()
            s.post(f"{url}/api/v1/windows/{n}/complete", timeout=60).raise_for_status()
        with lock:
            latencies.extend(mine)
            called.extend(got)

    with ThreadPoolExecutor(len(windows)) as pool:
        list(pool.map(clerk, windows))
    return {
        "windows": len(windows),
        "calls": len(called),
        "double_calls": len(called) - len(set(called)),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, waited-for children included) of a process and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total
