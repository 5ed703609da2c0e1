"""CausalMerge without sockets or clocks: two streams in, one engine order out."""

from __future__ import annotations

from typing import Any

from market_client._timeline import CausalMerge


def at(gseq: int, gidx: int, **rest: Any) -> dict[str, Any]:
    return {"gseq": gseq, "gidx": gidx, **rest}


def keys(merge: CausalMerge, now: float) -> list[tuple[str, int, int]]:
    return [(e.sock, e.gseq, e.gidx) for e in merge.pop_ready(now)]


def test_a_fill_and_its_trade_come_out_in_engine_order_whichever_socket_is_first() -> None:
    for first in ("cmd", "md"):
        merge = CausalMerge(lateness=1.0)
        fill, trade = ("cmd", "order.filled", at(7, 2)), ("md", "md.trade", at(7, 5))
        for sock, op, payload in (fill, trade) if first == "cmd" else (trade, fill):
            merge.push(sock, op, payload, now=0.0)
        assert keys(merge, 0.0) == [("cmd", 7, 2)]  # nothing earlier can come from MD, which is past it
        assert keys(merge, 0.5) == []  # CMD may still bring something before the trade
        merge.push("cmd", "order.accepted", at(8, 0), now=0.5)
        assert keys(merge, 0.5) == [("md", 7, 5)]


def test_events_wait_for_the_answer_of_an_order_request_in_flight() -> None:
    merge = CausalMerge(lateness=1.0)
    merge.push("md", "md.delta", at(3, 1), now=0.0)
    merge.push("cmd", "order.canceled", at(3, 0), now=0.0)
    merge.request_sent("c-1")  # its command comes after (3, 1), the newest seen
    merge.push("cmd", "order.filled", at(4, 2), now=0.1)  # the server sends a command's events before its answer
    merge.push("md", "md.trade", at(4, 5), now=0.1)
    assert keys(merge, 0.2) == [("cmd", 3, 0), ("md", 3, 1)]
    merge.push("cmd", "order.accepted", at(4, 0), now=0.3)  # made from the answer
    merge.request_done("c-1")
    assert keys(merge, 0.3) == [("cmd", 4, 0), ("cmd", 4, 2)]
    assert keys(merge, 1.1) == [("md", 4, 5)]  # CMD said nothing after it: released after `lateness`
    assert merge.late == 0


def test_a_duplicate_is_dropped_and_an_event_without_a_place_is_not_taken() -> None:
    merge = CausalMerge(lateness=0.0)
    assert merge.push("md", "md.delta", at(1, 0), now=0.0) is True
    assert merge.push("md", "md.delta", at(1, 0), now=0.0) is False
    assert merge.push("md", "md.heartbeat", {"ts": 1}, now=0.0) is False
    assert keys(merge, 0.0) == [("md", 1, 0)]
    assert merge.duplicates == 1 and merge.next_due() is None


def test_an_event_later_than_the_lateness_is_yielded_and_counted() -> None:
    merge = CausalMerge(lateness=0.05)
    merge.push("md", "md.trade", at(5, 3), now=0.0)
    assert merge.next_due() == 0.05
    assert keys(merge, 0.06) == [("md", 5, 3)]
    merge.push("cmd", "order.filled", at(5, 1), now=0.2)
    assert keys(merge, 0.3) == [("cmd", 5, 1)]
    assert merge.late == 1


def test_keys_are_forgotten_beyond_the_memory_bound() -> None:
    merge = CausalMerge(lateness=0.0, remember=2)
    for n in range(3):
        merge.push("md", "md.delta", at(n, 0), now=0.0)
    assert merge.push("md", "md.delta", at(0, 0), now=0.0) is True  # too old to be remembered
    assert merge.push("md", "md.delta", at(2, 0), now=0.0) is False
