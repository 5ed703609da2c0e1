"""The sequencer's fair queues, without sockets."""

from __future__ import annotations

from hftsim.gateway.fairqueue import FairQueue


def test_users_are_served_round_robin_and_each_keeps_its_order() -> None:
    queue: FairQueue[str] = FairQueue(per_key_limit=1000)
    for i in range(500):
        queue.push("flooder", f"f{i}")
    queue.push("alice", "a0")
    queue.push("alice", "a1")
    queue.push("bob", "b0")
    assert queue.pop(6) == ["f0", "a0", "b0", "f1", "a1", "f2"]
    assert len(queue) == 497 and queue.queued("alice") == 0
    rest = queue.pop(10_000)
    assert rest == [f"f{i}" for i in range(3, 500)] and len(queue) == 0


def test_a_full_lane_refuses_only_its_own_user() -> None:
    queue: FairQueue[int] = FairQueue(per_key_limit=2)
    assert queue.push("a", 1) and queue.push("a", 2)
    assert not queue.push("a", 3)
    assert queue.push("b", 1)
    assert queue.pop(10) == [1, 1, 2]
