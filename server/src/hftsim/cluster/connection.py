"""How every hftsim process connects to NATS."""

from __future__ import annotations

import nats
from nats.aio.client import Client as Nats

RECONNECT_WAIT_S = 0.25


async def connect(url: str, name: str) -> Nats:
    """Reconnect for ever, and never buffer a publish while disconnected.

    `url` may list several servers of a NATS cluster, comma-separated: the
    client starts on any that answers (and learns the others from it).

    A buffered command would be appended after its sender had been told
    ENGINE_UNAVAILABLE; refusing the publish at once keeps "refused" meaning
    "not applied".
    """
    return await nats.connect(
        [seed.strip() for seed in url.split(",")],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=RECONNECT_WAIT_S,
        pending_size=0,
    )
