"""Routing policies on hand-built situations."""

from __future__ import annotations

import pytest

from hall.routing import Candidate, HallPolicy, PooledPolicy, WindowView, get_policy

COMPREHENSIVE = WindowView(number=1, kind="comprehensive", queues=("A", "B", "L"))
GREEN = WindowView(number=7, kind="green", queues=("L", "A", "B"))
JOINT = WindowView(number=8, kind="joint", queues=("J", "R", "A"))
BOTH = WindowView(number=9, kind="comprehensive", queues=("A", "R"))


def cand(tid: int, queue: str, key: float, waited_min: float = 1, **kw) -> Candidate:
    kind = {"L": "priority", "J": "joint", "B": "long"}.get(queue, "normal")
    return Candidate(
        ticket_id=tid,
        queue=queue,
        sort_key=key,
        waited_seconds=waited_min * 60,
        queue_kind=kind,
        priority=queue == "L",
        joint=queue == "J",
        **kw,
    )


def test_pooled_is_fifo_across_the_windows_queues() -> None:
    p = PooledPolicy()
    assert p.choose(COMPREHENSIVE, [cand(1, "B", 5), cand(2, "A", 3)]).ticket_id == 2
    assert p.choose(COMPREHENSIVE, [cand(1, "R", 1)]) is None  # not a queue of this window
    assert p.choose(COMPREHENSIVE, []) is None


def test_green_window_takes_its_own_line_first() -> None:
    p = HallPolicy()
    assert p.choose(GREEN, [cand(1, "A", 1), cand(2, "L", 9)]).ticket_id == 2


def test_priority_interleave_two_to_one_at_pooled_windows() -> None:
    p = HallPolicy({"priority_weight": 2})
    both = [cand(1, "A", 1), cand(2, "L", 5)]
    assert p.choose(COMPREHENSIVE, both, recent=()).ticket_id == 2
    assert p.choose(COMPREHENSIVE, both, recent=(True,)).ticket_id == 2
    assert p.choose(COMPREHENSIVE, both, recent=(True, True)).ticket_id == 1  # the normal line gets its turn
    assert p.choose(COMPREHENSIVE, both, recent=(False, True, True)).ticket_id == 2
    # weight 0 switches the interleave off: plain FIFO
    assert HallPolicy({"priority_weight": 0}).choose(COMPREHENSIVE, both, recent=()).ticket_id == 1


def test_sla_guard_calls_the_longest_waiting_first() -> None:
    p = HallPolicy({"sla_minutes": 30})
    situation = [cand(1, "L", 9, waited_min=5), cand(2, "B", 8, waited_min=31), cand(3, "A", 1, waited_min=40)]
    assert p.choose(COMPREHENSIVE, situation).ticket_id == 3
    assert p.choose(GREEN, situation).ticket_id == 3  # even the green window helps an overdue ticket
    assert HallPolicy({"sla_minutes": 0}).choose(GREEN, situation).ticket_id == 1


def test_joint_tickets_fall_back_to_skilled_windows_after_a_wait() -> None:
    p = HallPolicy({"joint_fallback_minutes": 20})
    young = cand(1, "J", 1, waited_min=5, item_queues=("A", "R"))
    old = cand(2, "J", 1, waited_min=25, item_queues=("A", "R"))
    assert p.choose(BOTH, [young]) is None
    assert p.choose(BOTH, [old]).ticket_id == 2
    assert p.choose(COMPREHENSIVE, [old]) is None  # window 1 cannot do the 人社 item
    assert p.choose(JOINT, [young]).ticket_id == 1
    assert "J" in p.queues_to_scan(BOTH, {"A": "normal", "J": "joint", "R": "normal"})
    assert "J" not in HallPolicy({"joint_fallback_minutes": 0}).queues_to_scan(BOTH, {"J": "joint"})


def test_targeted_tickets_compete_by_their_sort_key() -> None:
    p = HallPolicy()
    sent_first = cand(5, "R", 0.5, targeted=True)
    assert p.choose(COMPREHENSIVE, [cand(1, "A", 1), sent_first]).ticket_id == 5
    sent_last = cand(5, "R", 99, targeted=True)
    assert p.choose(COMPREHENSIVE, [cand(1, "A", 1), sent_last]).ticket_id == 1


def test_unknown_policy_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown routing policy"):
        get_policy("fastest")
