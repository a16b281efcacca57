"""The audit trail (内控: 事前防范、事中监控、事后可追溯): append-only rows chained with SHA-256.

Each row's hash covers its content and the previous row's hash in the same chain (one chain per hall), so
changing, deleting or inserting a row breaks every hash after it. ``verify`` walks a chain and names the
first row that does not match. Core module: no Flask.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Text, bindparam, func, insert, literal, select, update

from hall.db import Database
from hall.models import AuditEntry, AuditHead

GENESIS = "0" * 64
FIELDS = (
    "hall_id",
    "at",
    "actor_id",
    "actor",
    "role",
    "window_number",
    "action",
    "target",
    "before",
    "after",
    "client",
)


def canonical(values: dict[str, Any]) -> str:
    """The row's content as stable JSON (UTC ISO times, sorted keys) — what the hash covers."""
    out = {}
    for key in FIELDS:
        value = values.get(key)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        out[key] = value
    return json.dumps(out, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and this row's canonical content."""
    return hashlib.sha256((prev_hash + canonical(values)).encode()).hexdigest()


def chain_key(hall_id: int | None) -> int:
    """Rows without a hall (failed logins of unknown users) form chain 0."""
    return hall_id or 0


def append(conn: Any, values: dict[str, Any]) -> None:
    """Insert one audit row at the end of its hall's chain, inside the caller's transaction.

    The chain head is read with FOR UPDATE (PostgreSQL) or under SQLite's single writer, so two writers never
    chain onto the same predecessor. Core statements: this runs in every state change.

    On PostgreSQL the three steps (lock and read the head, insert the row, move the head) are one statement, so
    one round trip instead of three while the transaction holds the hall's head lock (and, when issuing, the
    queue's number counter): the server computes the same SHA-256 over the previous hash and the canonical
    content that Python sends (``verify`` recomputes it in Python). A chain without a head yet takes the
    three-step path.
    """
    key = chain_key(values.get("hall_id"))
    row = {k: values.get(k) for k in FIELDS}
    pg = conn.dialect.name == "postgresql"
    if pg and conn.execute(_PG_APPEND, {**row, "k": key, "content": canonical(row)}).first() is not None:
        return
    prev = conn.execute(_HEAD, {"k": key}).scalar_one_or_none() or GENESIS
    new_hash = digest(prev, row)
    new_id = conn.execute(_INSERT, {**row, "prev_hash": prev, "hash": new_hash}).scalar_one()
    if conn.execute(_MOVE_HEAD, {"k": key, "id": new_id, "h": new_hash}).rowcount == 0:
        conn.execute(_NEW_HEAD, {"k": key, "id": new_id, "h": new_hash})


_HEADS = AuditHead.__table__
_HEAD = select(_HEADS.c.last_hash).where(_HEADS.c.chain == bindparam("k")).with_for_update()
_INSERT = insert(AuditEntry.__table__).returning(AuditEntry.__table__.c.id)
_MOVE_HEAD = (
    update(_HEADS).where(_HEADS.c.chain == bindparam("k")).values(last_id=bindparam("id"), last_hash=bindparam("h"))
)
_NEW_HEAD = insert(_HEADS).values(chain=bindparam("k"), last_id=bindparam("id"), last_hash=bindparam("h"))


def _pg_append() -> Any:
    """WITH prev AS (head FOR UPDATE), row AS (INSERT … hash = sha256(prev || content)) UPDATE head FROM row."""
    log = AuditEntry.__table__
    prev = (
        select(_HEADS.c.last_hash)
        .where(_HEADS.c.chain == bindparam("k"))
        .with_for_update()
        .cte("prev")
        .prefix_with("MATERIALIZED")
    )
    content = prev.c.last_hash.op("||")(bindparam("content", type_=Text))
    new_hash = func.encode(func.sha256(func.convert_to(content, literal("UTF8"))), literal("hex"))
    fields = [bindparam(k, type_=log.c[k].type) for k in FIELDS]
    row = (
        insert(log)
        .from_select([*FIELDS, "prev_hash", "hash"], select(*fields, prev.c.last_hash, new_hash).select_from(prev))
        .returning(log.c.id, log.c.hash, bindparam("k", type_=Integer).label("chain"))
        .cte("new_row")
    )
    return (
        update(_HEADS)
        .where(_HEADS.c.chain == row.c.chain)
        .values(last_id=row.c.id, last_hash=row.c.hash)
        .returning(row.c.id)
    )


_PG_APPEND = _pg_append()


@dataclass(frozen=True)
class Verdict:
    """Result of checking one chain."""

    chain: int
    rows: int
    ok: bool
    first_bad_id: int | None = None
    reason: str | None = None


def verify(db: Database, hall_id: int | None = None) -> list[Verdict]:
    """Recompute every chain (or one hall's) and compare with the stored hashes and the chain head."""
    with db.read() as session:
        heads = {h.chain: (h.last_id, h.last_hash) for h in session.scalars(select(AuditHead))}
        keys = [chain_key(hall_id)] if hall_id is not None else sorted(heads) or [0]
        out = []
        for key in keys:
            stmt = select(AuditEntry).order_by(AuditEntry.id)
            stmt = stmt.where(AuditEntry.hall_id.is_(None)) if key == 0 else stmt.where(AuditEntry.hall_id == key)
            prev, n, bad = GENESIS, 0, None
            last_id = None
            for row in session.execute(stmt.execution_options(yield_per=1000)).scalars():
                n += 1
                values = {k: getattr(row, k) for k in FIELDS}
                if row.prev_hash != prev:
                    bad = (row.id, "previous hash does not match (a row before it was removed or inserted)")
                    break
                if row.hash != digest(prev, values):
                    bad = (row.id, "content does not match its hash (the row was changed)")
                    break
                prev, last_id = row.hash, row.id
            if bad is None and key in heads and heads[key] != (last_id, prev):
                bad = (last_id, "the chain ends before its recorded head (rows at the end were removed)")
            out.append(Verdict(key, n, bad is None, *(bad or (None, None))))
        return out


def search(
    db: Database,
    hall_id: int,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """A hall's audit rows, newest first, filtered (action prefix, actor, target substring, time range)."""
    stmt = select(AuditEntry).where(AuditEntry.hall_id == hall_id).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if target:
        stmt = stmt.where(AuditEntry.target.contains(target))
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    with db.read() as session:
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "role": r.role,
                "window": r.window_number,
                "action": r.action,
                "target": r.target,
                "before": r.before,
                "after": r.after,
                "client": r.client,
                "hash": r.hash,
            }
            for r in session.scalars(stmt)
        ]
