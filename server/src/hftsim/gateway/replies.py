"""Exactly-once requests: a msg_id seen again in the same session is not run again.

A client that lost an answer (a dropped link, a timeout) may send the
same request again with the same msg_id. A state-changing request's answer
is kept, so the copy gets the very same answer and the order is placed
once; any other request's msg_id is remembered without its answer (a book
can be large), and its copy is told DUPLICATE_MSG. A copy that arrives
while the first is still running, or that names another op, is told
DUPLICATE_MSG too: only a true copy gets the kept answer. Transient
refusals (rate limit, store down) are forgotten, so the client may retry
them as they were. Memory is bounded: the last `window` msg_ids per session.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from ..protocol.errors import ErrorCode, ProtocolError

WINDOW = 4096

_RUNNING: Final = b""
_ANSWERED: Final = b"\x00"
"""Markers: the request is still running / its answer was not kept."""


class Replies:
    def __init__(self, window: int = WINDOW) -> None:
        self._window = window
        self._ops: OrderedDict[str, str] = OrderedDict()
        """msg_id -> its op, oldest first: the window."""
        self._answers: dict[str, bytes] = {}
        """msg_id -> its kept answer or a marker. Kept apart from the op, so nothing kept here is a container: an
        (op, answer) pair per request was the one object each order left for the collector to walk (a settle of
        gateway/heap.py walked one per order of the last 0.1 s)."""

    def begin(self, msg_id: str, op: str) -> bytes | None:
        """None for a new msg_id (now marked running); the kept answer of a repeated one; else DUPLICATE_MSG."""
        earlier_op = self._ops.get(msg_id)
        if earlier_op is None:
            self._ops[msg_id] = op
            self._answers[msg_id] = _RUNNING
            if len(self._ops) > self._window:
                del self._answers[self._ops.popitem(last=False)[0]]
            return None
        earlier = self._answers[msg_id]
        if earlier_op != op:
            raise ProtocolError(
                ErrorCode.DUPLICATE_MSG, f"msg_id {msg_id!r} was already used for {earlier_op}; use a new msg_id"
            )
        if earlier == _RUNNING:
            raise ProtocolError(
                ErrorCode.DUPLICATE_MSG, f"msg_id {msg_id!r} is still being processed; its answer will follow"
            )
        if earlier == _ANSWERED:
            raise ProtocolError(
                ErrorCode.DUPLICATE_MSG, f"msg_id {msg_id!r} was already used in this session; use a new msg_id"
            )
        return earlier

    def finish(self, msg_id: str, answer: bytes | None) -> None:
        """Record the answer to keep for copies (None: remember only that it was answered)."""
        if msg_id in self._answers:
            self._answers[msg_id] = _ANSWERED if answer is None else answer

    def forget(self, msg_id: str) -> None:
        if self._ops.pop(msg_id, None) is not None:
            del self._answers[msg_id]
