"""Which shard owns which symbols, and what that means for ids and cash.

A cluster's layout is an ordered list of shards, each owning some of the
configured symbols (`cluster.shards` in the config, or one shard named
`cluster.stream` owning them all). Every process of a cluster reads the
same layout: a gateway routes each command to the shard that owns its
symbol, and a shard takes from it its place in the list.

- **Order ids** are unique across shards: shard `i` numbers its orders,
  fills and trades from `i * ID_SPAN + 1`, so the id tells which shard
  holds the order (a cancel by id goes straight there).
- **Cash: per-shard allocations.** Each shard keeps its own account of
  every user, opened with an equal share of the user's cash (the
  remainder on the first shard), and checks buying power against that
  account only; the shares add up to exactly what the user was given, and
  a buy one account cannot pay for moves cash from the others first
  (`transfers`).
- **Every shard's engine knows every instrument** but trades only its
  own: the cash unit depends on the instruments' ticks, and one unit
  across the venue keeps every amount comparable and addable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import ConfigError, Settings
from ..engine import Engine

ID_SPAN = 2**40
"""Ids one shard may hand out; shard i's are i * ID_SPAN + 1 onwards (below 2**53 for up to 8,192 shards)."""
NAME = re.compile(r"^[a-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class ShardSpec:
    name: str
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    shards: tuple[ShardSpec, ...]
    replicas: int = 1
    """JetStream copies of each stream (`cluster.replicas`)."""

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        """The configured layout: `cluster.shards`, else one shard (`cluster.stream`) with every symbol."""
        configured = settings.cluster.shards
        replicas = settings.cluster.replicas
        if not configured:
            return cls((ShardSpec(settings.cluster.stream, tuple(s.sym for s in settings.symbols)),), replicas)
        layout = cls(tuple(ShardSpec(name, tuple(syms)) for name, syms in configured.items()), replicas)
        layout.check(settings)
        return layout

    @classmethod
    def single(cls, settings: Settings, name: str, symbols: tuple[str, ...] | None) -> Layout:
        """One shard named `name` trading `symbols` (default: all), for a shard started without `cluster.shards`."""
        symbols = symbols if symbols is not None else tuple(s.sym for s in settings.symbols)
        layout = cls((ShardSpec(name, symbols),), settings.cluster.replicas)
        layout.check(settings, every_symbol=False)
        return layout

    @classmethod
    def split(cls, settings: Settings, count: int) -> Layout:
        """`count` shards named a, b, … (s0, s1, … past 26) dealt the configured symbols in turn (for
        `hftsim cluster --shards N`)."""
        syms = [s.sym for s in settings.symbols]
        if not 1 <= count <= len(syms):
            raise ConfigError(f"--shards must be 1 to {len(syms)} (one symbol per shard at least), got {count}")
        names = [chr(ord("a") + i) if count <= 26 else f"s{i}" for i in range(count)]
        shards = tuple(ShardSpec(name, tuple(syms[i::count])) for i, name in enumerate(names))
        return cls(shards, settings.cluster.replicas)

    def check(self, settings: Settings, *, every_symbol: bool = True) -> None:
        """Names unique and well-formed, symbols configured and on one shard each (and, with `every_symbol`,
        every configured symbol on some shard): ConfigError listing every problem otherwise."""
        problems = [
            f"shard name {s.name!r} is not 1-32 of a-z, 0-9, _ and -" for s in self.shards if not NAME.match(s.name)
        ]
        names = [s.name for s in self.shards]
        problems += [f"shard {n!r} is named twice" for n in sorted({n for n in names if names.count(n) > 1})]
        configured = [s.sym for s in settings.symbols]
        owned = [sym for s in self.shards for sym in s.symbols]
        problems += [f"{sym} is on more than one shard" for sym in sorted({x for x in owned if owned.count(x) > 1})]
        problems += [f"{sym} is not a configured symbol" for sym in owned if sym not in configured]
        if every_symbol:
            problems += [f"{sym} is on no shard" for sym in configured if sym not in owned]
        problems += [f"shard {s.name!r} owns no symbol" for s in self.shards if not s.symbols]
        if problems:
            raise ConfigError("the cluster's shards: " + "; ".join(problems))

    def to_config(self) -> dict[str, list[str]]:
        """As `cluster.shards` takes it (how `hftsim cluster` hands its layout to the processes it starts)."""
        return {s.name: list(s.symbols) for s in self.shards}

    def index(self, name: str) -> int:
        for i, spec in enumerate(self.shards):
            if spec.name == name:
                return i
        raise ConfigError(f"no shard {name!r} in the cluster's layout ({', '.join(s.name for s in self.shards)})")

    def owner(self, sym: str) -> int | None:
        """The index of the shard that owns `sym`; None for a symbol the venue does not list."""
        for i, spec in enumerate(self.shards):
            if sym in spec.symbols:
                return i
        return None

    def share(self, cash: int, index: int) -> int:
        """Shard `index`'s part of `cash`: equal parts, the remainder on the first shard; they add up to `cash`."""
        part, rest = divmod(cash, len(self.shards))
        return part + rest if index == 0 else part

    def engine(self, settings: Settings, index: int) -> Engine:
        """Shard `index`'s empty engine: every instrument (one cash unit), its allocation, its id range."""
        full = settings.new_engine()
        engine = Engine(full.instruments, full.limits, initial_cash=self.share(full.initial_cash, index))
        base = index * ID_SPAN
        if base:
            engine.load((0, base, base, base, [], [], [], []))  # a market with no orders whose counters stand at base
        return engine


def shard_of_id(order_id: int) -> int:
    """The index of the shard that numbered this order id."""
    return (order_id - 1) // ID_SPAN
