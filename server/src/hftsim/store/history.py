"""Read models fed by engine events: the trade tape, candles and users' fills.

The engine keeps only what matching needs; everything a client may ask
about the past lives here, bounded so that a server running for days
holds a fixed amount of it.

Compiled with the order path (hftsim/compiled.py): every fill passes
through here, and as plain Python, with a Trade and two FillViews built
for it, a fill cost about 12k instructions. Snapshots pickle these
classes and are read by either build (the server runs the sources when
the compiled build is missing or stale), so each class writes and reads
its own state (`__getstate__`, `__setstate__`) in the one form both
builds share: the form these classes had as plain Python classes, so a
snapshot saved before they were compiled loads as it is, and one saved
now loads in a server from before.
"""

from __future__ import annotations

from collections import deque
from typing import Any, TypeAlias

from mypy_extensions import mypyc_attr

from ..engine import Fill, FillView, Trade

SECOND_MS = 1000
MAX_INTERVAL_MS = 24 * 3600 * SECOND_MS
MAX_DEPTH = 1000


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Bar:
    """OHLCV of one interval; prices in ticks."""

    def __init__(self, t: int, o: int, h: int, l: int, c: int, v: int) -> None:  # noqa: E741 - the OHLC name
        self.t = t
        self.o = o
        self.h = h
        self.l = l
        self.c = c
        self.v = v

    def __getstate__(self) -> tuple[None, dict[str, int]]:
        """As Python pickled the slotted dataclass this was: no `__dict__`, then the slots by name."""
        return None, {"t": self.t, "o": self.o, "h": self.h, "l": self.l, "c": self.c, "v": self.v}

    def __setstate__(self, state: tuple[None, dict[str, int]]) -> None:
        slots = state[1]
        self.t, self.o, self.h, self.l, self.c, self.v = (
            slots["t"], slots["o"], slots["h"], slots["l"], slots["c"], slots["v"]
        )  # fmt: skip


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class MarketHistory:
    """Per symbol: the last trades and one-second bars from which any interval is built."""

    def __init__(self, syms: list[str], max_trades: int = 10_000, max_seconds: int = 24 * 3600) -> None:
        self._trades: dict[str, deque[Trade]] = {s: deque(maxlen=max_trades) for s in syms}
        self._seconds: dict[str, deque[Bar]] = {s: deque(maxlen=max_seconds) for s in syms}
        self._first_price: dict[str, int] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_trades": self._trades, "_seconds": self._seconds, "_first_price": self._first_price}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._trades = state["_trades"]
        self._seconds = state["_seconds"]
        self._first_price = state["_first_price"]

    def on_trade(self, trade: Trade) -> None:
        sym, price, qty, ts = trade.sym, trade.price, trade.qty, trade.ts
        self._trades[sym].append(trade)
        if sym not in self._first_price:
            self._first_price[sym] = price
        bars = self._seconds[sym]
        t = ts - ts % SECOND_MS
        bar = bars[-1] if bars else None
        if bar is not None and bar.t == t:
            if price > bar.h:
                bar.h = price
            elif price < bar.l:
                bar.l = price
            bar.c = price
            bar.v += qty
        else:
            bars.append(Bar(t, price, price, price, price, qty))

    def take(self, other: MarketHistory) -> None:
        """Hold `other`'s tape and bars for the symbols it keeps (a cluster shard's, from its snapshot)."""
        for sym, tape in other._trades.items():
            self._trades[sym] = tape
            self._seconds[sym] = other._seconds[sym]
            if sym in other._first_price:
                self._first_price[sym] = other._first_price[sym]

    def first_price(self, sym: str) -> int | None:
        return self._first_price.get(sym)

    def trades(self, sym: str, limit: int) -> list[Trade]:
        tape = self._trades[sym]
        return list(tape)[-limit:] if limit < len(tape) else list(tape)

    def candles(self, sym: str, interval_ms: int, depth: int, now_ms: int) -> list[Bar]:
        """The last `depth` intervals up to now, holes filled with flat bars at the previous close."""
        if interval_ms % SECOND_MS or not SECOND_MS <= interval_ms <= MAX_INTERVAL_MS:
            raise ValueError(f"interval_ms must be a multiple of 1000 between 1000 and {MAX_INTERVAL_MS}")
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be between 1 and {MAX_DEPTH}")
        last_start = now_ms - now_ms % interval_ms
        first_start = last_start - (depth - 1) * interval_ms
        seconds = self._seconds[sym]
        window: list[Bar] = []
        prev_close: int | None = None
        for bar in reversed(seconds):
            if bar.t < first_start:
                prev_close = bar.c
                break
            window.append(bar)
        window.reverse()
        if not window and prev_close is None:
            return []
        out: list[Bar] = []
        i = 0
        for start in range(first_start, last_start + 1, interval_ms):
            end = start + interval_ms
            merged: Bar | None = None
            while i < len(window) and window[i].t < end:
                b = window[i]
                if merged is None:
                    merged = Bar(start, b.o, b.h, b.l, b.c, b.v)
                else:
                    merged.h = max(merged.h, b.h)
                    merged.l = min(merged.l, b.l)
                    merged.c = b.c
                    merged.v += b.v
                i += 1
            if merged is not None:
                out.append(merged)
                prev_close = merged.c
            elif prev_close is not None:
                out.append(Bar(start, prev_close, prev_close, prev_close, prev_close, 0))
        return out


Kept: TypeAlias = "Fill | FillView"
"""A user's fill as its history keeps it: the engine's record of the fill, or the user's side of one as a snapshot
holds it."""


def view(kept: Kept, user_id: int) -> FillView:
    """`user_id`'s side of a kept fill, as `fills.list` answers it.

    A record's two sides are two users (the engine cancels a resting order
    its own user's order would trade with), so the user says which side it
    was."""
    if isinstance(kept, Fill):
        return kept.fill(kept.maker_id == user_id)
    return kept


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class FillHistory:
    """The last fills of each user, for `fills.list`, and what every fill cost each user per symbol in fees.

    Both users' histories keep the engine's record of a fill, the one
    object, and `fills` makes each user's side of it when asked: nothing is
    built per fill. A snapshot holds each user's side (`view`), the form
    the history kept before, so snapshots stay as compact as they were and
    load in either form.

    The engine adds a user's fees up over every symbol; the split per symbol
    (`account.get`'s positions) is kept here, from every fill, not only the
    ones kept for `fills.list`. A market saved before the split was kept
    counts it from the restart on.
    """

    def __init__(self, per_user: int = 1000) -> None:
        self._per_user = per_user
        self._fills: dict[int, deque[Kept]] = {}
        self._fees: dict[int, dict[str, int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        per_user = self._per_user
        fills = {
            user_id: deque([view(f, user_id) for f in kept], maxlen=per_user) for user_id, kept in self._fills.items()
        }
        return {"_per_user": per_user, "_fills": fills, "_fees": self._fees}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._per_user = state["_per_user"]
        self._fills = state["_fills"]
        self._fees = state.get("_fees", {})

    def on_fill(self, fill: Fill) -> None:
        """Keep `fill` in its maker's history and in its taker's."""
        sym = fill.sym
        self._keep(fill.maker_id, fill, sym, fill.maker_fee)
        self._keep(fill.taker_id, fill, sym, fill.taker_fee)

    def _keep(self, user_id: int, fill: Fill, sym: str, fee: int) -> None:
        fills = self._fills.get(user_id)
        if fills is None:
            fills = self._fills[user_id] = deque(maxlen=self._per_user)
        fills.append(fill)
        by_sym = self._fees.get(user_id)
        if by_sym is None:
            by_sym = self._fees[user_id] = {}
        by_sym[sym] = by_sym.get(sym, 0) + fee

    def take(self, other: FillHistory) -> None:
        """Take `other`'s fills and fees (a cluster shard's, from its snapshot): fills merged in time order,
        each once; the fees of `other`'s symbols as it counts them (it saw every fill on them)."""
        for user_id, theirs in other._fills.items():
            unique = {f.fill_id: f for f in [view(f, user_id) for f in [*self._fills.get(user_id, ()), *theirs]]}
            merged: list[Kept] = sorted(unique.values(), key=lambda f: (f.ts, f.fill_id))
            self._fills[user_id] = deque(merged, maxlen=self._per_user)
        for user_id, fees in other._fees.items():
            self._fees.setdefault(user_id, {}).update(fees)

    def fees(self, user_id: int) -> dict[str, int]:
        """The user's fees per symbol in cash units (rebates negative)."""
        return dict(self._fees.get(user_id, {}))

    def fills(self, user_id: int, sym: str | None, limit: int) -> list[FillView]:
        kept = [f for f in self._fills.get(user_id, ()) if sym is None or f.sym == sym]
        return [view(f, user_id) for f in kept[-limit:]]
