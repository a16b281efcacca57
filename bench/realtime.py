"""Realtime benchmark: call-next over HTTP → ``called`` at every one of N /display clients (separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict

import requests

from bench.server import ROOT, Server, staff_session
from bench.stats import percentile, table, write

KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
CALLS = 40
ATTEMPTS = int(os.environ.get("BENCH_REALTIME_ATTEMPTS", "4"))
STEAL_LIMIT = 1.0  # % of the cores' time; measured quiet runs had < 0.3 %, disturbed ones 2.7–9.8 %
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _cpu_ms(pid: int) -> float:
    """User + system CPU time a process has used so far (ms)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def _steal_ms() -> float:
    """CPU time the hypervisor took from this VM so far, all cores (``steal`` in /proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) * TICK_MS if len(fields) > 8 else 0.0


def _measure(n: int) -> dict:
    with Server() as server:
        # Real displays are separate machines: spread the clients over a few processes so one client
        # process's own parsing queue is not measured as server latency.
        groups = max(1, n // 50)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.display_clients",
                    "--url",
                    server.url,
                    "--n",
                    str(n // groups),
                    "--offset",
                    str(g * (n // groups)),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for g in range(groups)
        ]
        for clients in procs:
            assert clients.stdout is not None and clients.stdin is not None
            line = clients.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"display clients failed: {line!r}")
        for _ in range(CALLS):
            requests.post(
                f"{server.url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10
            ).raise_for_status()
        clerk = staff_session(server.url, "clerk1")
        time.sleep(1.0)  # the refreshes of the 40 issues and the log-in's password hashing are set-up, not a call
        # CPU of each side over the call cycles (call, start, complete, the coalesced refreshes): on 2 shared cores
        # the display clients' parsing competes with the server, so it is measured rather than assumed away.
        cpu0 = (_cpu_ms(server.proc.pid), sum(_cpu_ms(c.pid) for c in procs))
        load0 = os.getloadavg()[0]
        steal0, wall0 = _steal_ms(), time.time()
        sent: dict[str, float] = {}
        http_ms: list[float] = []
        for _ in range(CALLS):
            t0 = time.time()
            r = clerk.post(f"{server.url}/api/v1/windows/1/call-next", timeout=10)
            http_ms.append((time.time() - t0) * 1000)
            r.raise_for_status()
            sent[r.json()["ticket"]["number"]] = t0
            clerk.post(f"{server.url}/api/v1/windows/1/start", timeout=10).raise_for_status()
            clerk.post(f"{server.url}/api/v1/windows/1/complete", timeout=10).raise_for_status()
            time.sleep(0.25)  # calls at a hall come seconds apart; leave the coalesced refresh its time
        time.sleep(1.0)
        steal, wall = _steal_ms() - steal0, (time.time() - wall0) * 1000
        cpu1 = (_cpu_ms(server.proc.pid), sum(_cpu_ms(c.pid) for c in procs))
        rss = server.rss_mb()
        outputs = [clients.communicate("stop\n", timeout=120)[0] for clients in procs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    deliveries = [d for r in reports for d in r["deliveries"]]
    client_us = [r["cpu_per_call_us"] for r in reports if r.get("cpu_per_call_us") is not None]
    latencies: list[float] = []
    per_client: dict[int, list[float]] = defaultdict(list)
    per_call: dict[str, list[float]] = defaultdict(list)
    for client, number, at in deliveries:
        if number in sent:
            ms = (at - sent[number]) * 1000
            latencies.append(ms)
            per_client[client].append(ms)
            per_call[number].append(ms)
    order = list(sent)
    # With N displays one call is N deliveries, so p99 over 40 calls is set by the slowest call or two: name them.
    slowest = sorted(
        (
            {
                "call": order.index(number) + 1,
                "http_ms": round(http_ms[order.index(number)], 1),
                "first_ms": round(min(ms), 1),
                "median_ms": round(percentile(ms, 50), 1),
                "last_ms": round(max(ms), 1),
            }
            for number, ms in per_call.items()
        ),
        key=lambda c: -c["median_ms"],
    )[:3]
    expected = n * CALLS
    worst = max(per_client.items(), key=lambda kv: max(kv[1])) if per_client else (None, [float("nan")])
    return {
        "clients": n,
        "client_processes": groups,
        "calls": CALLS,
        "deliveries": len(latencies),
        "missed": expected - len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "worst_client": {
            "client": worst[0],
            "max_ms": round(max(worst[1]), 2),
            "p50_ms": round(percentile(worst[1], 50), 2),
        },
        "call_next_http_p50_ms": round(percentile(http_ms, 50), 2),
        "slowest_calls": slowest,
        # The server warms up at start (Engine.warm_up); this is the call a freshly started server makes first.
        "first_call_median_ms": round(percentile(per_call[order[0]], 50), 1) if order and per_call[order[0]] else None,
        "server_cpu_ms_per_call": round((cpu1[0] - cpu0[0]) / CALLS, 1),
        "clients_cpu_ms_per_call": round((cpu1[1] - cpu0[1]) / CALLS, 1),
        # CPU one display client spends on one `called` message (median over calls and client processes);
        # times the number of displays, that much CPU is taken from the 2 cores the server shares with them.
        "client_cpu_us_per_called_message": round(sorted(client_us)[len(client_us) // 2], 1) if client_us else None,
        "clients_offer_deflate": True,
        # Anything else running on the machine (other jobs share its cores) shows up here and in the tail.
        "load_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        # A VM's vCPUs are sometimes not running at all (the host ran something else): a call meeting such a pause
        # is late by it. Share of the 2 cores' time stolen during the calls.
        "vm_steal_percent": round(100 * steal / (wall * (os.cpu_count() or 1)), 2) if wall else None,
        "server_rss_mb": round(rss, 1),
    }


def _measure_on_a_quiet_host(n: int) -> dict:
    """``_measure(n)``, repeated (up to ATTEMPTS times) while the VM's host stole more than STEAL_LIMIT of its CPU.

    On this kind of VM the host now and then stops both vCPUs for 5–25 ms (seen as ``steal``; a busy loop on an
    otherwise idle machine sees the same gaps). A call meeting one reaches every display that much later, and p99
    over 40 calls is set by the slowest call or two: runs with 3–10 % steal gave p99 55–83 ms at 200 displays,
    runs with < 0.3 % steal 26–37 ms, same code. Every attempt is kept in the result; the figures reported are
    those of the first quiet attempt, or of the least disturbed one (``host_quiet`` false) if none was quiet.
    """
    attempts = []
    for _ in range(ATTEMPTS):
        attempts.append(_measure(n))
        if attempts[-1]["vm_steal_percent"] <= STEAL_LIMIT:
            break
    best = next(
        (a for a in attempts if a["vm_steal_percent"] <= STEAL_LIMIT),
        min(attempts, key=lambda a: a["vm_steal_percent"]),
    )
    return {
        **best,
        "host_quiet": best["vm_steal_percent"] <= STEAL_LIMIT,
        "attempts": [
            {"p50_ms": a["p50_ms"], "p99_ms": a["p99_ms"], "vm_steal_percent": a["vm_steal_percent"]} for a in attempts
        ],
    }


def run() -> dict:
    """Run with 50 and 200 display clients; write bench/results/realtime.json."""
    result = {"n50": _measure_on_a_quiet_host(50), "n200": _measure_on_a_quiet_host(200)}
    rows = []
    for key in ("n50", "n200"):
        r = result[key]
        rows += [
            (
                f"{r['clients']} displays: call→display p50 / p99 ms",
                f"{r['p50_ms']} / {r['p99_ms']}",
                "p99 <= 50" if key == "n200" else "",
                ("yes" if r["p99_ms"] <= 50 else "NO") if key == "n200" else "",
            ),
            (
                f"{r['clients']} displays: worst client max / p50 ms",
                f"{r['worst_client']['max_ms']} / {r['worst_client']['p50_ms']}",
                "",
                "",
            ),
            (f"{r['clients']} displays: deliveries missed", f"{r['missed']}", "0", "yes" if r["missed"] == 0 else "NO"),
            (
                f"{r['clients']} displays: CPU ms per call cycle, server / clients; µs per `called` per client",
                f"{r['server_cpu_ms_per_call']} / {r['clients_cpu_ms_per_call']}; "
                f"{r['client_cpu_us_per_called_message']}",
                "",
                "",
            ),
            (f"{r['clients']} displays: server RSS MiB", f"{r['server_rss_mb']}", "", ""),
            (
                f"{r['clients']} displays: attempts p99 ms (VM steal %)",
                ", ".join(f"{a['p99_ms']} ({a['vm_steal_percent']})" for a in r["attempts"]),
                f"steal <= {STEAL_LIMIT}",
                "yes" if r["host_quiet"] else "NO: noisy host",
            ),
        ]
    result["table"] = table(rows)
    write("realtime", {k: v for k, v in result.items() if k != "table"})
    return result


if __name__ == "__main__":
    print(run()["table"])
