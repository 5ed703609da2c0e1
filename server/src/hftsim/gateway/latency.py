"""Latency injection: an added delay on a user's order entry, for teaching how latency matters.

The delay is applied inside the venue, between the gateway and the
sequencer: a trading command that arrives at time t with delay d joins
its user's lane at t + d. Commands are released in order of that due
time, ties in order of arrival, by one timer: so the order between users
depends only on arrival times and delays, never on the event loop's
timer order, and a user with no delay is never held behind one with a
delay. A user's delay is theirs (set by an admin), else their role's,
else the configured default (`[latency]`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from ..protocol.roles import Role
from ..store.users import User


class LatencyGate:
    def __init__(
        self, default_ms: int, roles: dict[str, int], users: dict[str, int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.default_ms = default_ms
        self.roles = dict(roles)
        """Delay per role label."""
        self.users = dict(users)
        """Delay per username: wins over the role's."""
        self._clock = clock
        self._due: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def delay_ms(self, user: User) -> int:
        if not self.users and not self.roles:  # the usual venue: asked once per order, answered at once
            return self.default_ms
        if user.username in self.users:
            return self.users[user.username]
        return self.roles.get(user.role.label, self.default_ms)

    def set(self, *, username: str | None = None, role: Role | None = None, ms: int) -> None:
        """An admin's change; `ms` 0 with a username drops the user's own delay (their role's applies)."""
        if username is not None:
            if ms:
                self.users[username] = ms
            else:
                self.users.pop(username, None)
        elif role is not None:
            self.roles[role.label] = ms
        else:
            self.default_ms = ms

    def table(self) -> dict[str, object]:
        return {"default_ms": self.default_ms, "roles": dict(self.roles), "users": dict(self.users)}

    async def wait(self, user: User) -> None:
        """Return once the user's delay has passed since now, in due-time then arrival order."""
        delay = self.delay_ms(user)
        if delay <= 0:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._due, (self._clock() + delay / 1000, next(self._arrivals), future))
        self._arm()
        await future

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._due:
            loop = asyncio.get_running_loop()
            wait = max(0.0, self._due[0][0] - self._clock())
            self._timer = loop.call_later(wait, self._release)

    def _release(self) -> None:
        self._timer = None
        now = self._clock()
        while self._due and self._due[0][0] <= now:
            _, _, future = heapq.heappop(self._due)
            if not future.done():
                future.set_result(None)
        self._arm()
