"""The ccxt exchange class, driven through the real ccxt package against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest
from ccxt.base.errors import InvalidOrder, OrderNotFound  # type: ignore[import-untyped]
from hftsim.testing import ServerProcess, server_process

from market_client import MarketClient
from market_client.ccxt import hftsim


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(Path(tmp_path_factory.mktemp("ccxt"))) as srv:
        srv.add_user("alice", "alicepw-long")
        yield srv


@pytest.fixture
async def exchange(venue: ServerProcess) -> AsyncIterator[hftsim]:
    ex = hftsim({"urls": {"api": {"rest": venue.url}}, "apiKey": "alice", "secret": "alicepw-long"})
    yield ex
    await ex.close()


async def test_markets_books_tickers_and_candles_in_ccxt_shapes(venue: ServerProcess, exchange: hftsim) -> None:
    assert isinstance(exchange, ccxt_async.Exchange) and exchange.has["watchOrderBook"]
    markets = await exchange.load_markets()
    acme = exchange.market("ACME/USD")
    assert "BOLT/USD" in markets and acme["id"] == "ACME" and acme["precision"]["price"] == 0.01
    assert acme["limits"]["price"]["min"] < 100 < acme["limits"]["price"]["max"]
    assert exchange.price_to_precision("ACME/USD", 100.123) == "100.12"  # ccxt's own helper, on our market

    async with await MarketClient.connect(venue.url) as maker:
        await maker.place_order("ACME", "sell", "100.50", 4)
        await maker.place_order("ACME", "buy", "99.50", 2)
        book = await exchange.fetch_order_book("ACME/USD", 5)
        assert book["asks"][0] == [100.5, 4] and book["bids"][0] == [99.5, 2] and book["symbol"] == "ACME/USD"
        await exchange.create_order("ACME/USD", "limit", "buy", 1, 100.5)  # trades with the maker
        ticker = await exchange.fetch_ticker("ACME/USD")
        assert ticker["last"] == 100.5 and ticker["bid"] == 99.5 and ticker["ask"] == 100.5
        candles = await exchange.fetch_ohlcv("ACME/USD", "1m", limit=5)
        assert candles[-1][4] == 100.5 and candles[-1][5] >= 1
        await maker.cancel_all()


async def test_orders_trades_and_balance(venue: ServerProcess, exchange: hftsim) -> None:
    await exchange.load_markets()
    order = await exchange.create_order("BOLT/USD", "limit", "buy", 3, 40.0)
    assert order["status"] == "open" and order["amount"] == 3 and order["price"] == 40.0
    assert [o["id"] for o in await exchange.fetch_open_orders("BOLT/USD")] == [order["id"]]
    balance = await exchange.fetch_balance()
    assert balance["USD"]["used"] == 120.0 and balance["USD"]["free"] + 120.0 == balance["USD"]["total"]
    canceled = await exchange.cancel_order(order["id"], "BOLT/USD")
    assert canceled["status"] == "canceled" and (await exchange.fetch_order(order["id"]))["status"] == "canceled"
    with pytest.raises(OrderNotFound):
        await exchange.cancel_order(order["id"], "BOLT/USD")
    with pytest.raises(InvalidOrder):
        await exchange.create_order("BOLT/USD", "limit", "buy", 1.5, 40.0)
    with pytest.raises(InvalidOrder):
        await exchange.create_order("BOLT/USD", "limit", "buy", 1, 40.01)  # off the tick

    async with await MarketClient.connect(venue.url) as maker:
        await maker.place_order("BOLT", "sell", "42.50", 2)
        await exchange.create_order("BOLT/USD", "market", "buy", 2)
    trades = await exchange.fetch_my_trades("BOLT/USD")
    assert [(t["side"], t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [("buy", 42.5, 2, "taker")]
    assert (await exchange.fetch_balance())["BOLT"]["total"] == 2


async def test_watch_order_book_and_trades(venue: ServerProcess, exchange: hftsim) -> None:
    await exchange.load_markets()
    await exchange.fetch_order_book("ACME/USD")  # connected: MD is flowing
    async with await MarketClient.connect(venue.url) as maker:
        watching = asyncio.create_task(exchange.watch_order_book("ACME/USD"))
        trades = asyncio.create_task(exchange.watch_trades("ACME/USD"))
        await asyncio.sleep(0)
        await maker.place_order("ACME", "sell", "101.25", 7)
        book = await asyncio.wait_for(watching, 10)
        assert [101.25, 7] in book["asks"]
        await exchange.create_order("ACME/USD", "limit", "buy", 2, 101.25)
        [trade] = await asyncio.wait_for(trades, 10)
        assert (trade["symbol"], trade["price"], trade["amount"], trade["side"]) == ("ACME/USD", 101.25, 2, "buy")
        await maker.cancel_all()
