"""Cash, positions and realized PnL on average cost, in integer cash units."""

from __future__ import annotations

import pickle

from hftsim.engine import AccountUpdate, Engine, OpenAccount, OrderType, PlaceOrder, PositionView, Result, Side
from hftsim.engine.core.accounts import DENSE_IDS


def trade(engine: Engine, taker: int, side: Side, qty: int, price: int, sym: str = "ACME") -> Result:
    """Let user 99 rest the other side, then `taker` hit it: one fill at `price`."""
    maker_side = Side.SELL if side is Side.BUY else Side.BUY
    assert engine.apply(PlaceOrder(99, sym, maker_side, qty, price), engine.seq).rejection is None
    result = engine.apply(PlaceOrder(taker, sym, side, qty, price), engine.seq)
    assert result.order is not None and result.order.leaves_qty == 0
    return result


def identity_holds(engine: Engine, user: int) -> bool:
    """cash + cost basis - realized PnL is what the user started with."""
    views = [engine.position(user, i.sym) for i in engine.instruments]
    return engine.cash(user) + sum(v.cost for v in views) - sum(v.realized_pnl for v in views) == engine.initial_cash


def test_buy_then_partial_sell_realizes_on_average_cost(engine: Engine) -> None:
    trade(engine, 1, Side.BUY, 10, 10000)
    trade(engine, 1, Side.BUY, 10, 10200)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 20, 202000, 0)
    trade(engine, 1, Side.SELL, 5, 10300)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 15, 151500, 5 * 10300 - 50500)
    assert engine.cash(1) == engine.initial_cash - 202000 + 51500
    assert identity_holds(engine, 1) and identity_holds(engine, 99)


def test_flip_through_zero_closes_then_opens_at_fill_price(engine: Engine) -> None:
    trade(engine, 1, Side.BUY, 10, 10000)
    trade(engine, 1, Side.SELL, 15, 10200)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", -5, -51000, 2000)
    trade(engine, 1, Side.BUY, 5, 10100)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 0, 0, 2500)
    assert identity_holds(engine, 1)


def test_partial_close_rounding_is_exact_when_flat_long(engine: Engine) -> None:
    trade(engine, 1, Side.BUY, 3, 10001)
    trade(engine, 1, Side.SELL, 1, 10000)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 2, 20002, -1)
    trade(engine, 1, Side.SELL, 2, 10000)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 0, 0, -3)


def test_partial_close_rounding_is_exact_when_flat_short(engine: Engine) -> None:
    trade(engine, 1, Side.SELL, 3, 10001)
    trade(engine, 1, Side.BUY, 1, 10000)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", -2, -20002, 1)
    trade(engine, 1, Side.BUY, 2, 10000)
    assert engine.position(1, "ACME") == PositionView(1, "ACME", 0, 0, 3)
    assert identity_holds(engine, 1)


def test_tick_value_scales_cash(engine: Engine) -> None:
    trade(engine, 1, Side.BUY, 20, 1000, sym="BOLT")
    assert engine.cash(1) == engine.initial_cash - 20 * 1000 * 5
    assert engine.position(1, "BOLT").cost == 100000
    assert engine.cash_decimals == 2


def test_account_updates_carry_cash_and_position_after_each_fill(engine: Engine) -> None:
    engine.apply(PlaceOrder(2, "ACME", Side.SELL, 3, 10000), 1)
    engine.apply(PlaceOrder(3, "ACME", Side.SELL, 3, 10010), 2)
    result = engine.apply(PlaceOrder(1, "ACME", Side.BUY, 6, None, OrderType.MARKET), 3)
    updates = [(e.user_id, e.cash, e.position.qty) for e in result.wire_events() if isinstance(e, AccountUpdate)]
    start = engine.initial_cash
    assert updates == [
        (2, start + 30000, -3),
        (1, start - 30000, 3),
        (3, start + 30030, -3),
        (1, start - 60030, 6),
    ]


def test_positions_lists_open_or_realized_only(engine: Engine) -> None:
    assert engine.positions(1) == []
    engine.apply(PlaceOrder(1, "BOLT", Side.BUY, 20, 900), 1)
    assert engine.positions(1) == []
    trade(engine, 1, Side.BUY, 5, 10000)
    trade(engine, 1, Side.SELL, 5, 10001)
    assert engine.positions(1) == [PositionView(1, "ACME", 0, 0, 5)]
    assert engine.position(42, "ACME") == PositionView(42, "ACME", 0, 0, 0)
    assert engine.cash(42) == engine.initial_cash


def test_each_user_id_finds_its_own_account_below_and_beyond_the_list(engine: Engine) -> None:
    """Ids below DENSE_IDS find their account by a list read, the others in a dict (core/accounts.Accounts).

    Whatever the id and the order the accounts open in, a new order finds its own user's account (the cash
    it opened with, less what its buy commits), never another's or a fresh one; an id below the largest one
    held that never opened has none; a snapshot brings every account back.
    """
    users = [7, 3, 0, DENSE_IDS - 1, DENSE_IDS, 10**15, -4]
    opened = {user: 10**9 + n for n, user in enumerate(users)}
    for user, cash in opened.items():
        engine.apply(OpenAccount(user, cash), engine.seq)
    assert engine.user_ids() == sorted(users)
    assert engine.cash(5) == engine.initial_cash and 5 not in engine.user_ids()
    for n, user in enumerate(users):
        price = 9000 + n
        cost = engine.buy_cost(user, "ACME", 1, price)
        assert engine.apply(PlaceOrder(user, "ACME", Side.BUY, 1, price), engine.seq).rejection is None
        assert engine.available(user) == opened[user] - cost
        assert [o.price for o in engine.open_orders(user)] == [price]
    restored = pickle.loads(pickle.dumps(engine))
    assert restored.state_hash() == engine.state_hash()
    assert [restored.available(user) for user in users] == [engine.available(user) for user in users]
