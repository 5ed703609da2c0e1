"""Scoring a round: what each participant made, how, and at what risk.

Rules (docs/operations.md, "Scoring"):
- **Mark price** of a symbol: its last trade price in the round; with no
  trade, the midpoint of the best bid and ask (rounded down to the tick);
  with an empty side, the reference price.
- **PnL** (marked to market): cash now minus cash at the round's start,
  plus each open position valued at its symbol's mark. At a round's end
  every open order is canceled and every position is closed out at the
  mark by exactly this rule. Fees are in the cash, so PnL is net of them.
- **Fees**: what the participant's fills cost in fees (rebates negative).
- **Max drawdown**: the largest fall of PnL from an earlier peak, over the
  samples taken every `rounds.sample_s` seconds and at the end (cash units).
- **Sharpe**: the mean of the PnL changes between consecutive samples over
  their standard deviation (sample, n - 1), not annualised; none with fewer
  than two changes or none that differ.
- **Volume**: units traded (both sides), their notional, and fills.
- **Breaches**: orders refused by a risk limit (order size, position,
  buying power) and messages refused by the rate limit.
Everything is integer cash units except Sharpe.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..engine import Fill, Result
from ..engine.errors import Code
from ..engine.instruments import tick_value
from ..engine.queries import MarketQueries

LIMIT_CODES = frozenset({Code.QTY_ABOVE_MAX, Code.POSITION_LIMIT, Code.INSUFFICIENT_FUNDS})
"""Engine rejections that count as a breach of the announced limits."""


def mark_prices(engine: MarketQueries) -> dict[str, int]:
    """Each symbol's mark (ticks) by the rule above."""
    marks = {}
    for instrument in engine.instruments:
        sym = instrument.sym
        last = engine.last_price(sym)
        bid, ask = engine.best_bid_ask(sym)
        if last is not None:
            marks[sym] = last
        elif bid is not None and ask is not None:
            marks[sym] = (bid + ask) // 2
        else:
            marks[sym] = instrument.ref_price
    return marks


def marked_pnl(engine: MarketQueries, user_id: int, marks: dict[str, int]) -> int:
    """Cash gained since the round opened plus the open positions at their marks (cash units)."""
    decimals = engine.cash_decimals
    value = 0
    for pos in engine.positions(user_id):
        instrument = engine.instrument(pos.sym)
        assert instrument is not None
        value += pos.qty * marks[pos.sym] * tick_value(instrument, decimals)
    return engine.cash(user_id) - engine.opening_cash(user_id) + value


def max_drawdown(curve: Iterable[int]) -> int:
    peak: int | None = None
    worst = 0
    for value in curve:
        peak = value if peak is None else max(peak, value)
        worst = max(worst, peak - value)
    return worst


def sharpe(curve: list[int]) -> float | None:
    changes = [b - a for a, b in itertools.pairwise(curve)]
    if len(changes) < 2:
        return None
    spread = statistics.stdev(changes)
    if spread == 0 or not math.isfinite(spread):
        return None
    return statistics.fmean(changes) / spread


@dataclass(slots=True)
class Activity:
    """One participant's counts in the round, kept from the engine's results as they happen."""

    volume: int = 0
    notional: int = 0
    fills: int = 0
    fees: int = 0
    """Paid (rebates negative); already in the cash, so in the PnL too."""
    breaches: int = 0
    curve: list[int] = field(default_factory=list)
    """PnL samples, oldest first."""


class RoundBook:
    """Per-user activity and PnL samples of the running round; fed every result by the sequencer.

    A read model of the market like the trade and fill histories: plain
    data, saved in the market's snapshots with the engine and fed the
    journal's commands replayed after it, so a restart during a round keeps
    the round's counts (the engine is passed in, never held, so that a
    snapshot holds no second engine).
    """

    def __init__(self) -> None:
        self.activity: dict[int, Activity] = {}

    def of(self, user_id: int) -> Activity:
        found = self.activity.get(user_id)
        if found is None:
            found = self.activity[user_id] = Activity()
        return found

    def on_result(self, result: Result, engine: MarketQueries) -> None:
        for ev in result.events:
            if isinstance(ev, Fill):
                instrument = engine.instrument(ev.sym)
                assert instrument is not None
                notional = ev.qty * ev.price * tick_value(instrument, engine.cash_decimals)
                for user_id, fee in ((ev.maker_id, ev.maker_fee), (ev.taker_id, ev.taker_fee)):
                    act = self.of(user_id)
                    act.volume += ev.qty
                    act.notional += notional
                    act.fills += 1
                    act.fees += fee
        rejection = result.rejection
        if rejection is not None and rejection.user_id is not None and rejection.code in LIMIT_CODES:
            self.of(rejection.user_id).breaches += 1

    def breach(self, user_id: int) -> None:
        """A message refused by the rate limit."""
        self.of(user_id).breaches += 1

    def sample(self, engine: MarketQueries) -> dict[str, int]:
        """Append every participant's PnL at the current marks to their curve; the marks used."""
        marks = mark_prices(engine)
        for user_id in engine.user_ids():
            self.of(user_id).curve.append(marked_pnl(engine, user_id, marks))
        return marks


@dataclass(frozen=True, slots=True)
class Score:
    user_id: int
    pnl: int
    fees: int
    max_drawdown: int
    sharpe: float | None
    volume: int
    notional: int
    fills: int
    breaches: int


def scores(book: RoundBook, engine: MarketQueries, marks: dict[str, int]) -> list[Score]:
    """Everyone who traded or holds an account in the round, best PnL first (ties: lower user id)."""
    users = set(engine.user_ids()) | set(book.activity)
    return ranked(book, {user_id: marked_pnl(engine, user_id, marks) for user_id in users})


def ranked(book: RoundBook, pnls: dict[int, int]) -> list[Score]:
    """The scores of everyone in `pnls` or `book`, each PnL given (an account nobody lists made 0)."""
    out = []
    for user_id in sorted(set(pnls) | set(book.activity)):
        act = book.of(user_id)
        pnl = pnls.get(user_id, 0)
        curve = [*act.curve, pnl]
        out.append(
            Score(
                user_id=user_id,
                pnl=pnl,
                fees=act.fees,
                max_drawdown=max_drawdown(curve),
                sharpe=sharpe(curve),
                volume=act.volume,
                notional=act.notional,
                fills=act.fills,
                breaches=act.breaches,
            )
        )
    out.sort(key=lambda s: (-s.pnl, s.user_id))
    return out
