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
socket would, so there is one writer of each event.

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
from .jsontext import ENUM_TEXT, SYMBOLS, optional_string
from .render import Renderer

Wire = tuple[str, dict[str, Any]]
Written = tuple[str, bytes]
"""(op, payload's JSON): a private event as the wire carries it."""
FILLED: Final = OrderStatus.FILLED
USER: Final = CancelReason.USER
BUY: Final = Side.BUY
SELL: Final = Side.SELL
"""Looked up once: reading a member off its enum class costs a tenth of a microsecond, on every event."""
_ENUMS: Final = ENUM_TEXT
_SYMBOLS: Final = SYMBOLS
_dumps: Final = orjson.dumps
_MAKER: Final = '"maker"'
_TAKER: Final = '"taker"'


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
        text = _filled(
            render, ev.sym, ev.order_id, ev.client_order_id, ev.side, ev.status, ev.leaves_qty, ev.filled_qty,
            ev.filled_cost, ev.updated_ts, ev.fill_id, ev.fill_price, ev.fill_qty, ev.is_maker, ev.fee, ev.trade_id,
        )  # fmt: skip
    elif isinstance(ev, AccountUpdate):
        op = "account.update"
        text = _account(render, ev.sym, ev.cash, ev.fees, ev.qty, ev.cost, ev.realized_pnl)
    elif isinstance(ev, OrderCanceled):
        op = "order.canceled"
        o = ev.order
        text = (
            f'{{"order":{_who(o)},"leaves_qty":{o.leaves_qty},"updated_ts":{o.updated_ts}}},'
            f'"reason":{_ENUMS[ev.reason]}'
        )
    elif isinstance(ev, OrderAccepted):
        op = "order.accepted"
        text = f'{{"order":{render.order_data(ev).decode()}'
    elif isinstance(ev, OrderExpired):
        op = "order.expired"
        o = ev.order
        text = f'{{"order":{_who(o)},"leaves_qty":{o.leaves_qty},"updated_ts":{o.updated_ts}}}'
    elif isinstance(ev, OrderAmended):
        op = "order.amended"
        o = ev.order
        text = (
            f'{{"order":{_who(o)},"price":{render.opt_price_json(o.sym, o.price)},'
            f'"qty":{o.qty},"leaves_qty":{o.leaves_qty},"updated_ts":{o.updated_ts}}}'
        )
    elif isinstance(ev, Rejected) and ev.is_place:
        error = {"code": ev.code.value, "message": ev.message}
        payload = {"client_order_id": ev.client_order_id, "sym": ev.sym, "error": error, "gseq": seq, "gidx": index}
        return "order.rejected", _dumps(payload)
    else:
        return None
    return op, f'{text},"gseq":{seq},"gidx":{index}}}'.encode()


def fill_private(render: Renderer, f: Fill, maker: bool, seq: int, index: int) -> tuple[Written, Written]:
    """A side's `order.filled` and `account.update` of a fill's record at `index` (see `private`), written from the
    record's fields as `private` writes them from the two events (`Fill.wire`), at their places among its five."""
    sym = f.sym
    if maker:
        status = f.maker_status
        filled = _filled(
            render, sym, f.maker_order_id, f.maker_client_order_id, SELL if f.aggressor is BUY else BUY, status,
            f.maker_qty - f.maker_filled_qty, f.maker_filled_qty, f.maker_filled_cost, f.ts, f.fill_id - 1, f.price,
            f.qty, True, f.maker_fee, f.trade_id,
        )  # fmt: skip
        account = _account(
            render, sym, f.maker_cash, f.maker_fees, f.maker_position_qty, f.maker_position_cost,
            f.maker_realized_pnl,
        )  # fmt: skip
        at_filled, at_account = index + Fill.MAKER_FILLED, index + Fill.MAKER_ACCOUNT
    else:
        status = f.taker_status
        filled = _filled(
            render, sym, f.taker_order_id, f.taker_client_order_id, f.aggressor, status,
            f.taker_qty - f.taker_filled_qty, f.taker_filled_qty, f.taker_filled_cost, f.ts, f.fill_id, f.price, f.qty,
            False, f.taker_fee, f.trade_id,
        )  # fmt: skip
        account = _account(
            render, sym, f.taker_cash, f.taker_fees, f.taker_position_qty, f.taker_position_cost,
            f.taker_realized_pnl,
        )  # fmt: skip
        at_filled, at_account = index + Fill.TAKER_FILLED, index + Fill.TAKER_ACCOUNT
    op = "order.filled" if status is FILLED else "order.partially_filled"
    return (
        (op, f'{filled},"gseq":{seq},"gidx":{at_filled}}}'.encode()),
        ("account.update", f'{account},"gseq":{seq},"gidx":{at_account}}}'.encode()),
    )


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
) -> str:
    """An `order.filled` payload's text, its mapping left open for its place: the one writer of the event."""
    return (
        f'{{"order":{_who_is(order_id, client_order_id, sym, side, status)},"filled_qty":{filled_qty},'
        f'"leaves_qty":{leaves_qty},"avg_fill_price":"{render.average_fill(sym, filled_cost, filled_qty)}",'
        f'"updated_ts":{ts}}},"fill":{{"fill_id":{fill_id},"price":"{render.price(sym, price)}","qty":{qty},'
        f'"liquidity":{_MAKER if is_maker else _TAKER},"fee":"{render.cash(fee)}","trade_id":{trade_id},"ts":{ts}}}'
    )


def _account(render: Renderer, sym: str, cash: int, fees: int, qty: int, cost: int, realized_pnl: int) -> str:
    """An `account.update` payload's text, its mapping left open for its place: the one writer of the event."""
    avg = f'"{render.position_avg_price(sym, qty, cost)}"' if qty else "null"
    return (
        f'{{"cash":"{render.cash(cash)}","fees":"{render.cash(fees)}",'
        f'"position":{{"sym":{_SYMBOLS.text(sym)},"qty":{qty},"avg_price":{avg},'
        f'"realized_pnl":"{render.cash(realized_pnl)}"}}'
    )


def _who(o: OrderView) -> str:
    """What every event says of its order, its mapping left open for the event's own fields: who the order is (id,
    client id, symbol, side) and its status."""
    return _who_is(o.order_id, o.client_order_id, o.sym, o.side, o.status)


def _who_is(order_id: int, client_order_id: str | None, sym: str, side: Side, status: OrderStatus) -> str:
    enums = _ENUMS
    return (
        f'{{"order_id":{order_id},"client_order_id":{optional_string(client_order_id)},'
        f'"sym":{_SYMBOLS.text(sym)},"side":{enums[side]},"status":{enums[status]}'
    )


def restates_response(ev: object) -> bool:
    """Whether the event says only what the response to its command says (one frame per ack).

    The connection that sent the command does not get it: the response to a
    place, amend or cancel carries the whole order.
    """
    if isinstance(ev, OrderCanceled):
        return ev.reason is USER
    return isinstance(ev, (OrderAccepted, OrderAmended))
