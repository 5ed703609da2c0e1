"""A market maker: one bid and one ask around the mid, leaning against its inventory.

    market-client run examples/market_maker.py --url http://127.0.0.1:8000
    market-client backtest examples/market_maker.py --seed 1 --minutes 5

Every half second it re-quotes when the mid moved or a quote was filled:
`HALF_SPREAD` ticks each side of the mid, shifted one tick per `LEAN`
units of position, so a long position is sold down and a short one bought
back. Post-only quotes never take liquidity.
"""

from __future__ import annotations

from decimal import Decimal

from market_client import Order, OrderRejected, Strategy

SYM = "ACME"
SIZE = 5
HALF_SPREAD = 3
LEAN = 10
MAX_POSITION = 50


class MarketMaker(Strategy):
    symbols = (SYM,)
    timer_s = 0.5

    async def on_start(self) -> None:
        self.tick = Decimal(str(self.instrument(SYM)["tick"]))
        self.quoted_mid: Decimal | None = None
        self.bid: Order | None = None
        self.ask: Order | None = None

    async def on_timer(self) -> None:
        mid = self.mid(SYM)
        if mid is None:
            return
        live = [o for o in (self.bid, self.ask) if o is not None and o.is_live]
        if mid == self.quoted_mid and len(live) == 2:
            return
        for order in live:
            await self.cancel(order)
        position = self.position(SYM)
        lean = Decimal(position // LEAN) * self.tick
        bid = self.round_price(SYM, mid - HALF_SPREAD * self.tick - lean)
        ask = self.round_price(SYM, mid + HALF_SPREAD * self.tick - lean, up=True)
        self.bid = self.ask = None
        try:
            if position < MAX_POSITION:
                self.bid = await self.buy(SYM, SIZE, bid, post_only=True)
            if position > -MAX_POSITION:
                self.ask = await self.sell(SYM, SIZE, ask, post_only=True)
        except OrderRejected as exc:  # e.g. POST_ONLY_WOULD_CROSS when the book moved meanwhile
            self.log.info("quote refused: %s", exc.code)
        self.quoted_mid = mid

    async def on_fill(self, order: Order, fill: dict[str, object]) -> None:
        self.log.info("%s %s %s @ %s", order.side, fill["qty"], SYM, fill["price"])
        self.quoted_mid = None  # re-quote at the next timer
