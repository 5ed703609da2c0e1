"""Inbox without sockets: every way a frame can arrive, and what becomes of the waiters."""

from __future__ import annotations

from typing import Any

import orjson

from market_client._envelope import restates
from market_client._matching import NOTHING, Inbox


def response(corr_id: str, op: str = "ping", ok: bool = True, **payload: Any) -> bytes:
    message: dict[str, Any] = {"type": "response", "ver": 1, "msg_id": "s1", "ts": 5, "op": op}
    message.update(corr_id=corr_id, ok=ok, payload=payload)
    if not ok:
        message["error"] = {"code": "RATE_LIMITED", "message": "slow down"}
    return orjson.dumps(message)


def test_an_answer_goes_to_its_waiter_among_many_in_flight() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "first")
    inbox.expect("c-2", "second")
    events, waiter, answer, ignored = inbox.receive(response("c-2", "book.get", sym="ACME"))
    assert waiter == "second" and answer is not None and ignored is None
    assert answer.payload == {"sym": "ACME"} and not events
    assert inbox.in_flight == 1  # answered: no longer in flight, and a second answer to it goes to nobody
    _, waiter, _, ignored = inbox.receive(response("c-2", "book.get"))
    assert waiter is None and ignored is not None


def test_a_refusal_is_an_answer_too() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "w")
    _, waiter, answer, _ = inbox.receive(response("c-1", ok=False))
    assert waiter == "w" and answer is not None and answer.error_code == "RATE_LIMITED"


def test_an_order_answer_brings_the_event_it_stands_for_placed_first_in_its_command() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "w")
    order = {"order_id": 4, "client_order_id": "x", "status": "new"}
    events, waiter, _, _ = inbox.receive(response("c-1", "order.place", order=order, gseq=12))
    [event] = events
    assert event.op == "order.accepted" and event.payload == {"order": order, "gseq": 12, "gidx": 0}
    assert waiter == "w"


def test_a_late_answer_to_a_request_given_up_goes_to_nobody() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "w")
    inbox.forget("c-1")  # it timed out
    events, waiter, _, ignored = inbox.receive(response("c-1", "order.place", order={"order_id": 1}))
    assert waiter is None and not events and ignored is not None
    assert "no pending request" in ignored


def test_a_probe_answer_is_silent_and_events_and_noise_are_told_apart() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.probe("p-1")
    assert inbox.receive(response("p-1")) == NOTHING  # it proved the link alive: nothing else, no complaint
    events, waiter, _, _ = inbox.receive(
        orjson.dumps({"type": "event", "ver": 1, "op": "md.heartbeat", "payload": {"ts": 1}})
    )
    assert [e.op for e in events] == ["md.heartbeat"] and waiter is None
    events, _, _, ignored = inbox.receive(b"not json")
    assert not events and ignored is not None and "not an envelope" in ignored


def test_a_lost_link_hands_back_every_waiter_once() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "a")
    inbox.expect("c-2", "b")
    inbox.probe("p-1")
    assert inbox.drain() == ["a", "b"]
    assert inbox.drain() == [] and inbox.in_flight == 0


def test_an_order_answer_can_come_without_its_event_for_the_caller_to_make() -> None:
    inbox: Inbox[str] = Inbox()
    inbox.expect("c-1", "w")
    events, waiter, answer, _ = inbox.receive(
        response("c-1", "order.place", order={"order_id": 4}, gseq=12), restate=False
    )
    assert events == () and waiter == "w" and answer is not None
    assert restates(answer)
