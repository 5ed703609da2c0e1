"""A momentum taker: buys after a run of rising trades, sells after a falling one.

    market-client run examples/momentum_taker.py --url http://127.0.0.1:8000
    market-client backtest examples/momentum_taker.py --seed 1 --minutes 5

It keeps the last `WINDOW` trade prices of `SYM`; once a second, when the
newest is `THRESHOLD` ticks above the oldest it buys `SIZE` with a market
order (below: sells), within `MAX_POSITION` either way.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from market_client import OrderRejected, Strategy

SYM = "BOLT"
WINDOW = 20
THRESHOLD = 2
SIZE = 2
MAX_POSITION = 20


class MomentumTaker(Strategy):
    symbols = (SYM,)
    timer_s = 1.0

    async def on_start(self) -> None:
        self.tick = Decimal(str(self.instrument(SYM)["tick"]))
        self.prices: deque[Decimal] = deque(maxlen=WINDOW)

    async def on_trade(self, trade: dict[str, object]) -> None:
        self.prices.append(Decimal(str(trade["price"])))

    async def on_timer(self) -> None:
        if len(self.prices) < WINDOW:
            return
        move = (self.prices[-1] - self.prices[0]) / self.tick
        position = self.position(SYM)
        try:
            if move >= THRESHOLD and position + SIZE <= MAX_POSITION:
                await self.buy(SYM, SIZE)
            elif move <= -THRESHOLD and position - SIZE >= -MAX_POSITION:
                await self.sell(SYM, SIZE)
        except OrderRejected as exc:
            self.log.info("order refused: %s", exc.code)
