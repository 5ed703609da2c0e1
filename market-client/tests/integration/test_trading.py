"""Orders, fills, accounts and the errors a trader meets, against the real engine."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hftsim.testing import ServerProcess

from market_client import InvalidPrice, MarketClient, OrderRejected, RequestTimeout, ServerError

from .conftest import eventually


async def test_place_amend_cancel_and_list(client: MarketClient) -> None:
    placed = await client.place_order("ACME", "buy", "99.50", 5, client_order_id="mine-1")
    order = placed["order"]
    assert (order["status"], order["price"], order["qty"], order["client_order_id"]) == ("new", "99.50", 5, "mine-1")
    second = (await client.place_order("ACME", "buy", Decimal("99.40"), 2, tif="GTC", post_only=True))["order"]
    third = (await client.place_order("BOLT", "sell", 43, 1))["order"]
    assert third["price"] == "43.00"

    amended = (await client.amend_order(order["order_id"], price="99.55", qty=4))["order"]
    assert (amended["price"], amended["qty"]) == ("99.55", 4)
    ids = {order["order_id"], second["order_id"], third["order_id"]}
    assert {o["order_id"] for o in await client.list_orders()} == ids
    assert [o["order_id"] for o in await client.list_orders(sym="BOLT")] == [third["order_id"]]

    canceled = (await client.cancel_order(client_order_id="mine-1"))["order"]
    assert canceled["status"] == "canceled"
    assert (await client.cancel_order(second["order_id"]))["order"]["status"] == "canceled"
    result = await client.cancel_all("BOLT")
    assert result == {"canceled": [third["order_id"]], "count": 1}
    assert await client.list_orders() == []
    assert len(await client.list_orders(status="all")) == 3
    ops = [t["op"] for t in client.get_transactions()]
    assert ops.count("order.accepted") == 3 and ops.count("order.canceled") == 3 and "order.amended" in ops


async def test_two_clients_trade_and_each_sees_its_fills(server: ServerProcess) -> None:
    async with await MarketClient.connect(server.url) as seller, await MarketClient.connect(server.url) as buyer:
        sell = (await seller.place_order("ACME", "sell", "100.10", 7))["order"]
        await eventually(lambda: buyer.best_bid_ask("ACME")["ask"] == "100.10", what="the ask on the buyer's book")
        assert buyer.best_bid_ask("ACME")["ask_qty"] == 7

        buy = (await buyer.place_order("ACME", "buy", "100.20", 5, tif="IOC"))["order"]
        assert (buy["status"], buy["filled_qty"], buy["avg_fill_price"]) == ("filled", 5, "100.10")
        # The taker's events come before its response: already in the buffer.
        buyer_fills = [t for t in buyer.get_transactions() if t["op"] in ("order.filled", "order.partially_filled")]
        assert [(f["payload"]["fill"]["qty"], f["payload"]["fill"]["liquidity"]) for f in buyer_fills] == [(5, "taker")]

        await eventually(
            lambda: any(t["op"] == "order.partially_filled" for t in seller.get_transactions()),
            what="the maker's fill event",
        )
        maker = next(t for t in seller.get_transactions() if t["op"] == "order.partially_filled")
        assert maker["payload"]["fill"]["liquidity"] == "maker" and maker["payload"]["order"]["leaves_qty"] == 2
        # The maker's account.update follows its fill event: wait for it, never assume it is there yet.
        await eventually(
            lambda: [t["op"] for t in seller.get_transactions()].count("account.update") == 1,
            what="the maker's account.update",
        )

        [open_sell] = await seller.list_orders()
        assert (open_sell["order_id"], open_sell["filled_qty"], open_sell["status"]) == (
            sell["order_id"],
            5,
            "partially_filled",
        )
        [done] = await buyer.list_orders(status="all")
        assert done["status"] == "filled" and await buyer.list_orders() == []

        seller_fills = await seller.list_fills()
        buyer_fills_listed = await buyer.list_fills("ACME")
        assert [f["qty"] for f in seller_fills] == [5] and buyer_fills_listed[0]["side"] == "buy"
        account = await buyer.get_account()
        [position] = account["positions"]
        assert (position["sym"], position["qty"]) == ("ACME", 5)

        await eventually(lambda: seller.best_bid_ask("ACME")["ask_qty"] == 2, what="the maker's book")
        server_book = await seller.get_book("ACME")  # the market is quiet now: this is final
        await eventually(lambda: seller.book_snapshot("ACME") == server_book, what="the trade's seq on MD too")


async def test_a_rejected_order_raises_order_rejected_with_its_code(client: MarketClient) -> None:
    with pytest.raises(OrderRejected) as info:
        await client.place_order("ACME", "buy", "100.001", 1)
    assert info.value.code == "PRICE_NOT_ON_TICK" and "tick" in info.value.message
    with pytest.raises(OrderRejected) as info:
        await client.place_order("ACME", "buy", "1.00", 1)
    assert info.value.code == "PRICE_OUT_OF_BAND"
    with pytest.raises(OrderRejected) as info:
        await client.place_order("NOPE", "buy", "1.00", 1)
    assert info.value.code == "UNKNOWN_SYMBOL"
    await eventually(
        lambda: any(t["op"] == "order.rejected" for t in client.get_transactions()), what="the order.rejected event"
    )


async def test_cancel_of_an_unknown_order_is_a_server_error(client: MarketClient) -> None:
    with pytest.raises(ServerError) as info:
        await client.cancel_order(987654)
    assert info.value.code == "UNKNOWN_ORDER" and not isinstance(info.value, OrderRejected)


async def test_a_float_price_is_refused_before_sending(client: MarketClient) -> None:
    with pytest.raises(InvalidPrice, match="float"):
        await client.place_order("ACME", "buy", 99.5, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await client.amend_order(1, price=99.5)  # type: ignore[arg-type]
    assert await client.list_orders() == []


async def test_market_orders_take_no_price(client: MarketClient) -> None:
    order = (await client.place_order("ACME", "buy", None, 1, type="market"))["order"]
    assert order["status"] == "expired" and order["type"] == "market"
    with pytest.raises(InvalidPrice):
        await client.place_order("ACME", "buy", None, 1)


async def test_unknown_op(client: MarketClient) -> None:
    with pytest.raises(ServerError) as info:
        await client.send("no.such.op", {"x": 1})
    assert info.value.code == "UNKNOWN_OP" and info.value.op == "no.such.op"


async def test_roles_with_as(client: MarketClient) -> None:
    assert (await client.send("symbols.list", as_role="viewer"))["symbols"]
    with pytest.raises(ServerError) as info:
        await client.place_order("ACME", "buy", "99", 1, as_role="viewer")
    assert info.value.code == "FORBIDDEN"
    with pytest.raises(ServerError) as info:
        await client.send("symbols.list", as_role="admin")
    assert info.value.code == "ROLE_NOT_HELD"


async def test_request_timeout_then_the_session_goes_on(client: MarketClient) -> None:
    with pytest.raises(RequestTimeout) as info:
        await client.send("ping", timeout=0)
    assert isinstance(info.value, TimeoutError)
    assert (await client.send("ping"))["ts"] > 0  # the late response was dropped, the socket is fine
    assert client.state == "connected"


async def test_many_requests_in_flight_on_one_socket(client: MarketClient) -> None:
    results = await asyncio.gather(*(client.place_order("ACME", "buy", f"99.{n:02d}", 1) for n in range(40)))
    assert sorted(r["order"]["price"] for r in results) == sorted(f"99.{n:02d}" for n in range(40))
    assert (await client.cancel_all())["count"] == 40
