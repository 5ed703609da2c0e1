"""Engine events → wire events (docs/protocol.md): which op, what payload.

One place for it, used by the gateway's fan-out and by the SDK's
in-process venues (its backtest and FakeVenue), so every venue speaks the
same frames. A private event's order says who the order is and only the
fields the event changed; only `order.accepted` carries the whole order.

Given `at` (the command's global sequence number and the event's index
among the command's events), an event carries its place in the engine's
one order as `gseq` and `gidx`: CMD and MD are separate sockets, and only
these two numbers let a client merge them into the order things happened.
"""

from __future__ import annotations

from typing import Any, Final

from ..engine import (
    AccountUpdate,
    BookDelta,
    CancelReason,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    Rejected,
    StatusChanged,
    Trade,
)
from .render import Renderer

Wire = tuple[str, dict[str, Any]]
FILLED: Final = OrderStatus.FILLED
USER: Final = CancelReason.USER
"""Looked up once: reading a member off its enum class costs a tenth of a microsecond, on every event."""


def public(render: Renderer, ev: object, at: tuple[int, int] | None = None) -> Wire | None:
    """(op, payload) of a market-data event, or None when `ev` is not public; `at`: see the module's docstring."""
    wire = _public(render, ev)
    return wire if wire is None or at is None else _placed(wire, at)


def private(render: Renderer, ev: object, at: tuple[int, int] | None = None) -> Wire | None:
    """(op, payload) of an event for the order's owner, or None when `ev` is not one; `at` as for `public`."""
    wire = _private(render, ev)
    return wire if wire is None or at is None else _placed(wire, at)


def _placed(wire: Wire, at: tuple[int, int]) -> Wire:
    payload = wire[1]
    payload["gseq"], payload["gidx"] = at
    return wire


def _public(render: Renderer, ev: object) -> Wire | None:
    if isinstance(ev, BookDelta):
        sym = ev.sym
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


def _private(render: Renderer, ev: object) -> Wire | None:
    if isinstance(ev, OrderFilled):
        op = "order.filled" if ev.order.status is FILLED else "order.partially_filled"
        return op, {"order": render.order_filled(ev.order), "fill": render.fill_change(ev.fill)}
    if isinstance(ev, AccountUpdate):
        return "account.update", {
            "cash": render.cash(ev.cash),
            "fees": render.cash(ev.fees),
            "position": render.position_change(ev.position),
        }
    if isinstance(ev, OrderAccepted):
        return "order.accepted", {"order": render.order(ev.order)}
    if isinstance(ev, OrderCanceled):
        return "order.canceled", {"order": render.order_ended(ev.order), "reason": ev.reason._value_}
    if isinstance(ev, OrderExpired):
        return "order.expired", {"order": render.order_ended(ev.order)}
    if isinstance(ev, OrderAmended):
        return "order.amended", {"order": render.order_amended(ev.order)}
    if isinstance(ev, Rejected) and ev.is_place:
        return "order.rejected", {
            "client_order_id": ev.client_order_id,
            "sym": ev.sym,
            "error": {"code": ev.code.value, "message": ev.message},
        }
    return None


def restates_response(ev: object) -> bool:
    """Whether the event says only what the response to its command says (one frame per ack).

    The connection that sent the command does not get it: the response to a
    place, amend or cancel carries the whole order.
    """
    if isinstance(ev, OrderCanceled):
        return ev.reason is USER
    return isinstance(ev, (OrderAccepted, OrderAmended))
