"""Hall configuration from TOML: validated, then written into the database when the hall is new."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from hall import schedule
from hall.db import Database
from hall.models import Device, Hall, Item, Queue, User, Window
from hall.passwords import Passwords
from hall.repository import Repository

DEMO_CONFIG = Path(__file__).resolve().parent / "halls" / "demo.toml"
HANDLING_CLASSES = ("立办立结", "前台接件后台办结", "限时办结", "后台直办")
WINDOW_KINDS = ("comprehensive", "tidal", "green", "joint", "dedicated")
QUEUE_KINDS = ("normal", "priority", "joint", "long")
ROLES = ("admin", "manager", "leader", "clerk")


class ConfigError(ValueError):
    """The hall configuration file is wrong; the message says where."""


def load(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a hall TOML file (the shipped demo hall by default)."""
    path = Path(path) if path else DEMO_CONFIG
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    validate(data, str(path))
    return data


def load_all(spec: str | Path | None = None) -> list[dict[str, Any]]:
    """One or several halls: ``a.toml,b.toml`` or a directory of TOML files (a city's network of halls).

    The first hall is the server's default (kiosks and displays without a hall code belong to it).
    """
    if not spec:
        return [load(None)]
    paths: list[Path] = []
    for part in str(spec).split(","):
        path = Path(part.strip())
        paths.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    if not paths:
        raise ConfigError(f"{spec}: no hall configuration found")
    halls = [load(p) for p in paths]
    codes = [h["hall"]["code"] for h in halls]
    if len(set(codes)) != len(codes):
        raise ConfigError(f"{spec}: hall codes repeat: {codes}")
    return halls


def validate(data: dict[str, Any], where: str = "config") -> None:
    """Check references and enumerations so a typo fails at start-up, not at the window."""
    hall = data.get("hall") or {}
    if not hall.get("code") or not hall.get("name"):
        raise ConfigError(f"{where}: [hall] needs code and name")
    queues = {q["code"]: q for q in data.get("queues", [])}
    if not queues:
        raise ConfigError(f"{where}: at least one [[queues]] entry is needed")
    prefixes = [q["prefix"] for q in queues.values()]
    if len(set(prefixes)) != len(prefixes):
        raise ConfigError(f"{where}: queue prefixes must be unique")
    for q in queues.values():
        if q.get("kind", "normal") not in QUEUE_KINDS:
            raise ConfigError(f"{where}: queue {q['code']} has unknown kind {q.get('kind')}")
    codes = set()
    for item in data.get("items", []):
        code = item.get("code")
        if not code or code in codes:
            raise ConfigError(f"{where}: item code missing or duplicated: {code}")
        codes.add(code)
        if item.get("handling_class") not in HANDLING_CLASSES:
            raise ConfigError(f"{where}: item {code} handling_class must be one of {HANDLING_CLASSES}")
        if item.get("queue") not in queues:
            raise ConfigError(f"{where}: item {code} names unknown queue {item.get('queue')}")
    numbers = set()
    for w in data.get("windows", []):
        if w.get("number") in numbers:
            raise ConfigError(f"{where}: window {w.get('number')} defined twice")
        numbers.add(w.get("number"))
        if w.get("kind") not in WINDOW_KINDS:
            raise ConfigError(f"{where}: window {w.get('number')} has unknown kind {w.get('kind')}")
        for code in w.get("queues", []):
            if code not in queues:
                raise ConfigError(f"{where}: window {w['number']} serves unknown queue {code}")
    for s in data.get("staff", []):
        if s.get("role") not in ROLES:
            raise ConfigError(f"{where}: staff {s.get('username')} has unknown role {s.get('role')}")
        if s.get("window") is not None and s["window"] not in numbers:
            raise ConfigError(f"{where}: staff {s.get('username')} works unknown window {s['window']}")
    hosts = (data.get("admin_devices") or {}).get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise ConfigError(f"{where}: [admin_devices] allowed_hosts must be a list of host names, addresses or networks")
    if "printer_ports" in (data.get("admin_devices") or {}):
        from devices.policy import parse_ports

        try:
            parse_ports(data["admin_devices"]["printer_ports"])
        except ValueError as exc:
            raise ConfigError(f'{where}: [admin_devices] printer_ports: {exc} (e.g. [9100, "9200-9203"])') from None
    try:
        schedule.check_opens(schedule.parse_hours(data.get("hours") or {}))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where}: [hours]: {exc}") from exc
    from hall.operations import validate_settings
    from hall.roster import validate_rota

    problems = validate_rota(data, where) + validate_settings(data, where)
    if problems:
        raise ConfigError("; ".join(problems))


def token_hash(token: str) -> str:
    """Devices are stored by the SHA-256 of their token, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def seed(db: Database, data: dict[str, Any], passwords: Passwords, *, demo: bool = True) -> tuple[int, bool]:
    """Create the hall from config if it does not exist yet; return (hall id, created?)."""
    h = data["hall"]
    with db.write() as session:
        repo = Repository(session)
        existing = repo.hall_by_code(h["code"])
        if existing is not None:
            return existing.id, False
        hall = Hall(
            code=h["code"],
            name=h["name"],
            level=h.get("level", "county"),
            parent_code=h.get("parent"),
            timezone=h.get("timezone", "Asia/Shanghai"),
            settings={
                **h.get("settings", {}),
                "notices": [n["text"] for n in data.get("notices", [])],
                "hours": data.get("hours", {}),
                "public_notice": h.get("public_notice", ""),
                **({"location": dict(h["location"])} if "location" in h else {}),
            },
        )
        session.add(hall)
        session.flush()
        for q in data["queues"]:
            session.add(
                Queue(
                    hall_id=hall.id,
                    code=q["code"],
                    prefix=q["prefix"],
                    name=q["name"],
                    kind=q.get("kind", "normal"),
                    service_minutes=float(q.get("service_minutes", 6)),
                )
            )
        for n, item in enumerate(data.get("items", [])):
            session.add(
                Item(
                    hall_id=hall.id,
                    code=item["code"],
                    name=item["name"],
                    category=item.get("category", ""),
                    department=item.get("department", "医保"),
                    handling_class=item["handling_class"],
                    time_limit_days=int(item.get("time_limit_days", 0)),
                    service_minutes=float(item.get("service_minutes", 6)),
                    online=bool(item.get("online", False)),
                    materials=list(item.get("materials", [])),
                    keywords=[str(k) for k in item.get("keywords", [])],
                    queue_code=item["queue"],
                    review_chain=bool(item.get("review_chain", False)),
                    daily_quota=item.get("daily_quota"),
                    sort=int(item.get("sort", n)),
                )
            )
        hashes: dict[str, str] = {}
        for s in data.get("staff", []):
            pw = s.get("password", "")
            if pw not in hashes:
                hashes[pw] = passwords.hash(pw)
            session.add(
                User(
                    # scope = "city": a city-level manager, not tied to one hall (sees every hall's load)
                    hall_id=None if s.get("scope") == "city" else hall.id,
                    username=s["username"],
                    display_name=s.get("display_name", s["username"]),
                    staff_no=s.get("staff_no"),
                    role=s["role"],
                    password_hash=hashes[pw],
                    window_number=s.get("window"),
                    is_demo=demo and pw == "demo",  # only the shipped demo password marks a demo account
                )
            )
        session.flush()
        clerks = {s.get("window"): s["username"] for s in data.get("staff", []) if s.get("window")}
        users = {u.username: u for u in session.query(User).filter(User.hall_id == hall.id)}
        for w in data.get("windows", []):
            clerk = users.get(clerks.get(w["number"], ""))
            session.add(
                Window(
                    hall_id=hall.id,
                    number=w["number"],
                    name=w["name"],
                    kind=w["kind"],
                    queues=list(w.get("queues", [])),
                    state="open" if w.get("open_by_default") else "closed",
                    clerk_id=clerk.id if clerk and w.get("open_by_default") else None,
                )
            )
        for d in data.get("devices", []):
            session.add(
                Device(
                    hall_id=hall.id,
                    name=d["name"],
                    kind=d["kind"],
                    token_hash=token_hash(d["token"]),
                    window_number=d.get("window"),
                    config=dict(d.get("config", {})),
                )
            )
        return hall.id, True
