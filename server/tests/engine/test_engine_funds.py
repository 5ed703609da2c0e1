"""Buying power: a buy is accepted only if it fits in the cash its resting buys have not committed.

Each user starts with 2,000,000 cash units: 200 ACME at 100.00 (a tick is
worth 1 unit), or 400 BOLT at 50.00 (a tick is worth 5 units).
"""

from __future__ import annotations

import pytest

from hftsim.engine import (
    AmendOrder,
    CancelOrder,
    Code,
    Command,
    Engine,
    Limits,
    OpenAccount,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Result,
    Side,
    Tif,
)
from hftsim.store.codec import decode, encode

CASH = 2_000_000


@pytest.fixture
def engine(engine: Engine) -> Engine:
    """The shared instruments and limits, with less cash."""
    return type(engine)(engine.instruments, Limits(max_order_qty=1000, max_position=2000), CASH)


def run(engine: Engine, command: PlaceOrder | AmendOrder | CancelOrder) -> Result:
    return engine.apply(command, engine.seq + 1)


def code(result: Result) -> Code | None:
    return result.rejection.code if result.rejection is not None else None


def test_a_limit_buy_beyond_cash_is_refused_and_changes_nothing(engine: Engine) -> None:
    before = engine.state_hash()
    result = run(engine, PlaceOrder(1, "ACME", Side.BUY, 201, 10000))
    assert code(result) is Code.INSUFFICIENT_FUNDS and result.rejection is not None
    assert "could cost 20100.00 but only 20000.00 is available" in result.rejection.message
    assert engine.cash(1) == CASH and engine.open_orders(1) == []
    assert engine.state_hash() != before  # only the sequence number moved
    assert run(engine, PlaceOrder(1, "ACME", Side.BUY, 200, 10000)).rejection is None


def test_open_buys_commit_cash_across_symbols_until_canceled(engine: Engine) -> None:
    first = run(engine, PlaceOrder(1, "ACME", Side.BUY, 100, 10000)).order
    assert first is not None
    assert code(run(engine, PlaceOrder(1, "BOLT", Side.BUY, 220, 1000))) is Code.INSUFFICIENT_FUNDS
    assert run(engine, PlaceOrder(1, "BOLT", Side.BUY, 200, 1000)).rejection is None
    assert code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9000))) is Code.INSUFFICIENT_FUNDS
    run(engine, CancelOrder(1, order_id=first.order_id))
    assert run(engine, PlaceOrder(1, "ACME", Side.BUY, 100, 10000)).rejection is None


def test_sells_need_no_cash_and_their_proceeds_can_be_spent(engine: Engine) -> None:
    run(engine, PlaceOrder(2, "ACME", Side.BUY, 100, 10000))
    assert run(engine, PlaceOrder(1, "ACME", Side.SELL, 100, 10000)).rejection is None
    assert engine.cash(1) == CASH + 1_000_000
    assert run(engine, PlaceOrder(1, "BOLT", Side.BUY, 600, 1000)).rejection is None


def test_fills_keep_cash_at_or_above_zero(engine: Engine) -> None:
    run(engine, PlaceOrder(2, "ACME", Side.SELL, 200, 10000))
    filled = run(engine, PlaceOrder(1, "ACME", Side.BUY, 200, 10000)).order
    assert filled is not None and filled.status is OrderStatus.FILLED
    assert engine.cash(1) == 0
    assert code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9000))) is Code.INSUFFICIENT_FUNDS


def test_a_market_buy_is_priced_by_walking_the_asks(engine: Engine) -> None:
    run(engine, PlaceOrder(2, "ACME", Side.SELL, 100, 9500))
    run(engine, PlaceOrder(2, "ACME", Side.SELL, 100, 11000))
    run(engine, PlaceOrder(1, "ACME", Side.SELL, 500, 10500))  # own order: canceled by STP, not bought
    refused = run(engine, PlaceOrder(1, "ACME", Side.BUY, 200, None, OrderType.MARKET, Tif.IOC))
    assert code(refused) is Code.INSUFFICIENT_FUNDS and refused.rejection is not None
    assert "could cost 20500.00 but only" in refused.rejection.message
    bought = run(engine, PlaceOrder(1, "ACME", Side.BUY, 101, None, OrderType.MARKET, Tif.IOC)).order
    assert bought is not None and bought.filled_qty == 101
    assert engine.cash(1) == CASH - 100 * 9500 - 11000


def test_a_market_buy_into_a_thin_book_pays_only_for_what_is_there(engine: Engine) -> None:
    run(engine, PlaceOrder(2, "ACME", Side.SELL, 10, 10000))
    order = run(engine, PlaceOrder(1, "ACME", Side.BUY, 1000, None, OrderType.MARKET, Tif.IOC)).order
    assert order is not None and order.filled_qty == 10 and order.status is OrderStatus.EXPIRED


def test_amending_a_buy_up_rechecks_the_cash(engine: Engine) -> None:
    order = run(engine, PlaceOrder(1, "ACME", Side.BUY, 100, 10000)).order
    assert order is not None
    assert code(run(engine, AmendOrder(1, order_id=order.order_id, qty=201))) is Code.INSUFFICIENT_FUNDS
    assert code(run(engine, AmendOrder(1, order_id=order.order_id, price=10000, qty=201))) is Code.INSUFFICIENT_FUNDS
    assert run(engine, AmendOrder(1, order_id=order.order_id, qty=200)).rejection is None
    assert code(run(engine, AmendOrder(1, order_id=order.order_id, price=10001))) is Code.INSUFFICIENT_FUNDS
    assert run(engine, AmendOrder(1, order_id=order.order_id, price=9000, qty=222)).rejection is None
    assert run(engine, AmendOrder(1, order_id=order.order_id, qty=100)).rejection is None
    assert code(run(engine, PlaceOrder(1, "BOLT", Side.BUY, 240, 1000))) is Code.INSUFFICIENT_FUNDS
    assert run(engine, PlaceOrder(1, "BOLT", Side.BUY, 220, 1000)).rejection is None


def test_open_account_funds_a_new_account_once(engine: Engine) -> None:
    assert run_any(engine, OpenAccount(7, 5 * CASH)).events == []
    assert engine.cash(7) == engine.opening_cash(7) == 5 * CASH
    assert run(engine, PlaceOrder(7, "ACME", Side.BUY, 1000, 10000)).rejection is None
    run_any(engine, OpenAccount(7, 9 * CASH))
    assert engine.cash(7) == 5 * CASH and engine.opening_cash(1) == CASH
    assert code(run_any(engine, OpenAccount(8, -1))) is Code.INVALID_FIELD


def test_open_account_is_journaled_and_replays_to_the_same_state(engine: Engine) -> None:
    commands: list[Command] = [
        OpenAccount(7, 5 * CASH),
        PlaceOrder(7, "ACME", Side.BUY, 1000, 10000, client_order_id="k"),
    ]
    decoded = [decode(encode(c)) for c in commands]
    assert decoded == commands
    replayed = type(engine)(engine.instruments, engine.limits, engine.initial_cash)
    for command in commands:
        run_any(engine, command)
    for command in decoded:
        run_any(replayed, command)
    assert replayed.state_hash() == engine.state_hash()


def run_any(engine: Engine, command: Command) -> Result:
    return engine.apply(command, engine.seq + 1)
