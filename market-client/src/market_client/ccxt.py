"""A ccxt exchange class for the HFT Simulator, so ccxt-based bots trade on it unchanged.

```python
from market_client.ccxt import hftsim

exchange = hftsim({"urls": {"api": {"rest": "http://127.0.0.1:8000"}}, "apiKey": "alice", "secret": "..."})
markets = await exchange.load_markets()             # "ACME/USD", ...
book = await exchange.fetch_order_book("ACME/USD", 10)
order = await exchange.create_order("ACME/USD", "limit", "buy", 5, 99.5)
await exchange.cancel_order(order["id"], "ACME/USD")
book = await exchange.watch_order_book("ACME/USD")   # waits for the next change
await exchange.close()
```

`hftsim` is a `ccxt.async_support.Exchange` (ccxt.pro's base in current
ccxt), so ccxt's own `load_markets`, `market()`, precision helpers and
unified structures work on it. Underneath is one `MarketClient`
(connected on first use, with `apiKey` as the username and `secret` as the
password; a guest without them), so requests go over the CMD socket and
books come from MD, not from polling. Symbols are `SYM/USD` (the
simulator's cash has no currency name; `USD` stands for it), spot only,
`precisionMode` TICK_SIZE. Quantities are whole units: an amount that is
not an integer is refused with ccxt's `InvalidOrder`.

Implemented: fetch_markets, fetch_order_book, fetch_ticker, fetch_ohlcv,
create_order, cancel_order, fetch_order, fetch_open_orders,
fetch_my_trades, fetch_balance, watch_order_book, watch_trades. Needs the
`ccxt` package (`pip install ccxt`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
from ccxt.base.decimal_to_precision import TICK_SIZE  # type: ignore[import-untyped]
from ccxt.base.errors import (  # type: ignore[import-untyped]
    BadSymbol,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
)

from ._client import MarketClient
from ._envelope import JSON
from ._exceptions import OrderRejected, ServerError

QUOTE = "USD"
TIMEFRAMES = {
    "1s": 1000,
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}
ERRORS: dict[str, type[Exception]] = {
    "INSUFFICIENT_FUNDS": InsufficientFunds,
    "UNKNOWN_ORDER": OrderNotFound,
    "UNKNOWN_SYMBOL": BadSymbol,
}
"""Server codes with a more precise ccxt error than InvalidOrder (orders) or ExchangeError (the rest)."""
STATUSES = {
    "new": "open",
    "partially_filled": "open",
    "filled": "closed",
    "canceled": "canceled",
    "expired": "expired",
    "rejected": "rejected",
}


class hftsim(ccxt_async.Exchange):  # type: ignore[misc]  # ccxt is untyped; lower-case is ccxt's naming
    """The HFT Simulator as a ccxt exchange (see the module docstring)."""

    def describe(self) -> Any:
        """ccxt's description of the exchange: capabilities, timeframes, URLs, precision mode."""
        return self.deep_extend(
            super().describe(),
            {
                "id": "hftsim",
                "name": "HFT Simulator",
                "countries": [],
                "version": "v1",
                "rateLimit": 0,
                "enableRateLimit": False,
                "pro": True,
                "has": {
                    "spot": True,
                    "fetchMarkets": True,
                    "fetchOrderBook": True,
                    "fetchTicker": True,
                    "fetchOHLCV": True,
                    "createOrder": True,
                    "cancelOrder": True,
                    "fetchOrder": True,
                    "fetchOpenOrders": True,
                    "fetchMyTrades": True,
                    "fetchBalance": True,
                    "watchOrderBook": True,
                    "watchTrades": True,
                },
                "timeframes": {name: str(ms) for name, ms in TIMEFRAMES.items()},
                "urls": {"api": {"rest": "http://127.0.0.1:8000"}, "www": "http://127.0.0.1:8000"},
                "requiredCredentials": {"apiKey": False, "secret": False},
                "precisionMode": TICK_SIZE,
            },
        )

    # -- the client underneath -------------------------------------------------------

    async def _market_client(self) -> MarketClient:
        client: MarketClient | None = getattr(self, "_hftsim_client", None)
        if client is None:
            lock = self.__dict__.setdefault("_hftsim_lock", asyncio.Lock())
            async with lock:
                client = getattr(self, "_hftsim_client", None)
                if client is None:
                    client = await MarketClient.connect(
                        self.urls["api"]["rest"],
                        on_md_event=self._md_event,
                        username=self.apiKey or None,
                        password=self.secret or None,
                    )
                    self._hftsim_client = client
        assert client is not None
        return client

    def _watchers(self) -> list[Callable[[JSON], None]]:
        watchers: list[Callable[[JSON], None]] = self.__dict__.setdefault("_hftsim_watchers", [])
        return watchers

    def _md_event(self, event: JSON) -> None:
        for watcher in list(self._watchers()):
            watcher(event)

    async def _next_md(self, ops: set[str], sym: str) -> list[JSON]:
        """Wait for the next MD event(s) of `ops` on `sym`: every matching one that arrives in the same turn."""
        await self._market_client()
        loop = asyncio.get_running_loop()
        arrived: asyncio.Future[None] = loop.create_future()
        events: list[JSON] = []

        def settle() -> None:
            if not arrived.done():
                arrived.set_result(None)

        def watch(event: JSON) -> None:
            if event.get("op") in ops and (event.get("payload") or {}).get("sym") == sym:
                events.append(event)
                loop.call_soon(settle)

        self._watchers().append(watch)
        try:
            await arrived
        finally:
            self._watchers().remove(watch)
        return events

    async def close(self, clean_instance_data: bool = False) -> None:
        """Close the market client, then what ccxt's base holds."""
        client: MarketClient | None = self.__dict__.pop("_hftsim_client", None)
        if client is not None:
            await client.aclose()
        await super().close()

    async def _send(self, op: str, payload: JSON | None = None) -> JSON:
        client = await self._market_client()
        try:
            return await client.send(op, payload or {})
        except ServerError as exc:
            raise self._ccxt_error(exc) from exc

    def _ccxt_error(self, exc: ServerError) -> Exception:
        kind = ERRORS.get(exc.code) or (InvalidOrder if isinstance(exc, OrderRejected) else ExchangeError)
        return kind(f"{self.id} {exc.code}: {exc.message}")

    def _sym(self, symbol: str) -> str:
        """The simulator's symbol for a unified one ("ACME/USD" -> "ACME"); plain ids pass."""
        return symbol.split("/")[0]

    # -- markets ---------------------------------------------------------------------------

    async def fetch_markets(self, params: Any = None) -> list[Any]:
        """Every symbol as a ccxt spot market `SYM/USD` (`symbols.list`)."""
        symbols = (await self._send("symbols.list"))["symbols"]
        return [self._parse_market(s) for s in symbols]

    def _parse_market(self, s: JSON) -> Any:
        sym, tick = s["sym"], Decimal(str(s["tick"]))
        ref, band = Decimal(str(s["ref_price"])), Decimal(str(s.get("band_pct", "10")))
        low = (ref * (1 - band / 100) / tick).to_integral_value(rounding="ROUND_CEILING") * tick
        high = (ref * (1 + band / 100) / tick).to_integral_value(rounding="ROUND_FLOOR") * tick
        return self.safe_market_structure(
            {
                "id": sym,
                "symbol": f"{sym}/{QUOTE}",
                "base": sym,
                "quote": QUOTE,
                "baseId": sym,
                "quoteId": QUOTE,
                "settle": None,
                "type": "spot",
                "spot": True,
                "margin": False,
                "swap": False,
                "future": False,
                "option": False,
                "contract": False,
                "active": s.get("status") == "trading",
                "precision": {"amount": self.parse_number(str(s.get("lot", 1))), "price": self.parse_number(str(tick))},
                "limits": {
                    "amount": {"min": self.parse_number(str(s.get("min_qty", 1))), "max": None},
                    "price": {"min": self.parse_number(str(low)), "max": self.parse_number(str(high))},
                    "cost": {"min": None, "max": None},
                    "leverage": {"min": None, "max": None},
                },
                "info": s,
            }
        )

    # -- market data ---------------------------------------------------------------------------

    async def fetch_order_book(self, symbol: str, limit: int | None = None, params: Any = None) -> Any:
        """The server's book now (`book.get`), ccxt-shaped; `nonce` is its MD seq."""
        book = await self._send("book.get", {"sym": self._sym(symbol), "depth": limit or 100})
        return self._order_book(symbol, book)

    def _order_book(self, symbol: str, book: JSON) -> Any:
        result = self.parse_order_book(book, self._unified(symbol), None)
        result["nonce"] = book.get("seq")
        return result

    def _unified(self, symbol: str) -> str:
        return symbol if "/" in symbol else f"{symbol}/{QUOTE}"

    async def fetch_ticker(self, symbol: str, params: Any = None) -> Any:
        """Top of book, the day's candle and the last trade as a ccxt ticker."""
        sym = self._sym(symbol)
        book = await self._send("book.get", {"sym": sym, "depth": 1})
        day = await self._send("candles.get", {"sym": sym, "interval_ms": 86_400_000, "depth": 1})
        candle = day["candles"][-1] if day["candles"] else {}
        last = next((s.get("last") for s in (await self._send("symbols.list"))["symbols"] if s["sym"] == sym), None)
        bid = book["bids"][0] if book["bids"] else [None, None]
        ask = book["asks"][0] if book["asks"] else [None, None]
        now = self.milliseconds()
        return self.safe_ticker(
            {
                "symbol": self._unified(symbol),
                "timestamp": now,
                "datetime": self.iso8601(now),
                "high": candle.get("h"),
                "low": candle.get("l"),
                "open": candle.get("o"),
                "close": last,
                "last": last,
                "bid": bid[0],
                "bidVolume": bid[1],
                "ask": ask[0],
                "askVolume": ask[1],
                "baseVolume": candle.get("v"),
                "info": {"book": book, "candle": candle},
            }
        )

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None, params: Any = None
    ) -> list[list[Any]]:
        """Candles `[t, o, h, l, c, v]`, oldest first (`candles.get`)."""
        if timeframe not in TIMEFRAMES:
            raise ExchangeError(f"{self.id} timeframes are {', '.join(TIMEFRAMES)}, not {timeframe!r}")
        answer = await self._send(
            "candles.get",
            {"sym": self._sym(symbol), "interval_ms": TIMEFRAMES[timeframe], "depth": min(limit or 100, 1000)},
        )
        rows = [
            [c["t"], float(c["o"]), float(c["h"]), float(c["l"]), float(c["c"]), float(c["v"])]
            for c in answer["candles"]
        ]
        return [r for r in rows if since is None or r[0] >= since][-(limit or len(rows)) :] if rows else []

    async def watch_order_book(self, symbol: str, limit: int | None = None, params: Any = None) -> Any:
        """The book after its next change (from MD, no polling)."""
        sym = self._sym(symbol)
        await self._next_md({"md.delta", "md.snapshot"}, sym)
        client = await self._market_client()
        return self._order_book(symbol, client.book_snapshot(sym, limit or 100, allow_stale=True))

    async def watch_trades(
        self, symbol: str, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> list[Any]:
        """The next public trades of `symbol` (those that arrive together), from MD."""
        events = await self._next_md({"md.trade"}, self._sym(symbol))
        return [self._public_trade(symbol, e["payload"]) for e in events]

    def _public_trade(self, symbol: str, t: JSON) -> Any:
        return self.safe_trade(
            {
                "id": str(t["trade_id"]),
                "symbol": self._unified(symbol),
                "timestamp": t["ts"],
                "datetime": self.iso8601(t["ts"]),
                "side": t["side"],
                "price": t["price"],
                "amount": t["qty"],
                "type": None,
                "takerOrMaker": "taker",
                "info": t,
            }
        )

    # -- trading -------------------------------------------------------------------------------

    async def create_order(
        self, symbol: str, type: str, side: str, amount: float, price: Any = None, params: Any = None
    ) -> Any:
        """Place an order exactly once; `params` may hold timeInForce, postOnly, clientOrderId."""
        qty = Decimal(str(amount))
        if qty != qty.to_integral_value():
            raise InvalidOrder(f"{self.id} quantities are whole units, got {amount}")
        client = await self._market_client()
        wire_price = None if type == "market" or price is None else self.number_to_string(price)
        extra = dict(params or {})
        try:
            answer = await client.place_order(
                self._sym(symbol), side, wire_price, int(qty), str(extra.get("timeInForce", "GTC")), type=type,
                post_only=bool(extra.get("postOnly", False)), client_order_id=extra.get("clientOrderId"),
            )  # fmt: skip
        except ServerError as exc:
            raise self._ccxt_error(exc) from exc
        return self._order(answer["order"])

    async def cancel_order(self, id: str, symbol: str | None = None, params: Any = None) -> Any:
        """Cancel by order id, exactly once; the canceled order, ccxt-shaped."""
        client = await self._market_client()
        try:
            answer = await client.cancel_order(int(id))
        except ServerError as exc:
            raise self._ccxt_error(exc) from exc
        return self._order(answer["order"])

    async def fetch_order(self, id: str, symbol: str | None = None, params: Any = None) -> Any:
        """One of the user's recent orders by id (OrderNotFound otherwise)."""
        orders = (await self._send("orders.list", {"status": "all"}))["orders"]
        for order in orders:
            if str(order["order_id"]) == str(id):
                return self._order(order)
        raise OrderNotFound(f"{self.id} no order {id}")

    async def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> list[Any]:
        """The user's live orders (of one symbol)."""
        payload: JSON = {"status": "open"}
        if symbol is not None:
            payload["sym"] = self._sym(symbol)
        orders = [self._order(o) for o in (await self._send("orders.list", payload))["orders"]]
        return list(self.filter_by_since_limit(orders, since, limit))

    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: Any = None
    ) -> list[Any]:
        """The user's fills as ccxt trades, oldest first."""
        payload: JSON = {"limit": min(limit or 100, 1000)}
        if symbol is not None:
            payload["sym"] = self._sym(symbol)
        fills = (await self._send("fills.list", payload))["fills"]
        trades = [
            self.safe_trade(
                {
                    "id": str(f["fill_id"]),
                    "order": str(f["order_id"]),
                    "symbol": self._unified(f["sym"]),
                    "timestamp": f["ts"],
                    "datetime": self.iso8601(f["ts"]),
                    "side": f["side"],
                    "price": f["price"],
                    "amount": f["qty"],
                    "takerOrMaker": f["liquidity"],
                    "fee": {"cost": 0, "currency": QUOTE},
                    "info": f,
                }
            )
            for f in fills
        ]
        return list(self.filter_by_since_limit(trades, since, limit))

    async def fetch_balance(self, params: Any = None) -> Any:
        """Cash as USD (used: committed to open buys) and each position as its base currency."""
        account = await self._send("account.get")
        orders = (await self._send("orders.list", {"status": "open"}))["orders"]
        committed = sum(
            (Decimal(o["price"]) * o["leaves_qty"] for o in orders if o["side"] == "buy" and o["price"]), Decimal(0)
        )
        cash = Decimal(account["cash"])
        result: JSON = {
            "info": account,
            QUOTE: {"free": str(cash - committed), "used": str(committed), "total": str(cash)},
        }
        for position in account["positions"]:
            selling = sum(o["leaves_qty"] for o in orders if o["side"] == "sell" and o["sym"] == position["sym"])
            qty = int(position["qty"])
            result[position["sym"]] = {"free": str(qty - selling), "used": str(selling), "total": str(qty)}
        return self.safe_balance(result)

    def _order(self, o: JSON) -> Any:
        filled = o.get("filled_qty") or 0
        return self.safe_order(
            {
                "id": str(o["order_id"]),
                "clientOrderId": o.get("client_order_id"),
                "symbol": self._unified(o["sym"]),
                "type": o.get("type"),
                "side": o.get("side"),
                "price": o.get("price"),
                "amount": o.get("qty"),
                "filled": filled,
                "remaining": o.get("leaves_qty"),
                "average": o.get("avg_fill_price"),
                "status": STATUSES.get(str(o.get("status")), o.get("status")),
                "timeInForce": o.get("tif"),
                "postOnly": o.get("post_only"),
                "timestamp": o.get("created_ts"),
                "datetime": self.iso8601(o.get("created_ts")),
                "lastUpdateTimestamp": o.get("updated_ts"),
                "fee": {"cost": 0, "currency": QUOTE},
                "trades": [],
                "info": o,
            }
        )
