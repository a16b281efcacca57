"""审核链 for special items (seed 001): window accepts → risk control (风控) checks → the day's duty leader
approves → the window closes the 办件 (办结). Either check may send it back (rejected, with the reason).

Items marked ``review_chain`` in the catalogue go through it after the window has served the citizen.
Risk control is any account listed in ``[hall.settings.review] risk_control`` (usernames), or a manager;
the approval belongs to today's duty leader (hall.roster), or a manager when the roster names nobody.

Separation of duties (四眼原则): submit, check and approve are three different people, and whoever checked or
approved may not close. The submitting window may close its own 办件 (一窗受理、一柜台办结): closing hands the
result to the citizen, it is not a control. So a manager who names himself duty leader, or a clerk who is also
risk control, cannot push a review through alone. Core module: no Flask.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.engine import STAFF_ROLES, Actor, Engine
from hall.errors import Conflict, Forbidden, Invalid, NotFound
from hall.events import ReviewChanged
from hall.models import ReviewCase, Ticket, TicketItem
from hall.roster import Roster

STEPS: dict[str, tuple[str, str]] = {  # action → (from status, to status when ok)
    "check": ("submitted", "checked"),
    "approve": ("checked", "approved"),
    "close": ("approved", "closed"),
}
# action → the earlier steps whose actor may not take it (separation of duties).
EXCLUDES: dict[str, frozenset[str]] = {
    "check": frozenset({"submit"}),
    "approve": frozenset({"submit", "check"}),
    "close": frozenset({"check", "approve"}),
}


def conflicting_step(actor_name: str, action: str, steps: list[dict[str, Any]]) -> str | None:
    """The earlier step of this review that ``actor_name`` took and that rules out ``action`` (else None)."""
    for step in steps:
        if step.get("by") == actor_name and step.get("step") in EXCLUDES.get(action, ()):
            return str(step["step"])
    return None


class Reviews:
    """Runs the review chain and says whose turn it is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock
        self.roster = Roster(engine)

    def _risk_users(self, hall_id: int) -> set[str]:
        conf = self.engine.reference(hall_id).settings.get("review") or {}
        return set(conf.get("risk_control", []))

    def duty_leader(self, hall_id: int) -> str | None:
        """Today's duty leader's username (None when the roster names nobody)."""
        leader = self.roster.day(hall_id, self.roster.today(hall_id))["leader"]
        return leader["username"] if leader else None

    def may(self, actor: Actor, hall_id: int, action: str, case: dict[str, Any]) -> bool:
        """Whether ``actor`` takes this step now (their role allows it and they took no conflicting step)."""
        if conflicting_step(actor.name, action, case["steps"]):
            return False
        if action == "check":
            return actor.name in self._risk_users(hall_id) or actor.role in ("manager", "admin")
        if action == "approve":
            leader = self.duty_leader(hall_id)
            return actor.name == leader or (leader is None and actor.role in ("manager", "admin"))
        if action == "close":
            return (actor.role == "clerk" and actor.window_number == case["window"]) or actor.role in (
                "leader",
                "manager",
                "admin",
            )
        return False

    def submit(self, actor: Actor, hall_id: int, ticket_id: int, item_code: str | None = None) -> dict[str, Any]:
        """The window sends a served 办件 of a review-chain item to risk control."""
        if actor.role not in STAFF_ROLES:
            raise Forbidden("无权提交审核", code="forbidden_role")
        ref = self.engine.reference(hall_id)
        now = self.clock.now()
        with self.db.write() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.hall_id != hall_id:
                raise NotFound("号码不存在", code="ticket_not_found")
            candidates = [
                ti
                for ti in ticket.items
                if ref.items.get(ti.item_code) is not None
                and ref.items[ti.item_code].review_chain
                and (item_code is None or ti.item_code == item_code)
            ]
            if not candidates:
                raise Invalid("该号码没有需要审核的事项", code="no_review_item")
            ti: TicketItem = candidates[0]
            served_here = ticket.window_number or ti.window_number
            if actor.role == "clerk" and served_here not in (None, actor.window_number):
                raise Forbidden("只能提交本窗口受理的业务", code="wrong_window")
            if session.scalar(select(ReviewCase.id).where(ReviewCase.ticket_item_id == ti.id)) is not None:
                raise Conflict("该事项已提交审核", code="already_submitted")
            case = ReviewCase(
                hall_id=hall_id,
                ticket_id=ticket.id,
                ticket_item_id=ti.id,
                item_code=ti.item_code,
                window_number=served_here or actor.window_number,
                status="submitted",
                created_at=now,
                updated_at=now,
                steps=[{"at": now.isoformat(), "by": actor.name, "role": actor.role, "step": "submit", "ok": True}],
            )
            session.add(case)
            session.flush()
            view = _view(case, ticket.number)
        self.engine.record(actor, hall_id, "review.submit", target=f"review {view['id']}", after={"item": view["item"]})
        self.engine.bus.publish([ReviewChanged(hall_id=hall_id, at=now, review_id=view["id"], status="submitted")])
        return view

    def act(
        self, actor: Actor, hall_id: int, review_id: int, action: str, *, ok: bool = True, note: str | None = None
    ) -> dict[str, Any]:
        """check (风控), approve (值班领导) or close (窗口办结); ``ok=False`` rejects with ``note``."""
        if action not in STEPS:
            raise Invalid(f"未知的审核操作: {action}", code="bad_action")
        if not ok and not (note or "").strip():
            raise Invalid("退回须说明理由", code="note_required")
        if action == "close" and not ok:
            raise Invalid("办结不能退回", code="bad_action")
        now = self.clock.now()
        with self.db.write() as session:
            case = session.get(ReviewCase, review_id, with_for_update=True)
            if case is None or case.hall_id != hall_id:
                raise NotFound("审核事项不存在", code="review_not_found")
            number = session.scalar(select(Ticket.number).where(Ticket.id == case.ticket_id))
            view = _view(case, number)
            earlier = conflicting_step(actor.name, action, view["steps"])
            if earlier is not None:
                raise Forbidden(
                    "同一审核事项的各步骤须由不同人员办理，请由其他人员办理这一步",
                    code="separation_of_duties",
                    details={"step": action, "already": earlier},
                )
            if not self.may(actor, hall_id, action, view):
                raise Forbidden(_WHO[action], code="not_your_step")
            source, target = STEPS[action]
            if case.status != source:
                raise Conflict(f"当前状态为“{_NAMES[case.status]}”，不能{_ACTIONS[action]}", code="bad_review_state")
            before = case.status
            case.status = target if ok else "rejected"
            case.updated_at = now
            case.steps = [
                *(case.steps or []),
                {"at": now.isoformat(), "by": actor.name, "role": actor.role, "step": action, "ok": ok, "note": note},
            ]
            view = _view(case, number)
        self.engine.record(
            actor,
            hall_id,
            f"review.{action}",
            target=f"review {review_id}",
            before={"status": before},
            after={"status": view["status"], "note": note},
        )
        self.engine.bus.publish([ReviewChanged(hall_id=hall_id, at=now, review_id=review_id, status=view["status"])])
        return view

    def list(self, actor: Actor, hall_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
        """Review cases, newest first, each with ``my_turn`` for the caller."""
        stmt = select(ReviewCase, Ticket.number).join(Ticket, Ticket.id == ReviewCase.ticket_id)
        stmt = stmt.where(ReviewCase.hall_id == hall_id).order_by(ReviewCase.id.desc())
        if status:
            stmt = stmt.where(ReviewCase.status == status)
        with self.db.read() as session:
            rows = [_view(c, n) for c, n in session.execute(stmt).all()]
        for row in rows:
            step = next((a for a, (src, _) in STEPS.items() if src == row["status"]), None)
            row["next_step"] = step
            row["my_turn"] = bool(step) and self.may(actor, hall_id, step, row)
        return rows


REVIEW_STATUSES = ("submitted", "checked", "approved", "closed", "rejected")
_NAMES = {
    "submitted": "待风控审核",
    "checked": "待领导审批",
    "approved": "待窗口办结",
    "closed": "已办结",
    "rejected": "已退回",
}
_ACTIONS = {"submit": "提交", "check": "风控审核", "approve": "审批", "close": "办结"}
_WHO = {
    "check": "只有风控岗（或大厅负责人）可以审核",
    "approve": "只有今日值班领导可以审批",
    "close": "只有受理窗口或值班领导可以办结",
}


def _view(case: ReviewCase, number: str | None) -> dict[str, Any]:
    return {
        "id": case.id,
        "ticket_id": case.ticket_id,
        "number": number,
        "item": case.item_code,
        "window": case.window_number,
        "status": case.status,
        "status_name": _NAMES[case.status],
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "steps": list(case.steps or []),
    }
