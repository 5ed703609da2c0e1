"""Fees: maker and taker rates per symbol, rebates, per-lot charges, exact rounding, buying power that counts them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hftsim.engine import AccountUpdate, Code, Engine, Fees, Instrument, Limits, OrderFilled, PlaceOrder, Result, Side

SHARE = Fees(maker_bps=Decimal("-1.5"), taker_bps=Decimal("3.25"))
"""A maker rebate of 1.5 bp, a taker fee of 3.25 bp."""
PER_LOT = Fees(maker_per_lot=Decimal("-0.01"), taker_per_lot=Decimal("0.02"))
ACME = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10), SHARE)
BOLT = Instrument("BOLT", Decimal("0.05"), 10, 20, 1000, Decimal(20), PER_LOT)
CASH = 10_000_000


@pytest.fixture
def market(engine_class: type[Engine]) -> Engine:
    return engine_class([ACME, BOLT], Limits(max_order_qty=1000, max_position=2000), CASH)


def run(engine: Engine, command: PlaceOrder) -> Result:
    return engine.apply(command, engine.seq + 1)


def fills(result: Result) -> dict[bool, OrderFilled]:
    """The fill events of one trade by is_maker."""
    return {ev.fill.is_maker: ev for ev in result.wire_events() if isinstance(ev, OrderFilled)}


def test_each_fill_charges_the_taker_and_rebates_the_maker(market: Engine) -> None:
    run(market, PlaceOrder(1, "ACME", Side.BUY, 10, 10000))
    result = run(market, PlaceOrder(2, "ACME", Side.SELL, 10, 10000))
    by_role = fills(result)
    value = 10 * 10000  # 1,000.00 in cash units
    assert by_role[False].fill.fee == 32  # 3.25 bp of 100,000 is 32.5: rounded toward zero
    assert by_role[True].fill.fee == -15  # 1.5 bp rebate
    assert market.fees(2) == 32 and market.fees(1) == -15
    assert market.cash(2) == CASH + value - 32
    assert market.cash(1) == CASH - value + 15
    updates = {ev.user_id: ev for ev in result.wire_events() if isinstance(ev, AccountUpdate)}
    assert (updates[1].fees, updates[2].fees) == (-15, 32)
    assert (updates[1].cash, updates[2].cash) == (market.cash(1), market.cash(2))


def test_rounding_is_toward_zero_for_charges_and_rebates(market: Engine) -> None:
    run(market, PlaceOrder(1, "ACME", Side.SELL, 3, 10001))
    result = run(market, PlaceOrder(2, "ACME", Side.BUY, 3, 10001))
    by_role = fills(result)
    # 30,003 cash units: the taker's 9.750975 is 9, the maker's rebate of 4.50045 is 4
    assert (by_role[False].fill.fee, by_role[True].fill.fee) == (9, -4)


def test_per_lot_fees_count_lots(market: Engine) -> None:
    run(market, PlaceOrder(1, "BOLT", Side.BUY, 30, 1000))
    by_role = fills(run(market, PlaceOrder(2, "BOLT", Side.SELL, 30, 1000)))
    assert (by_role[False].fill.fee, by_role[True].fill.fee) == (6, -3)  # 3 lots at 0.02 and -0.01


def test_buying_power_counts_the_dearest_fee(engine_class: type[Engine]) -> None:
    engine = engine_class([ACME, BOLT], Limits(max_order_qty=10**6, max_position=10**6), 100_000)
    # 10 at 100.00 is exactly the cash; its taker fee (32) is not covered
    refused = run(engine, PlaceOrder(1, "ACME", Side.BUY, 10, 10000))
    assert refused.rejection is not None and refused.rejection.code is Code.INSUFFICIENT_FUNDS
    assert "could cost 1000.32" in refused.rejection.message
    accepted = run(engine, PlaceOrder(1, "ACME", Side.BUY, 9, 10000))
    assert accepted.rejection is None
    # what rests commits its value and its fee: 90,000 + 29
    refused = run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9970))
    assert refused.rejection is not None and refused.rejection.code is Code.INSUFFICIENT_FUNDS


def test_fee_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="at most 2 decimals"):
        Fees(taker_bps=Decimal("0.125"))
    with pytest.raises(ValueError, match="within"):
        Fees(taker_bps=Decimal(2000))
    with pytest.raises(ValueError, match="at most 2 decimals"):
        Fees(taker_per_lot=Decimal("0.001"))
    with pytest.raises(ValueError, match="so a sale always pays for its fee"):
        Instrument("CHEAP", Decimal("0.01"), 1, 1, 100, Decimal(50), Fees(taker_per_lot=Decimal("0.50")))
