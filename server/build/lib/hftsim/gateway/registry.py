"""Which sockets each token, session and user holds open.

One client must not exhaust the server's connections, so sockets are
counted per token and per user (over all their tokens) and a socket past
either limit is closed with 4005. A logout closes every socket of its
session through the same books.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from .outbox import CLOSE_LOGGED_OUT, CLOSE_TOO_MANY_SOCKETS, Outbox

K = TypeVar("K")


class SocketRegistry:
    def __init__(self, per_token: int, per_user: int) -> None:
        self._per_token = per_token
        self._per_user = per_user
        self._by_token: defaultdict[str, set[Outbox]] = defaultdict(set)
        self._by_session: defaultdict[str, set[Outbox]] = defaultdict(set)
        self._by_user: defaultdict[int, set[Outbox]] = defaultdict(set)
        self._held: dict[Outbox, tuple[str, str, int | None]] = {}
        """Per socket: (token, session key, user id) it is counted under."""

    def add(self, outbox: Outbox, token: str, session_key: str, user_id: int | None) -> bool:
        """Count a new socket; False (and the socket closed with 4005) when a limit is reached."""
        if len(self._by_token[token]) >= self._per_token:
            self._refuse(outbox, f"too many sockets for this token (limit {self._per_token})")
            return False
        self._held[outbox] = (token, session_key, None)
        self._by_token[token].add(outbox)
        self._by_session[session_key].add(outbox)
        return user_id is None or self.bind(outbox, user_id)

    def bind(self, outbox: Outbox, user_id: int) -> bool:
        """Count the socket for `user_id` (it logged in); False (and closed with 4005) past the user's limit."""
        held = self._held.get(outbox)
        if held is None:  # refused when it opened
            return False
        token, session_key, previous = held
        if previous == user_id:
            return True
        self._drop(self._by_user, previous, outbox)
        if len(self._by_user[user_id]) >= self._per_user:
            self._held[outbox] = (token, session_key, None)
            self._refuse(outbox, f"too many sockets for this user (limit {self._per_user})")
            return False
        self._held[outbox] = (token, session_key, user_id)
        self._by_user[user_id].add(outbox)
        return True

    def remove(self, outbox: Outbox) -> None:
        held = self._held.pop(outbox, None)
        if held is None:
            return
        token, session_key, user_id = held
        self._drop(self._by_token, token, outbox)
        self._drop(self._by_session, session_key, outbox)
        self._drop(self._by_user, user_id, outbox)

    def log_out(self, session_key: str) -> None:
        """Close every socket of the session with 4003, each after the frames already queued for it."""
        for outbox in list(self._by_session.get(session_key, ())):
            outbox.close_after_sent(CLOSE_LOGGED_OUT, "logged out")

    @staticmethod
    def _refuse(outbox: Outbox, reason: str) -> None:
        outbox.close(CLOSE_TOO_MANY_SOCKETS, reason)

    @staticmethod
    def _drop(books: defaultdict[K, set[Outbox]], key: K | None, outbox: Outbox) -> None:
        if key is None:
            return
        boxes = books.get(key)
        if boxes is not None:
            boxes.discard(outbox)
            if not boxes:
                del books[key]
