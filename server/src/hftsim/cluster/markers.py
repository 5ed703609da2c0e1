"""Markers: what replaces or scores a cluster's market, as entries of every shard's stream.

On `hftsim serve` a round start or a restore replaces the market in place
(gateway/control.py). In a cluster every gateway holds replicas of the
shards, so a replacement made by one gateway alone would leave the others
on the old market. Instead the gateway appends a marker to each shard's
stream, and every replica and the shard itself apply it when they reach
it: the same change at the same stream position, so they keep one state
hash. A marker takes its stream sequence like a command: the engine's
command sequence stays the stream's.

Kinds:
- `round_start`: fresh accounts and empty books (the engine's numbering
  carries on), and a new `ShardRound` counting the round on this shard.
- `sample`: every account's PnL on this shard at its marks, as sample `k`
  of the round's curve (`k` counts `rounds.sample_s` periods from the
  round's start, so every shard's sample `k` is the same moment).
- `round_end`: the shard's part of the scores, frozen at its marks.
- `restore`: the shard's engine from a saved venue snapshot, published to
  the object store under `object` by the gateway that restores.

A marker's `Nats-Msg-Id` names the round and the step (`round:3:end`),
so gateways that do the same step at once (a timed end, a sample) append
it once: JetStream drops the copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..classroom.scoring import RoundBook, mark_prices, marked_pnl
from ..engine import Engine

if TYPE_CHECKING:
    from .snapshots import PublishedSnapshots

HEADER = "Hftsim-Marker"
"""Set on a marker's stream message; a command has no such header."""
KINDS = frozenset({"round_start", "sample", "round_end", "restore"})
REPLACING = frozenset({"round_start", "restore"})
"""The markers that replace the market (each symbol's market-data sequence jumps one past the old)."""


@dataclass(frozen=True, slots=True)
class Marker:
    kind: str
    data: dict[str, Any]

    def encode(self) -> bytes:
        return orjson.dumps({"kind": self.kind, "data": self.data})

    @staticmethod
    def decode(raw: bytes) -> Marker:
        found = orjson.loads(raw)
        if not isinstance(found, dict) or found.get("kind") not in KINDS or not isinstance(found.get("data"), dict):
            raise ValueError(f"not a stream marker: {raw[:80]!r}")
        return Marker(found["kind"], found["data"])

    @property
    def round_id(self) -> int:
        return int(self.data["round_id"])


@dataclass(slots=True)
class ShardRound:
    """The round as one shard counts it: the same on the shard and on every gateway's replica of it."""

    info: dict[str, Any]
    """The `round_start` marker's data: round_id, name, started_ts, ends_at."""
    book: RoundBook = field(default_factory=RoundBook)
    """Volume, fees, fills and limit breaches on this shard (fed every result while the round runs)."""
    samples: dict[int, dict[int, int]] = field(default_factory=dict)
    """Sample k -> user -> PnL on this shard (an account absent here has 0)."""
    final: dict[int, int] | None = None
    """User -> PnL on this shard at its marks when the round ended; None while it runs."""
    marks: dict[str, int] | None = None
    """The close-out price (ticks) of each of this shard's symbols, once ended."""

    @property
    def round_id(self) -> int:
        return int(self.info["round_id"])

    @property
    def running(self) -> bool:
        return self.final is None

    def pnl(self, engine: Engine) -> tuple[dict[int, int], dict[str, int]]:
        """Every account's PnL on this shard at its current marks, and the marks."""
        marks = mark_prices(engine)
        return {user_id: marked_pnl(engine, user_id, marks) for user_id in engine.user_ids()}, marks


def fresh(engine: Engine) -> Engine:
    """An empty market of the same instruments, limits and cash share as `engine`."""
    return Engine(engine.instruments, engine.limits, initial_cash=engine.initial_cash)


def replace(engine: Engine, new: Engine, seq: int) -> None:
    """Make `engine` hold `new`'s market from stream command `seq` on, carrying on its numbering."""
    new.carry_on_from(engine)
    new.seq = seq
    engine.adopt(new)


def apply_marker(engine: Engine, round_: ShardRound | None, marker: Marker, seq: int) -> ShardRound | None:
    """Apply a round marker at stream command `seq` (a restore's engine comes by `replace`); the shard's round
    after it. Every replica and the shard run exactly this, so they stay equal."""
    if marker.kind == "round_start":
        replace(engine, fresh(engine), seq)
        return ShardRound(dict(marker.data))
    engine.seq = seq
    if round_ is None or round_.round_id != marker.round_id or not round_.running:
        return round_  # a step of a round this shard does not run (already ended, or started before its reset)
    if marker.kind == "sample":
        round_.samples[int(marker.data["k"])] = round_.pnl(engine)[0]
    elif marker.kind == "round_end":
        round_.final, round_.marks = round_.pnl(engine)
        round_.info["ended_ts"] = int(marker.data["ended_ts"])
    return round_


def running_book(round_: ShardRound | None) -> RoundBook | None:
    """The book to feed results to: the running round's (an ended round's counts stand)."""
    return round_.book if round_ is not None and round_.running else None


async def take(
    engine: Engine, round_: ShardRound | None, marker: Marker, seq: int, published: PublishedSnapshots
) -> ShardRound | None:
    """Apply any marker at stream command `seq`, fetching a restored engine from the object store."""
    if marker.kind == "restore":
        replace(engine, await published.engine(str(marker.data["object"])), seq)
        return round_
    return apply_marker(engine, round_, marker, seq)


def combined(parts: list[ShardRound], pnls: list[dict[int, int]]) -> tuple[RoundBook, dict[int, int]]:
    """The round over every shard: each user's counts and PnL added up (`pnls[i]` is shard i's PnL now or at
    its end), and each PnL curve over the samples every shard took (a sample one shard missed is left out)."""
    book = RoundBook()
    for part in parts:
        for user_id, act in part.book.activity.items():
            total = book.of(user_id)
            total.volume += act.volume
            total.notional += act.notional
            total.fills += act.fills
            total.fees += act.fees
            total.breaches += act.breaches
    taken = set.intersection(*(set(p.samples) for p in parts)) if parts else set()
    users = set(book.activity).union(*pnls, *(s for p in parts for s in p.samples.values()))
    for user_id in users:
        book.of(user_id).curve = [sum(p.samples[k].get(user_id, 0) for p in parts) for k in sorted(taken)]
    total_pnl = {user_id: sum(pnl.get(user_id, 0) for pnl in pnls) for user_id in users}
    return book, total_pnl
