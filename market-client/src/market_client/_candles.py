"""OHLCV candles of one symbol: seeded from the server, then grown from MD trades.

Seeding and live trades travel on different sockets (CMD and MD), so a
trade can reach us before or after the server counted it in the seed.
A fence tells them apart: the MD sequence number the seed reflects, when
the server gives one (`seq` in the `candles.get` answer), else the
answer's server timestamp (trades stamped before it are taken as
counted; one stamped in that very millisecond is taken as not counted).
Trades arriving while the seed is in flight are held and replayed
through the fence, so none is lost and, with a `seq`, none is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Candle = dict[str, Any]
"""{"t": interval start ms, "o", "h", "l", "c": price strings, "v": int volume}"""


@dataclass(frozen=True, slots=True)
class _Trade:
    price: str
    qty: int
    ts: int
    seq: int


class CandleSeries:
    """A window of the newest `depth` candles of `interval_ms` each, without holes."""

    def __init__(self, interval_ms: int = 1000, depth: int = 50) -> None:
        if interval_ms <= 0 or depth <= 0:
            raise ValueError(f"interval_ms and depth must be positive, got {interval_ms} and {depth}")
        self.interval_ms = interval_ms
        self.depth = depth
        self._candles: list[Candle] = []
        self._fence_seq: int | None = None
        self._fence_ts: int | None = None
        self._held: list[_Trade] | None = None

    def begin_seed(self) -> None:
        """A seed request is in flight: hold trades until it lands."""
        self._held = []

    def seed(self, candles: Iterable[Mapping[str, Any]], *, seq: int | None = None, ts: int | None = None) -> None:
        """Replace the window with the server's candles, then replay held trades past the fence."""
        self._candles = [_copy(c) for c in sorted(candles, key=lambda c: int(c["t"]))][-self.depth :]
        self._fence_seq, self._fence_ts = seq, ts
        self._replay()

    def abort_seed(self) -> None:
        """The seed failed: apply the held trades as if it had never been asked."""
        self._replay()

    def add_trade(self, price: str, qty: int, ts: int, seq: int) -> None:
        """Fold one trade into its interval, filling skipped intervals with flat candles."""
        if self._held is not None:
            self._held.append(_Trade(price, qty, ts, seq))
            return
        if self._counted_by_seed(ts, seq):
            return
        start = ts - ts % self.interval_ms
        if not self._candles:
            self._candles.append({"t": start, "o": price, "h": price, "l": price, "c": price, "v": qty})
            return
        last = self._candles[-1]
        if start < last["t"]:
            return  # older than the window's newest interval: already closed, out of order
        if start == last["t"]:
            value = Decimal(price)
            if value > Decimal(last["h"]):
                last["h"] = price
            if value < Decimal(last["l"]):
                last["l"] = price
            last["c"] = price
            last["v"] += qty
        else:
            close = last["c"]
            t = last["t"] + self.interval_ms
            # Only the newest `depth` intervals can survive the trim below.
            t = max(t, start - self.depth * self.interval_ms)
            while t < start:
                self._candles.append({"t": t, "o": close, "h": close, "l": close, "c": close, "v": 0})
                t += self.interval_ms
            self._candles.append({"t": start, "o": price, "h": price, "l": price, "c": price, "v": qty})
        del self._candles[: -self.depth]

    def entries(self, now_ms: int | None = None) -> list[Candle]:
        """Copies of the candles, oldest first, ready for a chart.

        With `now_ms`, quiet intervals up to the one holding `now_ms` are
        shown as flat candles, as the server's `candles.get` does, so the
        chart moves on even when nothing trades.
        """
        out = [dict(c) for c in self._candles]
        if now_ms is not None and out:
            close = out[-1]["c"]
            t = max(out[-1]["t"] + self.interval_ms, now_ms - now_ms % self.interval_ms - self.depth * self.interval_ms)
            while t <= now_ms:
                out.append({"t": t, "o": close, "h": close, "l": close, "c": close, "v": 0})
                t += self.interval_ms
        return out[-self.depth :]

    def _counted_by_seed(self, ts: int, seq: int) -> bool:
        """True for a trade the seed already holds; the first trade past the fence lifts it."""
        if self._fence_seq is not None:
            counted = seq <= self._fence_seq
        elif self._fence_ts is not None:
            counted = ts < self._fence_ts
        else:
            return False
        if not counted:
            self._fence_seq = self._fence_ts = None  # trades arrive in order: the rest are new too
        return counted

    def _replay(self) -> None:
        held, self._held = self._held or [], None
        for trade in held:
            self.add_trade(trade.price, trade.qty, trade.ts, trade.seq)


def _copy(candle: Mapping[str, Any]) -> Candle:
    prices = {k: str(candle[k]) for k in ("o", "h", "l", "c")}
    return {"t": int(candle["t"]), **prices, "v": int(candle["v"])}
