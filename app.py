"""Composition root: builds the Flask app, Socket.IO, the engine and its subscribers.

``python app.py [--host 127.0.0.1] [--port 5000]`` serves the hall; ``flask --app app db upgrade`` migrates.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_babel import Babel
from flask_socketio import SocketIO

from hall import config as hall_config
from hall.alerts import Alerts
from hall.appointments import Appointments
from hall.bus import EventBus
from hall.clock import SystemClock
from hall.db import Database
from hall.engine import Engine
from hall.passwords import Passwords
from hall.ratings import Ratings
from hall.tidal_live import TidalController
from hall.web.context import HallApp
from hall.web.origins import socket_origin_check, split_list

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("hall")
babel = Babel()

LANGUAGES = ("zh_CN", "en")


def select_locale() -> str:
    """Chinese first: English only when asked for (``?lang=en`` or the ``lang`` cookie)."""
    wanted = request.args.get("lang") or request.cookies.get("lang")
    return wanted if wanted in LANGUAGES else "zh_CN"


def init_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults, then the environment, then test overrides (the Flask tutorial's order)."""
    instance = Path(os.environ.get("HALL_INSTANCE", ROOT / "instance"))
    app.config.from_mapping(
        ENV_NAME=os.environ.get("HALL_ENV", "development"),
        INSTANCE_DIR=str(instance),
        DATABASE_URL=os.environ.get("HALL_DATABASE_URL", f"sqlite:///{instance / 'hall.db'}"),
        HALL_CONFIG=os.environ.get("HALL_CONFIG") or None,
        MESSAGE_QUEUE=os.environ.get("HALL_MESSAGE_QUEUE") or None,
        # Trusted reverse proxies in front (nginx: 1). 0 = X-Forwarded-* are ignored (clients could forge them).
        PROXY_HOPS=int(os.environ.get("HALL_PROXY_HOPS", "0")),
        PUBLIC_URL=os.environ.get("HALL_PUBLIC_URL") or None,
        # Flask refuses requests whose Host is not listed (400); tracking links use only these hosts when
        # HALL_PUBLIC_URL is unset (hall/web/origins.py). Empty: intranet addresses and localhost only.
        TRUSTED_HOSTS=list(split_list(os.environ.get("HALL_TRUSTED_HOSTS"))) or None,
        # Browser origins besides the request's own allowed to open Socket.IO (a reverse proxy's public name).
        ALLOWED_ORIGINS=split_list(os.environ.get("HALL_ALLOWED_ORIGINS")),
        SECRET_KEY=os.environ.get("HALL_SECRET_KEY"),
        FAST_HASH=False,
        CLOCK=None,
        AUTO_MIGRATE=True,
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "hall" / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        # Secure cookies always (1), else only on HTTPS requests (direct or via a trusted proxy's X-Forwarded-Proto).
        SESSION_COOKIE_SECURE=os.environ.get("HALL_SECURE_COOKIES") == "1",
        SESSION_COOKIE_SAMESITE="Lax",
        # A staff session lasts one working day (then log in again), unless HALL_SESSION_HOURS says otherwise.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=float(os.environ.get("HALL_SESSION_HOURS", "12"))),
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Demos and benchmarks outside office hours: accept walk-in tickets at any time.
        OPEN_ALL_HOURS=os.environ.get("HALL_OPEN_ALL_HOURS") == "1",
        RATELIMIT_ENABLED=os.environ.get("HALL_RATELIMIT", "1") != "0",
        # How often printers are asked for their status (0 = never; tests poll explicitly).
        DEVICE_POLL_SECONDS=float(os.environ.get("HALL_DEVICE_POLL_SECONDS", "30")),
        # How often the tidal window rule runs (0 = never; tests tick explicitly).
        TIDAL_TICK_SECONDS=float(os.environ.get("HALL_TIDAL_TICK_SECONDS", "60")),
        # How often every process signs out windows whose console went silent (0 = never; tests sweep explicitly).
        PRESENCE_SWEEP_SECONDS=float(os.environ.get("HALL_PRESENCE_SWEEP_SECONDS", "10")),
        # Whether this process runs the daily jobs (exactly one process should: docs/operations.md).
        SCHEDULER=os.environ.get("HALL_SCHEDULER", "1") != "0",
        # Serial LED strips, rating pads and keypads (docs/devices.md): "auto" drives them unless TESTING or in
        # a flask command, "1" always, "0" never; strips are reconciled with the windows every N seconds.
        SERIAL_DEVICES=os.environ.get("HALL_SERIAL_DEVICES", "auto"),
        SERIAL_SYNC_SECONDS=float(os.environ.get("HALL_SERIAL_SYNC_SECONDS", "5")),
        # Rehearse each hall's moves at start-up in a rolled-back transaction (Engine.warm_up): "auto" unless
        # TESTING (test suites build hundreds of apps), "1" always, "0" never.
        WARM_UP=os.environ.get("HALL_WARM_UP", "auto"),
    )
    if test_config:
        app.config.update(test_config)
    from hall.api import SafeJSONProvider, SafeResponse

    app.json = SafeJSONProvider(app)
    app.response_class = SafeResponse
    production = app.config["ENV_NAME"] == "production"
    if not app.config["SECRET_KEY"]:
        if production:
            raise RuntimeError("HALL_SECRET_KEY must be set when HALL_ENV=production")
        app.config["SECRET_KEY"] = _dev_secret(instance)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _dev_secret(instance: Path) -> str:
    """A per-install random key kept under instance/ so sessions survive restarts in development."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def init_services(app: Flask) -> HallApp:
    """Database (migrated), hall config (seeded if new), clock, bus and engine."""
    db = Database(app.config["DATABASE_URL"])
    halls = hall_config.load_all(app.config["HALL_CONFIG"])  # one hall, or a city's network of halls
    data = halls[0]
    passwords = Passwords(fast=bool(app.config["FAST_HASH"]))
    with db.setup_lock():  # several server processes starting at once migrate and seed one after another
        if app.config["AUTO_MIGRATE"]:
            db.upgrade()
        seeded = [hall_config.seed(db, d, passwords) for d in halls]
    hall_id, created = seeded[0]
    clock = app.config["CLOCK"] or SystemClock()
    bus = EventBus()
    engine = Engine(db, clock, bus, pepper=app.config["SECRET_KEY"], enforce_hours=not app.config["OPEN_ALL_HOURS"])
    alerts = Alerts(db, clock, bus)
    svc = HallApp(
        db=db,
        engine=engine,
        clock=clock,
        bus=bus,
        passwords=passwords,
        alerts=alerts,
        appointments=Appointments(engine),
        tidal=TidalController(engine),
        ratings=Ratings(engine, alerts),
        hall_id=hall_id,
        hall_code=data["hall"]["code"],
        hall_ids=[h for h, _ in seeded],
        config=data,
        production=app.config["ENV_NAME"] == "production",
    )
    app.extensions["hall"] = svc
    for (_, new), d in zip(seeded, halls, strict=True):
        if new:
            log.info("seeded hall %s (%s)", d["hall"]["code"], d["hall"]["name"])
    return svc


def init_realtime(app: Flask, svc: HallApp) -> None:
    """Flask-SocketIO in threading mode (optionally over a Redis message queue) and the broadcaster."""
    from hall.realtime import init_realtime as start_realtime

    # One SocketIO per app: tests build many apps in one process.
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=app.config["MESSAGE_QUEUE"],
        # Never []: that turns Engine.IO's Origin check off, and any web page could ride a staff cookie.
        cors_allowed_origins=socket_origin_check(app.config),
    )
    app.extensions["hall.socketio"] = socketio
    app.extensions["hall.broadcaster"] = start_realtime(socketio, svc)


def init_proxy(app: Flask) -> None:
    """Behind nginx: the client's address (rate limits, audit), scheme and host from the proxy's X-Forwarded-*.

    Wraps the whole WSGI app, Socket.IO included, so it runs after init_realtime.
    """
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def init_devices(app: Flask, svc: HallApp) -> None:
    """Ticket printing for kiosks and the guide desk with printer health polling."""
    from kiosk.printing import PrintService

    settings = svc.config["hall"].get("settings", {})
    printing = PrintService(svc.db, svc.alerts, notice=settings.get("receipt_notice"))
    app.extensions["hall.printing"] = printing
    interval = app.config["DEVICE_POLL_SECONDS"]
    if interval > 0 and not app.config.get("TESTING"):
        printing.start_monitor(svc.hall_ids or [svc.hall_id], interval)
    # Long waits and overdue 差评 cases raise alerts for the dashboard (every minute; 0 = never).
    from hall.dashboard import Dashboard

    watch = float(os.environ.get("HALL_WATCH_SECONDS", "60"))
    if watch > 0 and not app.config.get("TESTING"):
        watcher = Dashboard(svc.engine, svc.alerts, svc.ratings)
        app.extensions["hall.watch"] = watcher
        watcher.start(svc.hall_ids or [svc.hall_id], watch)
    # Presence: a window whose console stopped beating is signed out (timeout 40 s + sweep 10 s < 1 minute).
    sweep = app.config["PRESENCE_SWEEP_SECONDS"]
    if sweep > 0 and not app.config.get("TESTING"):
        from hall.ticker import Ticker

        app.extensions["hall.presence"] = Ticker(
            "presence-sweep", svc.engine.sweep_presence, svc.hall_ids or [svc.hall_id], sweep
        ).start()
    # Serial devices at the windows (LED strips, rating pads, keypads) in the same registry as the printers.
    from devices.service import DeviceService, should_start

    serial = DeviceService(
        svc,
        printing=printing,
        lock_path=Path(app.config["INSTANCE_DIR"]) / "serial-devices.lock",
        sync_seconds=app.config["SERIAL_SYNC_SECONDS"],
    )
    app.extensions["hall.devices"] = serial
    if should_start(app.config, os.environ):
        try:
            serial.start()
        except Exception:  # a device problem must never keep the hall from starting
            log.exception("serial devices could not start")


def init_scheduler(app: Flask, svc: HallApp) -> None:
    """Duty roster and the daily jobs (device check, opening, tidal rule, 限时办结 watcher, closing).

    The roster is filled from the hall config in every process; the scheduler starts only in the process
    meant to run it (hall.scheduler.should_start: not under TESTING, not in ``flask`` commands, not with
    HALL_SCHEDULER=0), once.
    """
    from hall import scheduler
    from hall.operations import Operations
    from hall.roster import Roster

    def device_checks() -> dict[str, Any]:
        # Looked up at run time: the serial device layer registers itself as "hall.devices" when present.
        checks = {"printers": app.extensions["hall.printing"].check}
        serial = app.extensions.get("hall.devices")
        if serial is not None and hasattr(serial, "check"):
            checks["serial"] = serial.check
        return checks

    roster = Roster(svc.engine)
    ops = Operations(svc.engine, svc.alerts, svc.appointments, svc.tidal, roster, device_checks=device_checks)
    specs = []
    for hall_id in getattr(svc, "hall_ids", None) or [svc.hall_id]:  # every hall this deployment serves
        ops.ensure_roster(hall_id)
        ref = svc.engine.reference(hall_id)
        tidal = app.config["TIDAL_TICK_SECONDS"]
        specs += scheduler.job_specs(ref.code, hall_id, ref.settings, ref.timezone, tidal_seconds=tidal)
    tz = svc.engine.reference(svc.hall_id).timezone
    jobs = scheduler.HallScheduler(svc.db, specs, timezone=tz, clock=svc.clock)
    app.extensions.update({"hall.roster": roster, "hall.operations": ops, "hall.scheduler": jobs})
    if scheduler.should_start(app.config, os.environ):
        scheduler.bind(ops)
        try:
            jobs.start()
        except Exception as exc:  # the hall still serves without its timetable; the manager must know
            log.exception("scheduler did not start")
            svc.alerts.raise_alert(
                svc.hall_id, "job:scheduler", "scheduler_failed", f"定时任务未能启动：{exc}", level="critical"
            )


def init_pages(app: Flask) -> None:
    """Browser pages: counter console, hall and counter displays (and the kiosk, when present)."""
    import importlib

    for module in ("hall.web.common", "hall.web.pages", "hall.web.manager", "display.web", "kiosk.web"):
        try:
            blueprint = importlib.import_module(module).bp
        except ModuleNotFoundError as exc:
            if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
                raise  # a real missing dependency inside the page module
            continue
        app.register_blueprint(blueprint)


def init_cli(app: Flask) -> None:
    """``flask --app app db upgrade`` and ``flask --app app hall …`` commands."""
    from hall.web.cli import db_cli, hall_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(hall_cli)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the hall app: config, services, auth, i18n, API, realtime, pages."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        static_folder=str(ROOT / "hall" / "web" / "static"),
        template_folder=str(ROOT / "hall" / "web" / "templates"),
    )
    init_config(app, test_config)
    svc = init_services(app)

    from hall import api
    from hall.web import limits, security

    security.init_app(app)
    limits.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    api.init_app(app)
    init_realtime(app, svc)
    init_proxy(app)
    init_devices(app, svc)
    init_scheduler(app, svc)
    init_pages(app)
    init_cli(app)
    if app.config["WARM_UP"] == "1" or (app.config["WARM_UP"] == "auto" and not app.config.get("TESTING")):
        warm_up(svc)
    if not app.config.get("TESTING"):
        tune_gc()  # a serving process (python app.py, each gunicorn worker); test suites build hundreds of apps

    @app.after_request
    def remember_language(response: Any) -> Any:
        """``?lang=en`` (or zh_CN) sticks in a cookie so every page follows the choice."""
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and request.cookies.get("lang") != wanted:
            response.set_cookie("lang", wanted, max_age=365 * 86400, samesite="Lax", secure=request.is_secure)
        return response

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("api-docs.openapi_json"))

    return app


def demo_banner(app: Flask) -> str:
    """The start-up text listing the demo accounts (refused in production)."""
    svc: HallApp = app.extensions["hall"]
    staff = svc.config.get("staff", [])
    lines = [f"hall {svc.config['hall']['name']} ({svc.hall_code})"]
    if svc.production:
        lines.append("production: demo accounts are disabled")
    else:
        lines.append("demo accounts (password 'demo'): " + ", ".join(s["username"] for s in staff))
    return "\n".join(lines)


def warm_up(svc: HallApp) -> None:
    """Rehearse every hall's moves once (rolled back) so the first call of the day is as fast as the rest."""
    started = time.perf_counter()
    for hall_id in svc.hall_ids:
        try:
            moves = svc.engine.warm_up(hall_id)
        except Exception:  # a rehearsal must never keep the hall from opening: the first moves are just slower
            log.warning("warm-up of hall %s failed", hall_id, exc_info=True)
            continue
        log.info("warm-up of hall %s: %d moves rehearsed and rolled back", hall_id, moves)
    log.info("warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


def tune_gc() -> None:
    """Fewer garbage collections in a long-running server process.

    A server with hundreds of open screens holds about a million tracked objects, and with CPython's default
    thresholds collections over them run every few seconds under load; a call that meets one reaches the displays
    later. What exists after start-up (modules, the app, the catalogue) lives as long as the process: ``freeze``
    takes it out of every collection, and a larger young generation makes collections rarer (cyclic garbage still
    goes, in larger batches). Measured with 200 displays (bench realtime, idle 2 cores, 6 runs each): call →
    display p99 63–75 ms with the default thresholds, 33–62 ms (median 47) with 50000,20,100.
    ``HALL_GC_THRESHOLDS`` overrides them.
    """
    gc.collect()
    gc.freeze()
    young, middle, old = (int(v) for v in os.environ.get("HALL_GC_THRESHOLDS", "50000,20,100").split(","))
    gc.set_threshold(young, middle, old)


def main(argv: list[str] | None = None) -> None:
    """Serve the hall with Flask-SocketIO (threading mode, real websockets via simple-websocket)."""
    parser = argparse.ArgumentParser(description="Serve the hall")
    parser.add_argument("--host", default=os.environ.get("HALL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HALL_PORT", "5000")))
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("HALL_ACCESS_LOG", "0") == "1",
        help="log every HTTP request (off by default: a busy hall logs hundreds per second and it costs ~20%% CPU)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    print(demo_banner(app), flush=True)
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    socketio = app.extensions["hall.socketio"]
    socketio.run(
        app,
        host=args.host,
        port=args.port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=args.access_log,
    )


if __name__ == "__main__":
    main()
