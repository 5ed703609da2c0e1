"""Sim control: pause and resume the venue, and save and restore it whole.

Pausing freezes the books: every trading request of a user (place, amend,
cancel) is refused with MARKET_PAUSED and the agents' clock stands still
(sim/runner.py), until an admin resumes. An admin may step the agents
forward meanwhile.

A snapshot is the venue's state: the engine (books, orders, accounts), the
read models (trades, candles, fills) and the simulated participants with
their random generators. Restoring one replaces the running market's state
in place, so every part that holds the engine keeps holding the right one;
the restored engine carries on the running one's numbering
(Engine.carry_on_from), and it is written to the journal as its snapshot
before it takes over, so a restart recovers the restored market. Replacing
the market this way is also how a new round starts afresh (rounds.py).

A cluster gateway restores through its shards' streams instead
(stream_restore.py): the market is replaced at the same stream position on
every gateway and shard.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import re
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..engine import RULES, Engine
from ..engine.core.events import Record
from ..engine.queries import MarketQueries
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.errors import StoreUnavailable

if TYPE_CHECKING:
    from ..sim import Simulation
    from ..store.journal import Journal
    from .venue import Market, Venue

SNAPSHOT_DIR = "snapshots"
NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,48}$")


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    snapshot_id: int
    name: str
    seq: int
    """The command seq the venue had when it was saved."""
    ts: int
    state_hash: str
    """venue_hash() of the saved state: a restore reproduces it exactly."""


def venue_hash(engine: MarketQueries, sim: Simulation | None) -> str:
    """The engine's state hash together with the agents' whole state (random generators included)."""
    digest = hashlib.sha256(engine.state_hash().encode())
    if sim is not None:
        digest.update(repr(canonical(sim, {})).encode())
    return digest.hexdigest()


def canonical(obj: Any, seen: dict[int, int]) -> Any:
    """A plain, ordered rendering of an object graph, equal for equal states.

    Pickled bytes are not (memo order, set order); this walks attributes
    and slots, orders dicts and sets, renders each random generator by its
    state, and numbers shared objects by first visit.
    """
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, Enum)):
        return repr(obj)
    if isinstance(obj, random.Random):
        return ("Random", obj.getstate())
    if id(obj) in seen:
        return ("ref", seen[id(obj)])
    seen[id(obj)] = len(seen)
    if isinstance(obj, dict):
        return ("dict", sorted((repr(canonical(k, seen)), canonical(v, seen)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [canonical(v, seen) for v in obj])
    if isinstance(obj, (set, frozenset)):
        return ("set", sorted(repr(canonical(v, seen)) for v in obj))
    if isinstance(obj, Record):  # engine events: compiled, they have neither __dict__ nor __slots__
        return (type(obj).__qualname__, canonical(obj.values(), seen))
    if isinstance(obj, Engine):
        return ("Engine", canonical(obj.state(), seen))
    if hasattr(obj, "__dict__"):
        fields = dict(vars(obj))
    elif hasattr(type(obj), "__mypyc_attrs__"):  # the compiled agents: mypyc lists their attributes
        fields = dict(cast(Any, obj).__getstate__())
    else:
        fields = {}
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(obj, name):
                fields[name] = getattr(obj, name)
    return (type(obj).__qualname__, sorted((k, canonical(v, seen)) for k, v in fields.items()))


def transplant(target: object, source: object) -> None:
    """Make `target` hold `source`'s state, so that whoever refers to `target` sees the new state."""
    if isinstance(target, Engine) and isinstance(source, Engine):
        target.adopt(source)  # a compiled engine has no __dict__
        return
    if not hasattr(target, "__dict__"):  # the compiled agents: mypyc's state methods cover every attribute
        cast(Any, target).__setstate__(cast(Any, source).__getstate__())
        return
    state = vars(target)
    state.clear()
    state.update(vars(source))


class MarketControl:
    """The venue's pause switch and its saved snapshots (files in the data directory)."""

    def __init__(self, data_dir: Path) -> None:
        self.paused = False
        self._dir = data_dir / SNAPSHOT_DIR

    def snapshots(self) -> list[SnapshotInfo]:
        if not self._dir.is_dir():
            return []
        infos = [SnapshotInfo(**json.loads(p.read_text())) for p in self._dir.glob("*.json")]
        return sorted(infos, key=lambda i: i.snapshot_id)

    def save(self, venue: Venue, name: str | None) -> SnapshotInfo:
        if name is not None and not NAME.match(name):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'name': 1-48 letters, digits, spaces, '.', '_' or '-'")
        sim = venue.agents.sim if venue.agents is not None else None
        existing = self.snapshots()
        snapshot_id = existing[-1].snapshot_id + 1 if existing else 1
        info = SnapshotInfo(
            snapshot_id=snapshot_id,
            name=name or f"snapshot {snapshot_id}",
            seq=venue.engine.seq,
            ts=int(time.time() * 1000),
            state_hash=venue_hash(venue.engine, sim),
        )
        self._dir.mkdir(parents=True, exist_ok=True)
        blob = pickle.dumps((venue.engine, venue.history, venue.fills, sim), protocol=pickle.HIGHEST_PROTOCOL)
        self._path(snapshot_id, "pickle").write_bytes(blob)
        self._path(snapshot_id, "json").write_text(json.dumps(asdict(info)))
        return info

    def restore(self, venue: Venue, snapshot_id: int) -> str | Awaitable[str]:
        """Replace the running venue with a saved snapshot and pause it; the restored state's venue_hash (once
        every shard took it, on a cluster gateway)."""
        path = self._path(snapshot_id, "pickle")
        if not path.is_file():
            raise ProtocolError(ErrorCode.UNKNOWN_SNAPSHOT, f"no snapshot {snapshot_id}; admin.snapshots lists them")
        try:
            engine, history, fills, sim = pickle.loads(path.read_bytes())
            if getattr(engine, "rules", 1) != RULES:  # it comes back empty (see `Engine.rules`), not as saved
                raise ValueError(f"its market was saved under the engine's rules {getattr(engine, 'rules', 1)}")
            restored = venue_hash(engine, sim)
        except Exception as exc:  # unpickling can raise anything the saved classes' code raises
            raise ProtocolError(
                ErrorCode.SNAPSHOT_UNREADABLE,
                f"snapshot {snapshot_id} cannot be restored by this version of hftsim ({type(exc).__name__}: {exc}); "
                "it was probably saved by an earlier version. The market is unchanged; admin.snapshot saves a new one",
            ) from exc
        if venue.journal is None:
            return _restored_in_cluster(venue, engine, snapshot_id, restored)
        set_paused(venue, True)
        replace_market(venue, (engine, history, fills, venue.round_book))
        if sim is not None and venue.agents is not None:
            transplant(venue.agents.sim, sim)
        return restored

    def _path(self, snapshot_id: int, suffix: str) -> Path:
        return self._dir / f"{snapshot_id:06d}.{suffix}"


async def _restored_in_cluster(venue: Venue, saved: object, snapshot_id: int, restored: str) -> str:
    from ..cluster.sequencer import StreamSequencer
    from .stream_restore import restore

    assert isinstance(venue.sequencer, StreamSequencer)
    await restore(venue.sequencer, saved, snapshot_id)
    return restored


def set_paused(venue: Venue, paused: bool) -> None:
    venue.control.paused = paused
    if venue.agents is not None:
        venue.agents.paused = paused


def ensure_replaceable(venue: Venue) -> Journal:
    """The journal a new market is saved in (a cluster gateway has none: it replaces its market through
    markers in its shards' streams, stream_rounds.py and stream_restore.py)."""
    assert venue.journal is not None, "a cluster gateway replaces its market through its shards' streams"
    return venue.journal


def replace_market(venue: Venue, market: Market) -> None:
    """Make `market` (an engine and its read models) the venue's market, journaled first; STORE_UNAVAILABLE if not."""
    journal = ensure_replaceable(venue)
    if venue.snapshot_pid is not None:
        raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, "a snapshot of the market is being written; retry in a moment")
    if venue.snapshotter is not None:
        venue.snapshotter.stop()  # it follows the market being replaced: it must not write another snapshot of it
    engine, history, fills, round_book = market
    current = venue.engine
    assert isinstance(current, Engine), "only a venue with an engine of its own has a journal to replace it in"
    engine.carry_on_from(current)
    try:
        journal.roll()
        journal.save_snapshot(engine.seq, market)
    except StoreUnavailable as exc:
        message = f"the market could not be saved ({exc}); nothing changed"
        raise ProtocolError(ErrorCode.STORE_UNAVAILABLE, message) from None
    transplant(venue.engine, engine)
    transplant(venue.history, history)
    transplant(venue.fills, fills)
    venue.round_book = round_book
    venue.start_snapshots()  # from the snapshot just written


def status(venue: Venue) -> dict[str, Any]:
    """What every participant may know of the sim clock: paused or not, how fast."""
    agents = venue.agents
    return {
        "paused": venue.control.paused,
        "speed": agents.speed if agents else 1.0,
        "intensity": agents.intensity if agents else 0.0,
        "running": bool(agents and agents.intensity > 0 and not venue.control.paused),
        "sim_time_ms": int(agents.sim.sim_time_ms) if agents else 0,
        "scenario": venue.scenarios.status(),
    }
