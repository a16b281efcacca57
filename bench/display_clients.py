"""Many /display Socket.IO clients in one asyncio process; records when each ``called`` event arrives.

Run by bench/realtime.py: prints READY once every client has its snapshot, records until it reads a line on
stdin, then prints one JSON line: {"clients": N, "deliveries": [[client, number, unix_time], …],
"cpu_per_call_us": …} — the last is this process's CPU time from the first to the last delivery of each call
divided by the deliveries after the first: what one ``called`` message costs a python-socketio client here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import socketio

# What a browser's websocket offers (Chromium: "permessage-deflate; client_max_window_bits"); aiohttp offers nothing
# unless asked, which would spare the server any compression a real hall display could cost it.
BROWSER_LIKE = {"compress": 15}


async def main(url: str, n: int, offset: int = 0, deflate: bool = True) -> None:
    """Connect ``n`` clients, wait for snapshots, record calls until stdin speaks."""
    deliveries: list[tuple[int, str, float]] = []
    cpu: dict[str, list[float]] = {}
    ready = asyncio.Event()
    snapshots = 0
    clients = []

    def make(i: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False, websocket_extra_options=BROWSER_LIKE if deflate else {})

        @client.on("called", namespace="/display")
        async def called(data: dict) -> None:
            deliveries.append((offset + i, data["number"], time.time()))
            cpu.setdefault(data["number"], []).append(time.process_time())

        @client.on("snapshot", namespace="/display")
        async def snapshot(_: dict) -> None:
            nonlocal snapshots
            snapshots += 1
            if snapshots >= n:
                ready.set()

        return client

    for i in range(n):
        c = make(i)
        await c.connect(url, namespaces=["/display"], transports=["websocket"], wait_timeout=30)
        clients.append(c)
    await asyncio.wait_for(ready.wait(), 60)
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    per_call = [(max(t) - min(t)) / (len(t) - 1) * 1e6 for t in cpu.values() if len(t) > 1]
    cpu_us = sorted(per_call)[len(per_call) // 2] if per_call else None
    print(json.dumps({"clients": n, "deliveries": deliveries, "cpu_per_call_us": cpu_us}), flush=True)
    await asyncio.gather(*(c.disconnect() for c in clients))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--offset", type=int, default=0, help="first client number (several processes)")
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.n, args.offset, deflate=not args.no_deflate))
