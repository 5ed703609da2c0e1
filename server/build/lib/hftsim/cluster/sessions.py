"""Logging out on one gateway logs out on all of them.

Sessions live in the shared users' database, so every gateway accepts
every token; but each gateway caches the sessions it has seen. A logout
is therefore announced on NATS, and every gateway drops the session from
its cache and closes its sockets, as the gateway that took the logout does.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from .sequencer import StreamSequencer

SUBJECT = "hftsim.sessions.revoked"


class Revocations:
    def __init__(self, sequencer: StreamSequencer) -> None:
        self._sequencer = sequencer
        self._sub: Subscription | None = None

    async def start(self, forget: Callable[[str], None]) -> None:
        """Call `forget(session_key)` for every logout, on any gateway (this one's included)."""

        async def heard(msg: Msg) -> None:
            forget(msg.data.decode())

        self._sub = await self._sequencer.nats.subscribe(SUBJECT, cb=heard)

    async def announce(self, session_key: str) -> None:
        await self._sequencer.nats.publish(SUBJECT, session_key.encode())
