"""Which moves of a user's cash a buy or an amend needs (`ShardedMarket.top_up`), read from the shards' engines
in process.

Three shards, each user's 1,000,000 split 333,334 / 333,333 / 333,333
(cash has 3 decimals: 10^9 units). EMBR (shard c) costs 30,000.0 a unit.
"""

from __future__ import annotations

import pytest

from hftsim.cluster.layout import Layout
from hftsim.cluster.market import ShardedMarket
from hftsim.config import load
from hftsim.engine import AmendOrder, DebitCash, OrderType, PlaceOrder, Side

SETTINGS = load(cluster={"shards": {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE"], "c": ["EMBR"]}})
UNIT = 10**3
"""One cash unit of the wire (1.000) in engine units."""


@pytest.fixture
def market() -> ShardedMarket:
    layout = Layout.of(SETTINGS)
    return ShardedMarket(layout, [layout.engine(SETTINGS, i) for i in range(len(layout.shards))])


def embr(qty: int, side: Side = Side.BUY, price: int | None = 60_000) -> PlaceOrder:
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return PlaceOrder(user_id=1, sym="EMBR", side=side, qty=qty, price=price, type=kind)


def test_a_buy_within_its_shards_account_moves_nothing(market: ShardedMarket) -> None:
    assert market.top_up(embr(11)) == []  # 330,000.0 fits c's 333,333.333


def test_the_shortfall_comes_from_the_fullest_accounts_first(market: ShardedMarket) -> None:
    assert market.top_up(embr(20)) == [(0, 2, 266_666_667)]  # 600,000.0 less c's share, all from a (the fullest)
    market.engines[0].apply(DebitCash(1, 300_000 * UNIT, "elsewhere"), 1)  # a keeps 33,333.334
    assert market.top_up(embr(20)) == [(1, 2, 266_666_667)]
    assert market.top_up(embr(23)) == [(1, 2, 333_333_333), (0, 2, 23_333_334)]  # 690,000.0: b's all, the rest from a
    assert market.top_up(embr(24)) == []  # 720,000.0: more than the 700,000 left


def test_nothing_moves_for_a_buy_beyond_all_free_cash_a_sell_or_a_malformed_order(market: ShardedMarket) -> None:
    assert market.top_up(embr(34)) == []  # 1,020,000.0 is more than the user has
    assert market.top_up(embr(20, Side.SELL)) == []
    assert market.top_up(embr(20, price=None)) == []  # a market buy on an empty book costs nothing
    assert market.top_up(embr(-1)) == [] and market.top_up(PlaceOrder(1, "NOPE", Side.BUY, 5, 100)) == []


def test_an_amend_that_grows_a_buy_moves_what_the_bigger_order_needs(market: ShardedMarket) -> None:
    placed = market.engines[2].apply(PlaceOrder(1, "EMBR", Side.BUY, 10, 60_000, client_order_id="e"), 1).order
    assert placed is not None  # 300,000.0 of c's 333,333.333 committed
    for name in ({"order_id": placed.order_id}, {"client_order_id": "e"}):
        assert market.top_up(AmendOrder(1, qty=20, **name)) == [(0, 2, 266_666_667)]  # as a new buy of 20 would
        assert market.top_up(AmendOrder(1, qty=11, **name)) == []  # 330,000.0 still fits
        assert market.top_up(AmendOrder(1, qty=5, price=70_000, **name)) == []  # less committed
    assert market.top_up(AmendOrder(1, qty=20, price=66_000, client_order_id="e")) == [(0, 2, 326_666_667)]
    assert market.top_up(AmendOrder(2, order_id=placed.order_id, qty=20)) == []  # not the user's order
    assert market.top_up(AmendOrder(1, client_order_id="nope", qty=20)) == []
    assert market.top_up(AmendOrder(1, order_id=placed.order_id, qty=-3)) == []  # refused by the engine as it is
    sold = market.engines[2].apply(PlaceOrder(1, "EMBR", Side.SELL, 1, 62_000, client_order_id="s"), 2).order
    assert sold is not None and market.top_up(AmendOrder(1, client_order_id="s", qty=30)) == []  # a sell costs nothing
