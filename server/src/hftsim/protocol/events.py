"""Engine events → wire events (docs/protocol.md): which op, what payload.

One place for it, used by the gateway's fan-out and by the SDK's
in-process venues (its backtest and FakeVenue), so every venue speaks the
same frames. A private event's order says who the order is and only the
fields the event changed; only `order.accepted` carries the whole order.

A private event's payload is written out as its JSON text, byte for byte
what orjson writes for its mapping (tests/protocol/test_event_json.py holds
the mappings the protocol describes and the two equal): the gateway sends
one or more per order, and building each mapping for orjson to walk cost
twice the text. The in-process venues parse that text, as a client of a
socket would, so there is one writer of each event. Each payload, its place
included, is one bytes `%` of a literal: compiled, that is one build with
the integers written straight into bytes (as `Renderer.order_data`), where
an f-string checked each piece's kind, made each integer a str, and the
text was then encoded and copied again to close it with its place.

Given its place (the command's global sequence number and the event's index
among the command's events), an event carries it as `gseq` and `gidx`: CMD
and MD are separate sockets, and only these two numbers let a client merge
them into the order things happened.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ..engine import (
    AccountUpdate,
    BookDelta,
    CancelReason,
    Fill,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    OrderView,
    Rejected,
    Side,
    StatusChanged,
    Trade,
)
from .jsontext import APPLIED, ENUM_DATA, SYMBOLS, optional_data
from .render import Renderer

Wire = tuple[str, dict[str, Any]]
Written = tuple[str, bytes]
"""(op, payload's JSON): a private event as the wire carries it."""
FILLED: Final = OrderStatus.FILLED
USER: Final = CancelReason.USER
BUY: Final = Side.BUY
SELL: Final = Side.SELL
"""Looked up once: reading a member off its enum class costs a tenth of a microsecond, on every event."""
_ENUMS: Final = ENUM_DATA
_SYMBOLS: Final = SYMBOLS
_APPLIED: Final = APPLIED
_dumps: Final = orjson.dumps
_MAKER: Final = b'"maker"'
_TAKER: Final = b'"taker"'


def public(render: Renderer, ev: object, at: tuple[int, int] | None = None) -> Wire | None:
    """(op, payload) of a market-data event, or None when `ev` is not public; `at`: see the module's docstring."""
    wire = _public(render, ev)
    if wire is not None and at is not None:
        payload = wire[1]
        payload["gseq"], payload["gidx"] = at
    return wire


def _public(render: Renderer, ev: object) -> Wire | None:
    if isinstance(ev, BookDelta):
        sym = ev.sym
        if ev.single:  # the commonest delta, one level held flat: rendered without building its tuples
            level = [[render.price(sym, ev.price), ev.qty]]
            none: list[Any] = []
            bids, asks = (level, none) if ev.is_bid else (none, level)
            return "md.delta", {"sym": sym, "seq": ev.seq, "bids": bids, "asks": asks}
        return "md.delta", {
            "sym": sym,
            "seq": ev.seq,
            "bids": render.levels(sym, ev.bids),
            "asks": render.levels(sym, ev.asks),
        }
    if isinstance(ev, Trade):
        return "md.trade", render.trade(ev)
    if isinstance(ev, StatusChanged):
        return "md.status", {"sym": ev.sym, "seq": ev.seq, "status": ev.status.value}
    return None


def private(render: Renderer, ev: object, seq: int, index: int) -> Written | None:
    """(op, payload's JSON) of an event for the order's owner, or None when `ev` is not one; `seq` and `index`
    are its place, `gseq` and `gidx` (see the module's docstring)."""
    if isinstance(ev, OrderFilled):
        op = "order.filled" if ev.status is FILLED else "order.partially_filled"
        return op, _filled(
            render, ev.sym, ev.order_id, ev.client_order_id, ev.side, ev.status, ev.leaves_qty, ev.filled_qty,
            ev.filled_cost, ev.updated_ts, ev.fill_id, ev.fill_price, ev.fill_qty, ev.is_maker, ev.fee, ev.trade_id,
            seq, index,
        )  # fmt: skip
    if isinstance(ev, AccountUpdate):
        account = _account(render, ev.sym, ev.cash, ev.fees, ev.qty, ev.cost, ev.realized_pnl, seq, index)
        return "account.update", account
    if isinstance(ev, OrderCanceled):
        o = ev.order
        return "order.canceled", (
            b'{"order":%b,"leaves_qty":%d,"updated_ts":%b},"reason":%b,"gseq":%d,"gidx":%d}'
            % (_who(o), o.leaves_qty, _APPLIED.data(o.updated_ts), _ENUMS[ev.reason], seq, index)
        )
    if isinstance(ev, OrderAccepted):
        return "order.accepted", b'{"order":%b,"gseq":%d,"gidx":%d}' % (render.order_data(ev), seq, index)
    if isinstance(ev, OrderExpired):
        o = ev.order
        return "order.expired", (
            b'{"order":%b,"leaves_qty":%d,"updated_ts":%b},"gseq":%d,"gidx":%d}'
            % (_who(o), o.leaves_qty, _APPLIED.data(o.updated_ts), seq, index)
        )
    if isinstance(ev, OrderAmended):
        o = ev.order
        return "order.amended", (
            b'{"order":%b,"price":%b,"qty":%d,"leaves_qty":%d,"updated_ts":%b},"gseq":%d,"gidx":%d}'
            % (
                _who(o),
                render.opt_price_data(o.sym, o.price),
                o.qty,
                o.leaves_qty,
                _APPLIED.data(o.updated_ts),
                seq,
                index,
            )
        )
    if isinstance(ev, Rejected) and ev.is_place:
        error = {"code": ev.code.value, "message": ev.message}
        payload = {"client_order_id": ev.client_order_id, "sym": ev.sym, "error": error, "gseq": seq, "gidx": index}
        return "order.rejected", _dumps(payload)
    return None


def fill_private(render: Renderer, f: Fill, maker: bool, seq: int, index: int) -> tuple[Written, Written]:
    """A side's `order.filled` and `account.update` of a fill's record at `index` (see `private`), written from the
    record's fields as `private` writes them from the two events (`Fill.wire`), at their places among its five."""
    sym = f.sym
    if maker:
        status = f.maker_status
        filled = _filled(
            render, sym, f.maker_order_id, f.maker_client_order_id, SELL if f.aggressor is BUY else BUY, status,
            f.maker_qty - f.maker_filled_qty, f.maker_filled_qty, f.maker_filled_cost, f.ts, f.fill_id - 1, f.price,
            f.qty, True, f.maker_fee, f.trade_id, seq, index + Fill.MAKER_FILLED,
        )  # fmt: skip
        account = _account(
            render, sym, f.maker_cash, f.maker_fees, f.maker_position_qty, f.maker_position_cost,
            f.maker_realized_pnl, seq, index + Fill.MAKER_ACCOUNT,
        )  # fmt: skip
    else:
        status = f.taker_status
        filled = _filled(
            render, sym, f.taker_order_id, f.taker_client_order_id, f.aggressor, status,
            f.taker_qty - f.taker_filled_qty, f.taker_filled_qty, f.taker_filled_cost, f.ts, f.fill_id, f.price, f.qty,
            False, f.taker_fee, f.trade_id, seq, index + Fill.TAKER_FILLED,
        )  # fmt: skip
        account = _account(
            render, sym, f.taker_cash, f.taker_fees, f.taker_position_qty, f.taker_position_cost,
            f.taker_realized_pnl, seq, index + Fill.TAKER_ACCOUNT,
        )  # fmt: skip
    op = "order.filled" if status is FILLED else "order.partially_filled"
    return (op, filled), ("account.update", account)


def _filled(
    render: Renderer,
    sym: str,
    order_id: int,
    client_order_id: str | None,
    side: Side,
    status: OrderStatus,
    leaves_qty: int,
    filled_qty: int,
    filled_cost: int,
    ts: int,
    fill_id: int,
    price: int,
    qty: int,
    is_maker: bool,
    fee: int,
    trade_id: int,
    seq: int,
    index: int,
) -> bytes:
    """An `order.filled` payload at its place: the one writer of the event."""
    stamp = _APPLIED.data(ts)
    return (
        b'{"order":%b,"filled_qty":%d,"leaves_qty":%d,"avg_fill_price":%b,"updated_ts":%b},"fill":{"fill_id":%d,'
        b'"price":%b,"qty":%d,"liquidity":%b,"fee":"%b","trade_id":%d,"ts":%b},"gseq":%d,"gidx":%d}'
        % (
            _who_is(order_id, client_order_id, sym, side, status),
            filled_qty,
            leaves_qty,
            render.average_fill_data(sym, filled_cost, filled_qty),
            stamp,
            fill_id,
            render.price_data(sym, price),
            qty,
            _MAKER if is_maker else _TAKER,
            render.cash_data(fee),
            trade_id,
            stamp,
            seq,
            index,
        )
    )


def _account(
    render: Renderer, sym: str, cash: int, fees: int, qty: int, cost: int, realized_pnl: int, seq: int, index: int
) -> bytes:
    """An `account.update` payload at its place: the one writer of the event."""
    return (
        b'{"cash":"%b","fees":"%b","position":{"sym":%b,"qty":%d,"avg_price":%b,"realized_pnl":"%b"},'
        b'"gseq":%d,"gidx":%d}'
        % (
            render.cash_data(cash),
            render.cash_data(fees),
            _SYMBOLS.data(sym),
            qty,
            render.position_avg_data(sym, qty, cost) if qty else b"null",
            render.cash_data(realized_pnl),
            seq,
            index,
        )
    )


def _who(o: OrderView) -> bytes:
    """What every event says of its order, its mapping left open for the event's own fields: who the order is (id,
    client id, symbol, side) and its status."""
    return _who_is(o.order_id, o.client_order_id, o.sym, o.side, o.status)


def _who_is(order_id: int, client_order_id: str | None, sym: str, side: Side, status: OrderStatus) -> bytes:
    enums = _ENUMS
    return b'{"order_id":%d,"client_order_id":%b,"sym":%b,"side":%b,"status":%b' % (
        order_id,
        optional_data(client_order_id),
        _SYMBOLS.data(sym),
        enums[side],
        enums[status],
    )


def restates_response(ev: object) -> bool:
    """Whether the event says only what the response to its command says (one frame per ack).

    The connection that sent the command does not get it: the response to a
    place, amend or cancel carries the whole order.
    """
    if isinstance(ev, OrderCanceled):
        return ev.reason is USER
    return isinstance(ev, (OrderAccepted, OrderAmended))
