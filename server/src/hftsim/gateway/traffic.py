"""Admission of each incoming message: per-connection and per-user rates, and the breach policy.

Every frame counts, malformed or not, before it is parsed: a flood of
garbage costs its sender, not the venue. The limits are announced at login
(`announced`), so a well-behaved client can pace itself under them.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from ..config import Settings, TrafficSettings
from .ratelimit import RateLimiter
from .sessions import Session

BREACH_WINDOW_S = 10.0
"""The disconnect policy counts breaches over this many seconds."""

_connections = itertools.count(1)


class Admission:
    """One connection's gate: its own bucket, its user's shared bucket, its recent breaches."""

    def __init__(
        self, settings: TrafficSettings, users: RateLimiter, on_breach: Callable[[], None] | None = None
    ) -> None:
        """`on_breach` hears of every refused message (the round's scores count them).

        The connection's bucket runs on the users' limiter's clock: one reading per message serves both.
        """
        self.policy = settings.breach_policy
        self._disconnect_after = settings.disconnect_after
        self._own = RateLimiter(settings.per_connection.burst, settings.per_connection.per_second, users.clock)
        self._key = f"c{next(_connections)}"
        self._users = users
        self._breaches: deque[float] = deque()
        self._on_breach = on_breach

    def admit(self, user_key: str) -> float:
        """Take a token from both buckets and return 0, or take none and return the seconds to wait.

        Each bucket is read once (this runs for every message).
        """
        own, users, key = self._own, self._users, self._key
        now = users.clock()
        mine, shared = own.tokens(key, now), users.tokens(user_key, now)
        if mine < 1 or shared < 1:
            return max(own.wait(mine), users.wait(shared))
        own.spend(key, mine, now)
        users.spend(user_key, shared, now)
        return 0.0

    def breach(self) -> bool:
        """Record a refused message; True when the disconnect policy says this connection must go."""
        if self._on_breach is not None:
            self._on_breach()
        if self.policy != "disconnect":
            return False
        now = self._users.clock()
        breaches = self._breaches
        breaches.append(now)
        while breaches[0] < now - BREACH_WINDOW_S:
            breaches.popleft()
        return len(breaches) >= self._disconnect_after


def sender_key(session: Session) -> str:
    """Whose message bucket a message draws on: the user's once logged in, else the session's."""
    return f"u{session.user.user_id}" if session.user is not None else f"s{session.key}"


def user_limiter(settings: TrafficSettings) -> RateLimiter:
    return RateLimiter(settings.per_user.burst, settings.per_user.per_second)


def announced(settings: Settings) -> dict[str, Any]:
    """The limits a user trades under, as the login response tells them."""
    traffic, limits, server = settings.traffic, settings.limits, settings.server
    return {
        "messages_per_second": traffic.per_connection.per_second,
        "message_burst": traffic.per_connection.burst,
        "user_messages_per_second": traffic.per_user.per_second,
        "user_message_burst": traffic.per_user.burst,
        "breach_policy": traffic.breach_policy,
        "disconnect_after": traffic.disconnect_after,
        "queued_commands": traffic.queued_per_user,
        "max_order_qty": limits.max_order_qty,
        "max_position": limits.max_position,
        "max_open_orders": limits.max_open_orders,
        "max_active_volume": limits.max_active_volume,
        "max_order_notional": str(limits.max_order_notional),
        "sockets_per_token": server.sockets_per_token,
        "sockets_per_user": server.sockets_per_user,
    }
