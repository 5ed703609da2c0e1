"""Request/response matching without I/O: which waiter a frame answers, and which events it brings.

`Inbox` is the bookkeeping half of a session: it holds one waiter per
request in flight (any object: the asyncio session gives futures, a test
gives strings), and turns every frame received into a `Delivery`: the
events to hand on (the frame's own, or the event a place/amend/cancel
answer stands for) and the waiter it answers, if any. It never blocks and
never touches a socket, so every way a frame can arrive (an answer, a late
answer to a request given up, a liveness probe's answer, an event, noise)
is tested without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from ._envelope import EnvelopeError, Event, Response, parse, restated

W = TypeVar("W")

Delivery = tuple[Sequence[Event], W | None, Response | None, str | None]
"""What one frame means, as (events, waiter, response, ignored): the events to hand on, the response with the
waiter it answers, and why the frame answers nobody and brings no event (for the log), when that is so.

A plain tuple, not a class: one is made per order's answer, and making a class's instance enters the
interpreter once more for its `__init__` (about 1,900 instructions under callgrind, a tuple about none)."""

NOTHING: Delivery[Any] = ((), None, None, None)
"""A frame that needs nothing more done (a liveness probe's answer: it proved the link alive by arriving)."""


class Inbox(Generic[W]):
    """The requests in flight on one session, by msg_id, and the liveness probes among them."""

    def __init__(self) -> None:
        self._waiting: dict[str, W] = {}
        self._probes: set[str] = set()

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered (probes not counted)."""
        return len(self._waiting)

    def expect(self, msg_id: str, waiter: W) -> None:
        """A request went out: its answer goes to `waiter`."""
        self._waiting[msg_id] = waiter

    def pending(self) -> dict[str, W]:
        """The requests in flight by msg_id (probes not among them), to look through; not to change."""
        return self._waiting

    def forget(self, msg_id: str) -> None:
        """The request was given up (timeout, a failed write): a later answer is stray."""
        self._waiting.pop(msg_id, None)

    def probe(self, msg_id: str) -> None:
        """A liveness ping went out: its answer only proves the link is alive."""
        self._probes.add(msg_id)

    def drain(self) -> list[W]:
        """The link is gone: every waiter, to be failed; nothing is in flight afterwards."""
        waiters = list(self._waiting.values())
        self._waiting.clear()
        self._probes.clear()
        return waiters

    def receive(self, frame: str | bytes, restate: bool = True) -> Delivery[W]:
        """Classify one frame; `restate` false: an answer comes without the event it stands for (the caller makes
        it when needed, see `RequestSession.on_restated`)."""
        try:
            message = parse(frame)
        except EnvelopeError as exc:
            return (), None, None, f"a frame that is not an envelope: {exc}"
        if isinstance(message, Event):
            return (message,), None, None, None
        corr_id = message.corr_id
        waiter = self._waiting.pop(corr_id, None) if corr_id is not None else None  # answered: no longer in flight
        if waiter is not None:
            event = restated(message) if restate else None
            return () if event is None else (event,), waiter, message, None
        if corr_id in self._probes:
            self._probes.discard(corr_id)
            return NOTHING
        return (
            (),
            None,
            None,
            f"a response to no pending request (late or unparsable): "
            f"{message.op} {message.error_code} {message.error_message}",
        )
