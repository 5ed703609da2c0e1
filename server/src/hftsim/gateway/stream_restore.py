"""Restoring a saved venue on a cluster gateway: a `restore` marker in every shard's stream.

The gateway publishes each shard's saved engine to the object store, then
appends a marker naming it to that shard's stream; the shard and every
replica take the engine at the marker (cluster/markers.py), carrying on
the market's numbering, so all of them reach one state hash. Every
gateway pauses at the marker, as `hftsim serve` pauses after a restore.
The trade history and fills listed so far stay; the objects stay in the
store for as long as the streams hold the markers naming them.
"""

from __future__ import annotations

import pickle
import secrets
from typing import TYPE_CHECKING

import nats.errors
import nats.js.errors

from ..cluster.markers import Marker
from ..cluster.market import ShardedMarket
from ..cluster.snapshots import fits
from ..protocol.errors import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from ..cluster.sequencer import StreamSequencer


async def restore(sequencer: StreamSequencer, saved: object, snapshot_id: int) -> None:
    """Make `saved` (a snapshot's market) every shard's market from their restore markers on."""
    live = sequencer.engine
    if (
        not isinstance(saved, ShardedMarket)
        or len(saved.engines) != len(live.engines)
        or not all(fits(engine, now) for engine, now in zip(saved.engines, live.engines, strict=False))
    ):
        raise ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"snapshot {snapshot_id} was saved for other shards, symbols, limits or cash; it cannot be restored here",
        )
    token = secrets.token_hex(6)
    markers = []
    for spec, engine in zip(live.layout.shards, saved.engines, strict=True):
        name = f"restore-{token}-{spec.name}"
        try:
            await sequencer.published.put(name, pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            message = f"the snapshot could not be handed to shard {spec.name} ({type(exc).__name__}); nothing changed"
            raise ProtocolError(ErrorCode.ENGINE_UNAVAILABLE, message) from None
        markers.append(Marker("restore", {"object": name, "snapshot_id": snapshot_id}))
    await sequencer.mark(markers, f"restore:{token}")
