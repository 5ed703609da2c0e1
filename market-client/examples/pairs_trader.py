"""A pairs trader: trades the spread of two symbols when it strays from its mean.

    market-client run examples/pairs_trader.py --url http://127.0.0.1:8000
    market-client backtest examples/pairs_trader.py --seed 1 --minutes 5

Once a second it records the log-price ratio of `LEG_A` to `LEG_B` (mids);
with `WINDOW` samples it computes the z-score of the newest. Above `ENTRY`
it sells A and buys B, below `-ENTRY` the opposite, and inside `EXIT` it
closes the pair. Market orders, `SIZE` of each leg.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from market_client import OrderRejected, Strategy

LEG_A, LEG_B = "ACME", "BOLT"
WINDOW = 30
ENTRY = 2.0
EXIT = 0.5
SIZE = 2


class PairsTrader(Strategy):
    symbols = (LEG_A, LEG_B)
    timer_s = 1.0

    async def on_start(self) -> None:
        self.ratios: deque[float] = deque(maxlen=WINDOW)
        self.side = 0  # +1: long A / short B, -1: short A / long B

    async def on_timer(self) -> None:
        a, b = self.mid(LEG_A), self.mid(LEG_B)
        if a is None or b is None:
            return
        self.ratios.append(math.log(float(a) / float(b)))
        if len(self.ratios) < WINDOW:
            return
        spread = statistics.pstdev(self.ratios)
        if spread == 0:
            return
        z = (self.ratios[-1] - statistics.fmean(self.ratios)) / spread
        want = -1 if z > ENTRY else 1 if z < -ENTRY else 0 if abs(z) < EXIT else self.side
        if want != self.side:
            await self.rebalance(want)

    async def rebalance(self, want: int) -> None:
        try:
            for sym, sign in ((LEG_A, want), (LEG_B, -want)):
                delta = sign * SIZE - self.position(sym)
                if delta > 0:
                    await self.buy(sym, delta)
                elif delta < 0:
                    await self.sell(sym, -delta)
            self.side = want
        except OrderRejected as exc:
            self.log.info("leg refused: %s", exc.code)
