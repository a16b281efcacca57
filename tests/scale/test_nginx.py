"""docs/nginx-hall.conf in front of the two server processes: REST, websockets and sticky long-polling work."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import socketio

from bench.server import ROOT, free_port
from tests.conftest import require
from tests.scale.conftest import DisplayClient, issue, staff

EXAMPLE = ROOT / "docs" / "nginx-hall.conf"


@pytest.fixture
def nginx(cluster, tmp_path: Path):
    """nginx (foreground, temp prefix) running the documented example with the cluster's ports."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    require(binary is not None, "nginx not installed")
    port = free_port()
    site = EXAMPLE.read_text()
    upstreams = "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n"
    assert upstreams in site and "    listen 80;\n" in site
    ports = [cluster.a.port, cluster.b.port]
    site = site.replace(upstreams, "".join(f"    server 127.0.0.1:{p};\n" for p in ports))
    site = site.replace("    listen 80;\n", f"    listen 127.0.0.1:{port};\n")
    (tmp_path / "hall.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
        f"http {{\n  access_log off;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n  include {tmp_path / 'hall.conf'};\n}}\n"
    )
    proc = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if requests.get(f"{url}/api/v1/items", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError((tmp_path / "error.log").read_text()[-2000:])
        time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


def test_the_example_nginx_config_carries_rest_websockets_and_polling(cluster, nginx: str) -> None:
    # A display over a websocket through nginx, and one over HTTP long-polling (sticky upstream).
    ws = DisplayClient(nginx)
    polling = socketio.Client(reconnection=False)
    got: list[dict] = []
    polling.on("called", got.append, namespace="/display")
    polling.connect(nginx, namespaces=["/display"], transports=["polling"], wait_timeout=10)
    try:
        ws.next("snapshot")
        assert polling.transport() == "polling"
        # REST through nginx (session cookie and CSRF token), the call made on one process behind it.
        clerk = staff(nginx, "clerk3")
        issue(nginx, "YB001")
        r = clerk.post(f"{nginx}/api/v1/windows/3/call-next", timeout=10)
        assert r.status_code == 200, r.text
        number = r.json()["ticket"]["number"]
        ws.next("called", where=lambda d: d["number"] == number)
        deadline = time.monotonic() + 10
        while not any(d["number"] == number for d in got):
            assert time.monotonic() < deadline, "no call over long-polling"
            time.sleep(0.05)
        # A call made directly on the other process also reaches the displays behind nginx (Redis queue).
        clerk.post(f"{nginx}/api/v1/windows/3/no-show", timeout=10).raise_for_status()
        direct = staff(cluster.b.url, "clerk3")
        r = direct.post(f"{cluster.b.url}/api/v1/windows/3/call-next", timeout=10)
        assert r.status_code == 200, r.text
        again = r.json()["ticket"]["number"]
        ws.next("called", where=lambda d: d["number"] == again)
        for action in ("start", "complete"):
            direct.post(f"{cluster.b.url}/api/v1/windows/3/{action}", timeout=10).raise_for_status()
    finally:
        ws.close()
        polling.disconnect()
