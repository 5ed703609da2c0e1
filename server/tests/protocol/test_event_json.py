"""A private event's payload, written out as JSON text (`events.private`), is byte for byte what orjson writes for
the mapping docs/protocol.md describes: the mappings are built here, the plain way, as the definition. A fill's
record written whole (`events.fill_private`) is byte for byte its events written one by one."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hftsim.engine import (
    AccountUpdate,
    CancelReason,
    Code,
    Fill,
    FillView,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderStatus,
    OrderType,
    OrderView,
    PositionView,
    Rejected,
    Side,
    Tif,
    Trade,
)
from hftsim.engine.core.events import order_accepted, order_canceled, order_filled
from hftsim.protocol.events import fill_private, private
from hftsim.protocol.jsontext import KEPT, SYMBOLS, Stamp, Strings

from .drawn import COIDS, INT64, INTS, RENDER, SIZES, SYMS, orders


@st.composite
def fills(draw: st.DrawFn) -> object:
    """An order's fill: the order as the fill left it (filled at least the fill's quantity)."""
    order = draw(orders())
    qty = draw(st.integers(1, 10**6))
    order.filled_qty += qty
    order.qty += qty
    order.filled_cost += draw(st.integers(1, 10**15))
    fill = FillView(draw(INTS), order.order_id, order.client_order_id, order.user_id, order.sym, order.side,
                    draw(st.integers(-(10**12), 10**12)), qty, draw(st.booleans()), draw(INTS), order.updated_ts,
                    draw(SIZES))  # fmt: skip
    return order_filled(order, fill)


EVENTS = st.one_of(
    fills(),
    st.builds(AccountUpdate, INTS, SIZES, st.sampled_from(SYMS), SIZES, SIZES, SIZES, SIZES),
    orders().map(order_accepted),
    st.builds(order_canceled, orders(), st.sampled_from(CancelReason)),
    st.builds(OrderExpired, INTS, orders()),
    st.builds(OrderAmended, INTS, orders()),
    st.builds(Rejected, INTS, st.sampled_from(Code), st.text(), st.sampled_from(SYMS), COIDS, st.just(True)),
)


def who(o: OrderView) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "client_order_id": o.client_order_id,
        "sym": o.sym,
        "side": o.side.value,
        "status": o.status.value,
    }


def avg(o: OrderView) -> str | None:
    return RENDER.avg_fill_price(o) if o.filled_qty else None


def mapping(ev: Any) -> tuple[str, dict[str, Any]]:
    """The event's op and payload as docs/protocol.md's "Private events" lists them."""
    if isinstance(ev, AccountUpdate):
        return "account.update", {
            "cash": RENDER.cash(ev.cash),
            "fees": RENDER.cash(ev.fees),
            "position": RENDER.position_change(PositionView(ev.user_id, ev.sym, ev.qty, ev.cost, ev.realized_pnl)),
        }
    if isinstance(ev, OrderAccepted):
        return "order.accepted", {"order": RENDER.order(ev)}
    if isinstance(ev, OrderCanceled):
        o = ev.order
        return "order.canceled", {
            "order": {**who(o), "leaves_qty": o.leaves_qty, "updated_ts": o.updated_ts},
            "reason": ev.reason.value,
        }
    if isinstance(ev, OrderExpired):
        o = ev.order
        return "order.expired", {"order": {**who(o), "leaves_qty": o.leaves_qty, "updated_ts": o.updated_ts}}
    if isinstance(ev, OrderAmended):
        o = ev.order
        price = RENDER.opt_price(o.sym, o.price)
        order = {**who(o), "price": price, "qty": o.qty, "leaves_qty": o.leaves_qty, "updated_ts": o.updated_ts}
        return "order.amended", {"order": order}
    if isinstance(ev, Rejected):
        error = {"code": ev.code.value, "message": ev.message}
        return "order.rejected", {"client_order_id": ev.client_order_id, "sym": ev.sym, "error": error}
    o, f = ev.order, ev.fill
    order = {**who(o), "filled_qty": o.filled_qty, "leaves_qty": o.leaves_qty, "avg_fill_price": avg(o)}
    fill = {
        "fill_id": f.fill_id,
        "price": RENDER.price(f.sym, f.price),
        "qty": f.qty,
        "liquidity": "maker" if f.is_maker else "taker",
        "fee": RENDER.cash(f.fee),
        "trade_id": f.trade_id,
        "ts": f.ts,
    }
    op = "order.filled" if o.status is OrderStatus.FILLED else "order.partially_filled"
    return op, {"order": {**order, "updated_ts": o.updated_ts}, "fill": fill}


@settings(max_examples=1000)
@given(EVENTS, INT64, st.integers(0, 10**6))
def test_a_private_event_is_what_orjson_writes_for_its_mapping(ev: object, seq: int, index: int) -> None:
    op, payload = mapping(ev)
    assert private(RENDER, ev, seq, index) == (op, orjson.dumps({**payload, "gseq": seq, "gidx": index}))


@st.composite
def records(draw: st.DrawFn) -> Fill:
    """A fill's record: each side's order filled at least the fill, filled whole or in part."""
    qty = draw(st.integers(1, 10**6))
    sides: list[object] = []
    for _ in range(2):
        status = draw(st.sampled_from([OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]))
        filled = qty + draw(st.integers(0, 10**6))
        sides += [
            draw(INTS), draw(COIDS), draw(st.sampled_from(OrderType)),
            draw(st.one_of(st.none(), st.integers(-(10**12), 10**12))),
            filled if status is OrderStatus.FILLED else filled + draw(st.integers(1, 2**62)), filled,
            draw(st.integers(1, 10**15)), draw(st.sampled_from(Tif)), draw(st.booleans()), status, draw(INTS),
            draw(SIZES), draw(SIZES), draw(SIZES), draw(SIZES), draw(SIZES), draw(SIZES),
        ]  # fmt: skip
    return Fill(
        draw(st.sampled_from(SYMS)), draw(INTS), draw(INTS), draw(st.integers(-(10**12), 10**12)), qty,
        draw(st.sampled_from(Side)), draw(INTS), draw(INTS), draw(INTS), draw(INTS), *sides,  # type: ignore[arg-type]
    )  # fmt: skip


@settings(max_examples=500)
@given(records(), INT64, st.integers(0, 10**6))
def test_a_fills_record_is_written_as_its_events(fill: Fill, seq: int, index: int) -> None:
    told = fill.wire()
    for maker, at_filled, at_account in ((True, 0, 2), (False, 1, 3)):
        assert fill_private(RENDER, fill, maker, seq, index) == (
            private(RENDER, told[at_filled], seq, index + at_filled),
            private(RENDER, told[at_account], seq, index + at_account),
        )


def test_public_events_and_the_rest_are_not_private() -> None:
    trade = Trade(SYMS[0], 1, 2, 10_000, 5, Side.BUY, 3, 4, 5)
    assert private(RENDER, trade, 1, 0) is None
    assert private(RENDER, Rejected(1, Code.UNKNOWN_ORDER, "no such order"), 1, 0) is None


def test_strings_are_orjsons_text_and_keep_a_bounded_few() -> None:
    strings = Strings()
    for value in ['q"uo\\te', "ünï ☃", "\x00"]:
        assert strings.text(value) == orjson.dumps(value).decode()
        assert strings.data(value) == orjson.dumps(value)
    for i in range(2 * KEPT):
        assert strings.text(str(i)) == f'"{i}"'
    assert len(strings._text) == KEPT
    assert SYMBOLS.text(SYMS[0]) == f'"{SYMS[0]}"'


@given(st.lists(st.one_of(st.sampled_from([0, 1_764_000_000_000, 1_764_000_000_001]), INT64), max_size=30))
def test_a_stamp_writes_each_ts_as_its_digits(stamps: list[int]) -> None:
    """Runs of one ts (read back from the stamp), a ts that comes back after another, zero (its first value)."""
    stamp = Stamp()
    for ts in stamps:
        assert stamp.data(ts) == str(ts).encode()


def test_a_string_asked_again_is_its_own_text() -> None:
    """The string asked for last is remembered by identity: another string, or an equal one made anew, still gets
    its own text."""
    strings = Strings()
    for value in ["ACME", "BOLT", "ACME", "ACME", "".join(["AC", "ME"]), 'q"uo', "BOLT"]:
        assert strings.data(value) == orjson.dumps(value)
