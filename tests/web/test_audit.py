"""The audit trail: every change is chained; tampering (edit, delete, insert, truncate) is found; search."""

from __future__ import annotations

import sqlite3
import threading

from hall import audit
from tests.factories import act, issue


def chain_of(svc):
    (v,) = audit.verify(svc.db, svc.hall_id)
    return v


def a_day(kiosk, staff) -> None:
    for _ in range(3):
        issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    act(clerk, 1, "start")
    act(clerk, 1, "complete")


def test_every_change_is_chained(kiosk, staff, svc) -> None:
    a_day(kiosk, staff)
    v = chain_of(svc)
    assert v.ok and v.rows >= 7  # 3 issues, a login, call, start, complete
    rows = staff("manager").get("/api/v1/hall/audit", query_string={"action": "ticket."}).get_json()
    assert rows["chain"]["ok"] is True
    assert {e["action"] for e in rows["entries"]} >= {"ticket.issue"}
    assert all(len(e["hash"]) == 64 for e in rows["entries"])


def test_tampering_is_detected(kiosk, staff, svc, db_path) -> None:
    a_day(kiosk, staff)
    raw = sqlite3.connect(db_path)
    ids = [r[0] for r in raw.execute("SELECT id FROM audit_log WHERE hall_id = ? ORDER BY id", (svc.hall_id,))]
    raw.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?", (ids[2],))
    raw.commit()
    v = chain_of(svc)
    assert not v.ok and v.first_bad_id == ids[2] and "changed" in v.reason
    raw.execute(
        "UPDATE audit_log SET actor = (SELECT actor FROM audit_log WHERE id = ?) WHERE id = ?", (ids[3], ids[2])
    )
    raw.execute("DELETE FROM audit_log WHERE id = ?", (ids[4],))
    raw.commit()
    assert chain_of(svc).first_bad_id is not None
    raw.close()


def test_removing_the_newest_rows_is_detected(kiosk, staff, svc, db_path) -> None:
    a_day(kiosk, staff)
    assert chain_of(svc).ok
    raw = sqlite3.connect(db_path)
    raw.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log WHERE hall_id = ?)", (svc.hall_id,))
    raw.commit()
    raw.close()
    v = chain_of(svc)
    assert not v.ok and "head" in v.reason


def test_concurrent_writers_keep_one_chain(app, svc) -> None:
    def go() -> None:
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-kiosk-1"
        for _ in range(15):
            assert c.post("/api/v1/tickets", json={"items": ["YB001"]}).status_code in (201, 429)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    v = chain_of(svc)
    assert v.ok and v.rows >= 30


def test_verify_command_and_who_may_search(app, kiosk, staff, db_path) -> None:
    issue(kiosk)
    ok = app.test_cli_runner().invoke(args=["hall", "audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE audit_log SET target = 'X999' WHERE id = (SELECT min(id) FROM audit_log)")
    raw.commit()
    raw.close()
    bad = app.test_cli_runner().invoke(args=["hall", "audit-verify"])
    assert bad.exit_code == 1 and "BROKEN" in bad.output
    assert staff("leader").get("/api/v1/hall/audit").status_code == 403
    assert staff("clerk1").get("/api/v1/hall/audit").status_code == 403


def test_rows_from_before_the_chain_are_chained_by_the_migration(tmp_path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from hall.db import Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade("0006")
    with db.write() as session:
        session.execute(
            text(
                "INSERT INTO halls (id, code, name, level, timezone, settings) VALUES "
                "(1, 'h', 'h', 'county', 'Asia/Shanghai', '{}')"
            )
        )
        for n in range(3):
            session.execute(
                text(
                    "INSERT INTO audit_log (hall_id, at, actor, role, action, target) "
                    "VALUES (1, :at, 'a', 'clerk', 'x', :t)"
                ),
                {"at": datetime(2026, 11, 20, 1, n, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), "t": f"T{n}"},
            )
    db.upgrade()
    (v,) = audit.verify(db, 1)
    assert v.ok and v.rows == 3
    db.dispose()
