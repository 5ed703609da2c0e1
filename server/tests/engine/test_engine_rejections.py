"""Every rejection code, the order in which rules are checked, and that a rejection changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from hftsim import compiled
from hftsim.engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Code,
    Command,
    CreditCash,
    DebitCash,
    Engine,
    Instrument,
    OpenAccount,
    OrderType,
    PlaceOrder,
    PriceError,
    Rejected,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
    field_refusal,
)

BUY = Side.BUY
SELL = Side.SELL
HALT_ACME = SetSymbolStatus("ACME", SymbolStatus.HALTED)


@dataclass
class Case:
    code: Code
    command: Command
    says: str
    """A fragment the human message must contain."""
    setup: list[Command] = field(default_factory=list)


CASES = {
    "unknown symbol": Case(Code.UNKNOWN_SYMBOL, PlaceOrder(1, "NOPE", BUY, 1, 100), "known symbols: ACME, BOLT"),
    "halted": Case(Code.SYMBOL_HALTED, PlaceOrder(1, "ACME", BUY, 1, 10000), "ACME is halted", [HALT_ACME]),
    "zero qty": Case(Code.INVALID_FIELD, PlaceOrder(1, "ACME", BUY, 0, 10000), "qty must be a positive integer"),
    "lot": Case(Code.QTY_NOT_LOT_MULTIPLE, PlaceOrder(1, "BOLT", BUY, 25, 1000), "not a multiple of the lot 10"),
    "min": Case(Code.QTY_BELOW_MIN, PlaceOrder(1, "BOLT", BUY, 10, 1000), "below the minimum 20"),
    "band": Case(Code.PRICE_OUT_OF_BAND, PlaceOrder(1, "ACME", BUY, 1, 11001), "outside the band 90.00 to 110.00"),
    "max qty": Case(Code.QTY_ABOVE_MAX, PlaceOrder(1, "ACME", BUY, 1001, 10000), "maximum of 1000"),
    "position": Case(
        Code.POSITION_LIMIT,
        PlaceOrder(1, "ACME", SELL, 1000, 10000),
        "limit is 2000",
        [PlaceOrder(1, "ACME", SELL, 1000, 10100), PlaceOrder(1, "ACME", SELL, 1000, 10200)],
    ),
    "duplicate": Case(
        Code.DUPLICATE_CLIENT_ORDER_ID,
        PlaceOrder(1, "ACME", BUY, 1, 9990, client_order_id="a"),
        "'a' is already used by live order 1",
        [PlaceOrder(1, "ACME", BUY, 1, 9990, client_order_id="a")],
    ),
    "post only": Case(
        Code.POST_ONLY_WOULD_CROSS,
        PlaceOrder(1, "ACME", SELL, 1, 9990, post_only=True),
        "best bid 99.95",
        [PlaceOrder(2, "ACME", BUY, 1, 9995)],
    ),
    "unknown order": Case(Code.UNKNOWN_ORDER, CancelOrder(1, order_id=5), "order 5 is not live"),
    "not yours": Case(
        Code.UNKNOWN_ORDER,
        CancelOrder(2, order_id=1),
        "order 1 is not live",
        [PlaceOrder(1, "ACME", BUY, 1, 9990)],
    ),
    "credited twice": Case(
        Code.DUPLICATE_TRANSFER, CreditCash(1, 5, "b", 3), "from b is already credited", [CreditCash(1, 5, "b", 3)]
    ),
}

INVALID_PLACES = {
    "negative qty": PlaceOrder(1, "ACME", BUY, -5, 10000),
    "limit without price": PlaceOrder(1, "ACME", BUY, 1),
    "market with price": PlaceOrder(1, "ACME", BUY, 1, 10000, OrderType.MARKET),
    "market post only": PlaceOrder(1, "ACME", BUY, 1, None, OrderType.MARKET, post_only=True),
    "post only IOC": PlaceOrder(1, "ACME", BUY, 1, 10000, tif=Tif.IOC, post_only=True),
    "zero price": PlaceOrder(1, "ACME", BUY, 1, 0),
    "empty client id": PlaceOrder(1, "ACME", BUY, 1, 10000, client_order_id=""),
    "long client id": PlaceOrder(1, "ACME", BUY, 1, 10000, client_order_id="x" * 65),
}

LIMIT, GTC = OrderType.LIMIT, Tif.GTC
WRONG_TYPES: dict[str, tuple[tuple[object, ...], str]] = {
    "bool qty": ((1, "ACME", BUY, True, 10000, LIMIT, GTC, False, None), "qty must be a positive integer, got True"),
    "float qty": ((1, "ACME", BUY, 1.5, 10000, LIMIT, GTC, False, None), "qty must be a positive integer, got 1.5"),
    "float price": (
        (1, "ACME", BUY, 1, 100.5, LIMIT, GTC, False, None),
        "price must be a positive number of ticks, got 100.5",
    ),
    "bad side": ((1, "ACME", "long", 1, 10000, LIMIT, GTC, False, None), "side must be one of buy, sell, got 'long'"),
    "unhashable side": ((1, "ACME", ["buy"], 1, 10000, LIMIT, GTC, False, None), "side must be one of buy, sell"),
    "bad type": ((1, "ACME", BUY, 1, 10000, "stop", GTC, False, None), "type must be one of limit, market"),
    "bad tif": ((1, "ACME", BUY, 1, 10000, LIMIT, "DAY", False, None), "tif must be one of GTC, IOC, FOK"),
    "post_only not bool": (
        (1, "ACME", BUY, 1, 10000, LIMIT, GTC, 1, None),
        "post_only must be true or false, got 1",
    ),
    "user id not int": (("1", "ACME", BUY, 1, 10000, LIMIT, GTC, False, None), "user_id must be an integer"),
    "symbol not str": ((1, 7, BUY, 1, 10000, LIMIT, GTC, False, None), "unknown symbol 7; known symbols: ACME, BOLT"),
}
"""A new order's values of the wrong type (in `PlaceOrder`'s order) and the engine's words for the first of them."""

HARMLESS = CancelOrder(1, order_id=10**9)
"""A rejection that surely changes nothing, to compare states at equal command sequence numbers."""


def fresh_after(engine_factory: Engine, setup: list[Command]) -> Engine:
    engine = type(engine_factory)(engine_factory.instruments, engine_factory.limits, engine_factory.initial_cash)
    for i, command in enumerate(setup):
        result = engine.apply(command, i)
        assert result.rejection is None, result.rejection
    return engine


def control_after(engine_factory: Engine, setup: list[Command]) -> Engine:
    """The state a rejection must leave: the setup, then one more command sequence number."""
    engine = fresh_after(engine_factory, setup)
    assert engine.apply(HARMLESS, 99).rejection is not None
    return engine


@pytest.mark.parametrize("name", CASES)
def test_each_rejection_code(engine: Engine, name: str) -> None:
    case = CASES[name]
    rejected = fresh_after(engine, case.setup)
    result = rejected.apply(case.command, 99)
    assert result.rejection is not None
    assert result.events == [result.rejection]
    assert result.rejection.code is case.code
    assert case.says in result.rejection.message
    assert result.seq == len(case.setup) + 1 and result.order is None and not result.canceled
    assert rejected.state_hash() == control_after(engine, case.setup).state_hash()


def test_cases_cover_every_code() -> None:
    # INSUFFICIENT_FUNDS needs less cash than the shared fixture has: test_engine_funds.py covers it.
    covered = {case.code for case in CASES.values()} | {Code.PRICE_NOT_ON_TICK, Code.INSUFFICIENT_FUNDS}
    assert covered == set(Code)


def test_price_not_on_tick_is_refused_at_the_edge() -> None:
    bolt = Instrument("BOLT", Decimal("0.05"), 10, 20, 1000, Decimal(20))
    assert bolt.to_ticks("50.05") == 1001
    with pytest.raises(PriceError) as raised:
        bolt.to_ticks("50.02")
    assert raised.value.code is Code.PRICE_NOT_ON_TICK and "tick 0.05" in raised.value.message


@pytest.mark.parametrize("name", INVALID_PLACES)
def test_invalid_fields(engine: Engine, name: str) -> None:
    result = engine.apply(INVALID_PLACES[name], 1)
    assert result.rejection is not None and result.rejection.code is Code.INVALID_FIELD, result.rejection
    assert result.rejection.is_place
    assert engine.state_hash() == control_after(engine, []).state_hash()


@pytest.mark.parametrize(
    ("setup", "command", "expected"),
    [
        ([HALT_ACME], PlaceOrder(1, "ACME", BUY, 0, 10**9), Code.SYMBOL_HALTED),
        ([], PlaceOrder(1, "BOLT", BUY, 15, 1000, OrderType.MARKET), Code.INVALID_FIELD),
        ([], PlaceOrder(1, "BOLT", BUY, 15, 5000), Code.QTY_NOT_LOT_MULTIPLE),
        ([], PlaceOrder(1, "BOLT", BUY, 10, 5000), Code.QTY_BELOW_MIN),
        ([], PlaceOrder(1, "ACME", BUY, 5000, 20000), Code.PRICE_OUT_OF_BAND),
        (
            [PlaceOrder(1, "ACME", BUY, 1000, 9990), PlaceOrder(1, "ACME", BUY, 1000, 9980)],
            PlaceOrder(1, "ACME", BUY, 1001, 9970),
            Code.QTY_ABOVE_MAX,
        ),
        (
            [PlaceOrder(1, "ACME", BUY, 1000, 9990, client_order_id="d"), PlaceOrder(1, "ACME", BUY, 1000, 9980)],
            PlaceOrder(1, "ACME", BUY, 1, 9970, client_order_id="d"),
            Code.POSITION_LIMIT,
        ),
        (
            [PlaceOrder(2, "ACME", SELL, 1, 10000), PlaceOrder(1, "ACME", BUY, 1, 9990, client_order_id="d")],
            PlaceOrder(1, "ACME", BUY, 1, 10000, post_only=True, client_order_id="d"),
            Code.DUPLICATE_CLIENT_ORDER_ID,
        ),
    ],
)
def test_validation_order(engine: Engine, setup: list[Command], command: Command, expected: Code) -> None:
    result = fresh_after(engine, setup).apply(command, 99)
    assert result.rejection is not None and result.rejection.code is expected


def test_position_limit_counts_position_and_open_orders(engine: Engine) -> None:
    engine.apply(PlaceOrder(2, "ACME", SELL, 1000, 10000), 1)
    engine.apply(PlaceOrder(1, "ACME", BUY, 1000, 10000), 2)
    assert engine.position(1, "ACME").qty == 1000
    engine.apply(PlaceOrder(1, "ACME", BUY, 600, 9990), 3)
    assert engine.apply(PlaceOrder(1, "ACME", BUY, 401, 9980), 4).rejection is not None
    assert engine.apply(PlaceOrder(1, "ACME", BUY, 400, None, OrderType.MARKET), 5).rejection is None
    # Selling from a long position is limited on the short side only: 1000 long allows 3000 of sells.
    for ts in (6, 7, 8):
        assert engine.apply(PlaceOrder(1, "ACME", SELL, 1000, 10500), ts).rejection is None
    result = engine.apply(PlaceOrder(1, "ACME", SELL, 1, 10500), 9)
    assert result.rejection is not None and result.rejection.code is Code.POSITION_LIMIT


def test_rejected_event_fields(engine: Engine) -> None:
    place = engine.apply(PlaceOrder(1, "ACME", BUY, 0, 10000, client_order_id="c"), 1).rejection
    assert place == Rejected(1, Code.INVALID_FIELD, place.message if place else "", "ACME", "c", True)
    cancel = engine.apply(CancelOrder(1, client_order_id="c"), 2).rejection
    assert cancel is not None and cancel.client_order_id == "c" and cancel.sym is None and not cancel.is_place
    status = engine.apply(SetSymbolStatus("NOPE", SymbolStatus.HALTED), 3).rejection
    assert status is not None and status.user_id is None


def test_cancel_all_and_amend_field_checks(engine: Engine) -> None:
    order = engine.apply(PlaceOrder(1, "ACME", BUY, 5, 9990), 4).order
    assert order is not None
    for amend in (AmendOrder(1, order_id=order.order_id, price=0), AmendOrder(1, order_id=order.order_id, qty=0)):
        result = engine.apply(amend, 5)
        assert result.rejection is not None and result.rejection.code is Code.INVALID_FIELD
    assert engine.order(order.order_id) == order


@pytest.mark.parametrize("name", WRONG_TYPES)
def test_a_new_order_of_the_wrong_types_is_refused_where_it_is_built(name: str) -> None:
    """What builds commands from untyped values asks `field_refusal` first: the engine's rule, code and message."""
    values, says = WRONG_TYPES[name]
    refusal = field_refusal(PlaceOrder, values, ["ACME", "BOLT"])
    assert refusal is not None and says in refusal.message
    assert refusal.code is (Code.UNKNOWN_SYMBOL if name == "symbol not str" else Code.INVALID_FIELD)


@pytest.mark.parametrize(
    ("kind", "values", "says"),
    [
        (CancelAll, ("u", None), "user_id must be an integer, got 'u'"),
        (CancelAll, (1, 5), "unknown symbol 5"),
        (CancelOrder, (1, "1", None), "order_id must be an integer, got '1'"),
        (CancelOrder, (1, None, 7), "client_order_id must be a string, got 7"),
        (AmendOrder, (1, 3, None, 99.9, None), "price must be a positive number of ticks, got 99.9"),
        (AmendOrder, (1, 3, None, None, 2.0), "must be an integer above the filled 1, got 2.0"),
        (OpenAccount, (1, 10.0), "cash must be a non-negative integer, got 10.0"),
        (DebitCash, (1, 5, None), "to must name the other account, got None"),
        (CreditCash, (1, 5, "b", "3"), "ref must be a positive integer, got '3'"),
    ],
)
def test_other_commands_of_the_wrong_types_are_refused_where_they_are_built(
    kind: type[Command], values: tuple[object, ...], says: str
) -> None:
    refusal = field_refusal(kind, values, ["ACME", "BOLT"], filled=1)
    assert refusal is not None and says in refusal.message


def test_values_that_fit_are_left_to_the_engine() -> None:
    assert field_refusal(PlaceOrder, (1, "NOPE", BUY, -1, None, LIMIT, GTC, False, ""), ["ACME"]) is None
    assert field_refusal(CancelOrder, (1, None, None), ["ACME"]) is None


def test_a_compiled_command_refuses_a_value_of_the_wrong_type() -> None:
    """Why the builders ask first: compiled (test_engine_builds: it is), the class itself refuses, with a
    TypeError and no engine code."""
    assert compiled.ORDER_PATH.compiled
    with pytest.raises(TypeError):
        PlaceOrder(1, "ACME", BUY, 1.5, 10000)  # type: ignore[arg-type]


def test_a_symbol_made_anew_finds_its_book_as_the_instruments_own_does(engine: Engine) -> None:
    """A new order's book is looked for by identity among the books first (the gateway's and the agents' commands
    carry the instrument's own `sym`), then in the dict: an equal string made anew (a journal's replay) finds the
    same book, and trades there."""
    own = engine.instruments[0].sym
    anew = "".join(list(own))
    assert anew == own and anew is not own
    assert engine.apply(PlaceOrder(1, own, BUY, 1, 10000), 1).rejection is None
    taken = engine.apply(PlaceOrder(2, anew, SELL, 1, 10000), 2)
    assert taken.rejection is None and taken.order is not None
    assert (taken.order.sym, taken.order.filled_qty) == (own, 1)
