"""好差评 (GB/T 39734/39735): one rating per 办件, bad ratings open a follow-up case with a deadline.

Channels: the window's rating tablet or pad (device token of that window, rates the 办件 just completed
there), and the citizen's phone (the ticket's tracking secret). Clerks see only their own aggregates; who
rated what stays with supervisors. Core module: no Flask, Socket.IO or device code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hall import schedule
from hall.alerts import Alerts
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES, Actor, Engine
from hall.errors import Conflict, Forbidden, Invalid, NotFound
from hall.events import CaseChanged, RatingReceived
from hall.models import FollowUpCase, Rating, Ticket, TicketItem, User
from hall.repository import Repository

log = logging.getLogger(__name__)

SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
INDICATORS = ("overall", "efficiency", "level", "attitude")  # 整体满意度、服务效率、服务水平、服务态度
DEFAULTS: dict[str, Any] = {
    "rating_hours": 72,  # a 办件 can be rated this long after it was completed
    "window_minutes": 10,  # the window's tablet/pad rates a 办件 completed at most this long ago
    "followup_working_days": 5,  # 差评整改 deadline
}
WINDOW_DEVICES = frozenset({"rater", "pad"})

# Follow-up case moves: action → (allowed from, to, who may do it).
CASE_MOVES: dict[str, tuple[frozenset[str], str, frozenset[str]]] = {
    "contact": (frozenset({"open", "contacted"}), "contacted", STAFF_ROLES),  # 回访 (may be repeated)
    "rectify": (frozenset({"contacted"}), "rectified", STAFF_ROLES),  # 整改
    "explain": (frozenset({"contacted"}), "explained", STAFF_ROLES),  # 解释说明
    "close": (frozenset({"rectified", "explained"}), "closed", SUPERVISOR_ROLES),
    "appeal": (frozenset({"open", "contacted"}), "appealed", STAFF_ROLES),  # 申诉
    "uphold": (frozenset({"appealed"}), "appeal_upheld", frozenset({"manager", "admin"})),  # 申诉成立
    "reject": (frozenset({"appealed"}), "open", frozenset({"manager", "admin"})),  # 申诉不成立
}
FINISHED = frozenset({"closed", "appeal_upheld"})
CASE_STATUSES = ("open", "contacted", "rectified", "explained", "appealed", "appeal_upheld", "closed")


def settings_of(hall_settings: dict[str, Any]) -> dict[str, Any]:
    """The hall's rating settings over the defaults."""
    return {**DEFAULTS, **(hall_settings.get("rating") or {})}


def add_working_days(start: date, days: int, hours: schedule.Hours) -> date:
    """The date ``days`` working days after ``start`` (holidays and 调休 from the hall calendar).

    A calendar with no working day ahead (a bad hours setting) falls back to calendar days, so a 差评 is never
    lost or held up by it; the walk itself is bounded (schedule.MAX_LOOKAHEAD_DAYS).
    """
    try:
        return schedule.add_working_days(start, days, hours)
    except schedule.NoWorkingDay:
        log.warning("no working days in the hall calendar after %s; deadline counted in calendar days", start)
        return start + timedelta(days=days)


def _latest_done(hall_id: int, window_number: int | None, since: datetime, *columns: Any) -> Any:
    """SELECT ``columns`` of the 办件 completed last at a window, if completed at or after ``since``."""
    return (
        select(*columns)
        .join(Ticket, Ticket.id == TicketItem.ticket_id)
        .where(
            Ticket.hall_id == hall_id,
            TicketItem.window_number == window_number,
            TicketItem.status == "done",
            TicketItem.completed_at >= since,
        )
        .order_by(TicketItem.completed_at.desc(), TicketItem.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class _Target:
    ticket_item_id: int
    ticket_id: int
    item_code: str
    window: int | None
    clerk_id: int | None
    completed_at: datetime
    real_name: bool


class Ratings:
    """Stores ratings, runs follow-up cases, computes aggregates."""

    def __init__(self, engine: Engine, alerts: Alerts) -> None:
        self.engine = engine
        self.alerts = alerts
        self.db = engine.db
        self.clock = engine.clock

    # --- rating ---------------------------------------------------------------------------------------
    def rate_ticket(
        self,
        actor: Actor,
        hall_id: int,
        ticket_id: int,
        score: int,
        *,
        token: str | None = None,
        item_code: str | None = None,
        indicators: dict[str, int] | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Rate one 办件 of a ticket: the citizen with the ticket's secret, or the window device that served it."""
        with self.db.read() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.hall_id != hall_id:
                raise NotFound("号码不存在", code="ticket_not_found")
            if actor.role in WINDOW_DEVICES:
                channel = "window"
            elif token is not None and token == ticket.track_token:
                channel = "phone"
            elif token is not None:
                raise Forbidden("号码凭证无效", code="bad_token")
            else:
                raise Forbidden("评价需要号码凭证或窗口评价器", code="forbidden_role")
            done = [ti for ti in ticket.items if ti.status == "done" and ti.completed_at is not None]
            if item_code is not None:
                done = [ti for ti in done if ti.item_code == item_code]
                if not done:
                    raise Conflict(f"事项{item_code}尚未办结，暂不能评价", code="not_completed")
            elif len(done) > 1:
                raise Invalid("该号码办理了两个事项，请指明要评价的事项", code="item_required")
            if not done:
                raise Conflict("业务办结后才能评价", code="not_completed")
            ti = done[0]
            if channel == "window":
                if actor.window_number not in (None, ti.window_number):
                    raise Forbidden("只能评价本窗口办理的业务", code="other_window")
                self._check_just_completed(session, hall_id, ti)
            target = _Target(
                ti.id,
                ticket.id,
                ti.item_code,
                ti.window_number,
                ti.clerk_id,
                ti.completed_at,
                ticket.id_hash is not None,
            )
        return self._store(actor, hall_id, target, score, indicators, comment, channel)

    def _check_just_completed(self, session: Any, hall_id: int, ti: TicketItem) -> None:
        """A window's tablet rates only the 办件 its window completed last, and only for a few minutes.

        The citizen stands at the window then; an older 办件 belongs to someone who has left, and rating it
        from the tablet would let anyone at the window rate (or 差评) other people's business.
        """
        minutes = int(settings_of(self.engine.reference(hall_id).settings)["window_minutes"])
        since = self.clock.now() - timedelta(minutes=minutes)
        latest = session.execute(_latest_done(hall_id, ti.window_number, since, TicketItem.id)).scalar()
        if latest != ti.id:
            raise Conflict(
                f"窗口评价器只能评价本窗口刚办结（{minutes}分钟内）的业务，请用号票二维码在手机上评价",
                code="not_just_completed",
                details={"window_minutes": minutes},
            )

    def rate_at_window(
        self,
        actor: Actor,
        hall_id: int,
        window_number: int,
        score: int,
        *,
        indicators: dict[str, int] | None = None,
        comment: str | None = None,
        channel: str = "pad",
    ) -> dict[str, Any]:
        """The window's pad or tablet rates the 办件 most recently completed there (within a few minutes)."""
        conf = settings_of(self.engine.reference(hall_id).settings)
        since = self.clock.now() - timedelta(minutes=int(conf["window_minutes"]))
        with self.db.read() as session:
            row = session.execute(_latest_done(hall_id, window_number, since, TicketItem, Ticket.id_hash)).first()
            if row is None:
                raise NotFound("本窗口暂无可评价的业务", code="nothing_to_rate")
            ti, id_hash = row
            target = _Target(
                ti.id, ti.ticket_id, ti.item_code, ti.window_number, ti.clerk_id, ti.completed_at, id_hash is not None
            )
        return self._store(actor, hall_id, target, score, indicators, comment, channel)

    def pending_at_window(self, hall_id: int, window_number: int) -> dict[str, Any] | None:
        """What the window's tablet offers to rate now: the 办件 just completed there, if not yet rated."""
        conf = settings_of(self.engine.reference(hall_id).settings)
        since = self.clock.now() - timedelta(minutes=int(conf["window_minutes"]))
        with self.db.read() as session:
            row = session.execute(
                _latest_done(
                    hall_id,
                    window_number,
                    since,
                    TicketItem.id,
                    TicketItem.item_code,
                    Ticket.number,
                    TicketItem.completed_at,
                )
            ).first()
            if row is None:
                return None
            rated = session.scalar(select(Rating.id).where(Rating.ticket_item_id == row.id))
        if rated is not None:
            return None
        item = self.engine.reference(hall_id).items.get(row.item_code)
        return {
            "number": row.number,
            "item": {"code": row.item_code, "name": item.name if item else row.item_code},
            "completed_at": row.completed_at.isoformat(),
        }

    def _store(
        self,
        actor: Actor,
        hall_id: int,
        target: _Target,
        score: int,
        indicators: dict[str, int] | None,
        comment: str | None,
        channel: str,
    ) -> dict[str, Any]:
        if score not in SCORES:
            raise Invalid("评价等级应为1–5", code="bad_score")
        indicators = dict(indicators or {})
        unknown = set(indicators) - set(INDICATORS)
        if unknown or any(v not in SCORES for v in indicators.values()):
            raise Invalid("评价指标应为 overall/efficiency/level/attitude，取值1–5", code="bad_indicators")
        ref = self.engine.reference(hall_id)
        conf = settings_of(ref.settings)
        now = self.clock.now()
        if now - target.completed_at > timedelta(hours=int(conf["rating_hours"])):
            raise Conflict(f"办结超过{conf['rating_hours']}小时的业务不能再评价", code="rating_closed")
        events: list[Any] = []
        with self.db.write() as session:
            if session.scalar(select(Rating.id).where(Rating.ticket_item_id == target.ticket_item_id)) is not None:
                raise Conflict("该事项已评价，不能重复评价", code="already_rated")
            rating = Rating(
                hall_id=hall_id,
                ticket_id=target.ticket_id,
                ticket_item_id=target.ticket_item_id,
                item_code=target.item_code,
                window_number=target.window,
                clerk_id=target.clerk_id,
                score=score,
                indicators=indicators,
                comment=(comment or "").strip()[:500] or None,
                channel=channel,
                real_name=target.real_name,
                rated_at=now,
            )
            session.add(rating)
            session.flush()
            case_id = None
            deadline = None
            if score <= 2:
                hours = schedule.parse_hours(ref.settings.get("hours"), ref.timezone)
                today = now.astimezone(ZoneInfo(ref.timezone)).date()
                leader = session.scalar(
                    select(User.id).where(User.hall_id == hall_id, User.role == "leader").order_by(User.id)
                )
                case = FollowUpCase(
                    hall_id=hall_id,
                    rating_id=rating.id,
                    clerk_id=target.clerk_id,
                    leader_id=leader,
                    status="open",
                    deadline=add_working_days(today, int(conf["followup_working_days"]), hours),
                    opened_at=now,
                    records=[],
                )
                session.add(case)
                session.flush()
                case_id, deadline = case.id, case.deadline
            Repository(session).audit(
                hall_id=hall_id,
                at=now,
                actor_id=actor.id,
                actor=actor.name,
                role=actor.role,
                window_number=target.window,
                action="rating.create",
                target=f"rating {rating.id}",
                before=None,
                after={"score": score, "channel": channel, "case": case_id},
                client=actor.client,
            )
            events.append(
                RatingReceived(
                    hall_id=hall_id,
                    at=now,
                    rating_id=rating.id,
                    score=score,
                    window=target.window,
                    item=target.item_code,
                    case_id=case_id,
                )
            )
            out = {
                "id": rating.id,
                "score": score,
                "level": SCORES[score],
                "item": target.item_code,
                "window": target.window,
                "channel": channel,
                "case_opened": case_id is not None,
                # The citizen is told when the hall will have followed up (hall-local date, working days).
                "followup_days": int(conf["followup_working_days"]) if case_id is not None else None,
                "followup_by": deadline.isoformat() if deadline is not None else None,
            }
        self.engine.bus.publish(events)
        if case_id is not None:
            self._alert_bad(hall_id, case_id, target.window, score)
        return out

    def _alert_bad(self, hall_id: int, case_id: int, window: int | None, score: int) -> None:
        """A new 差评 is an alert for the duty leader and manager until its case is finished."""
        self.alerts.raise_alert(
            hall_id,
            f"case:{case_id}",
            "bad_rating",
            f"{window or '—'}号窗口收到差评（{SCORES[score]}），请跟进整改",
            level="warning",
            details={"case": case_id},
        )

    # --- follow-up cases ----------------------------------------------------------------------------
    def case_action(
        self, actor: Actor, hall_id: int, case_id: int, action: str, *, how: str | None = None, text: str | None = None
    ) -> dict[str, Any]:
        """Move a case (回访/整改/说明/关闭/申诉/复核); clerks act only on their own cases."""
        if action not in CASE_MOVES:
            raise Invalid(f"未知的整改操作: {action}", code="bad_action")
        sources, target, roles = CASE_MOVES[action]
        if actor.role not in roles:
            raise Forbidden("无权执行该整改操作", code="forbidden_role")
        if action in ("contact", "rectify", "explain", "appeal") and not (text or "").strip():
            raise Invalid("请填写回访或整改说明", code="text_required")
        now = self.clock.now()
        with self.db.write() as session:
            case = session.get(FollowUpCase, case_id, with_for_update=True)
            if case is None or case.hall_id != hall_id:
                raise NotFound("整改事项不存在", code="case_not_found")
            if actor.role == "clerk" and case.clerk_id != actor.id:
                raise Forbidden("只能处理本人的差评整改", code="not_your_case")
            if case.status not in sources:
                raise Conflict(f"当前状态为{case.status}，不能{action}", code="bad_case_state")
            before = case.status
            case.status = target
            case.records = [
                *(case.records or []),
                {"at": now.isoformat(), "by": actor.name, "action": action, "how": how, "text": (text or "").strip()},
            ]
            if target in FINISHED:
                case.closed_at = now
            Repository(session).audit(
                hall_id=hall_id,
                at=now,
                actor_id=actor.id,
                actor=actor.name,
                role=actor.role,
                window_number=actor.window_number,
                action=f"case.{action}",
                target=f"case {case.id}",
                before={"status": before},
                after={"status": target},
                client=actor.client,
            )
            view = _case_dict(case)
        self.engine.bus.publish([CaseChanged(hall_id=hall_id, at=now, case_id=case_id, status=target)])
        if target in FINISHED:
            self.alerts.clear(hall_id, f"case:{case_id}")
        return view

    def cases(self, actor: Actor, hall_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
        """Cases of the hall (clerks: only their own), newest first."""
        stmt = select(FollowUpCase).where(FollowUpCase.hall_id == hall_id).order_by(FollowUpCase.id.desc())
        if actor.role == "clerk":
            stmt = stmt.where(FollowUpCase.clerk_id == actor.id)
        elif actor.role not in SUPERVISOR_ROLES:
            raise Forbidden("无权查看差评整改", code="forbidden_role")
        if status:
            stmt = stmt.where(FollowUpCase.status == status)
        with self.db.read() as session:
            return [_case_dict(c) for c in session.scalars(stmt)]

    def overdue(self, hall_id: int) -> list[dict[str, Any]]:
        """Unfinished cases past their deadline; each raises an alert (the scheduler's watcher calls this)."""
        ref = self.engine.reference(hall_id)
        today = self.clock.now().astimezone(ZoneInfo(ref.timezone)).date()
        with self.db.read() as session:
            rows = [
                _case_dict(c)
                for c in session.scalars(
                    select(FollowUpCase).where(
                        FollowUpCase.hall_id == hall_id,
                        FollowUpCase.status.not_in(FINISHED),
                        FollowUpCase.deadline < today,
                    )
                )
            ]
        for case in rows:
            self.alerts.raise_alert(
                hall_id,
                f"case:{case['id']}",
                "case_overdue",
                f"差评整改已超期（期限{case['deadline']}）",
                level="critical",
                details={"case": case["id"]},
            )
        return rows

    # --- aggregates --------------------------------------------------------------------------------------
    def summary(self, hall_id: int, since: datetime, until: datetime, *, clerk_id: int | None = None) -> dict:
        """Counts per level, 好评率 (4–5 share), 差评 count, closed on time and 实名差评回访率."""
        stmt = select(Rating).where(Rating.hall_id == hall_id, Rating.rated_at >= since, Rating.rated_at < until)
        if clerk_id is not None:
            stmt = stmt.where(Rating.clerk_id == clerk_id)
        with self.db.read() as session:
            ratings = session.scalars(stmt).all()
            ids = [r.id for r in ratings]
            cases = session.scalars(select(FollowUpCase).where(FollowUpCase.rating_id.in_(ids))).all() if ids else []
            by_rating = {c.rating_id: c for c in cases}
            levels = {str(k): 0 for k in SCORES}
            for r in ratings:
                levels[str(r.score)] += 1
            n = len(ratings)
            bad = [r for r in ratings if r.score <= 2]
            real_bad = [r for r in bad if r.real_name]
            contacted = [
                r
                for r in real_bad
                if r.id in by_rating and any(x["action"] == "contact" for x in by_rating[r.id].records or [])
            ]
            tz = ZoneInfo(self.engine.reference(hall_id).timezone)  # deadlines are hall-local dates
            on_time = [
                c
                for c in cases
                if c.status in FINISHED and c.closed_at is not None and c.closed_at.astimezone(tz).date() <= c.deadline
            ]
            mean = session.scalar(select(func.avg(Rating.score)).where(Rating.id.in_(ids))) if ids else None
            good = sum(1 for r in ratings if r.score >= 4)
        return {
            "count": n,
            "levels": levels,
            "mean": round(float(mean), 2) if mean is not None else None,
            "good_rate": round(good / n, 4) if n else None,
            "bad": len(bad),
            "bad_closed_on_time": len(on_time),
            "real_name_bad": len(real_bad),
            "revisit_rate": round(len(contacted) / len(real_bad), 4) if real_bad else None,
        }


def _case_dict(c: FollowUpCase) -> dict[str, Any]:
    return {
        "id": c.id,
        "rating_id": c.rating_id,
        "clerk_id": c.clerk_id,
        "leader_id": c.leader_id,
        "status": c.status,
        "deadline": c.deadline.isoformat(),
        "opened_at": c.opened_at.isoformat(),
        "closed_at": c.closed_at.isoformat() if c.closed_at else None,
        "records": list(c.records or []),
    }
