"""Engine events as the wire events of docs/protocol.md, for the in-process venues (backtest, FakeVenue).

Needs the `hftsim` server package; imported only by the modules that run
its engine in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hftsim.engine import (
    AccountUpdate,
    BookDelta,
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

from ._envelope import JSON

if TYPE_CHECKING:
    from hftsim.protocol.render import Renderer


def public_event(render: Renderer, ev: object) -> tuple[str, str, JSON] | None:
    """(sym, op, payload) of an MD event, or None when `ev` is not public."""
    if isinstance(ev, BookDelta):
        levels = {"bids": render.levels(ev.sym, ev.bids), "asks": render.levels(ev.sym, ev.asks)}
        return ev.sym, "md.delta", {"sym": ev.sym, "seq": ev.seq, **levels}
    if isinstance(ev, Trade):
        return ev.sym, "md.trade", render.trade(ev)
    if isinstance(ev, StatusChanged):
        return ev.sym, "md.status", {"sym": ev.sym, "seq": ev.seq, "status": ev.status.value}
    return None


def private_event(render: Renderer, ev: object) -> tuple[int, str, JSON] | None:
    """(user_id, op, payload) of a CMD event ("Private events"), or None when `ev` is not one."""
    if isinstance(ev, OrderFilled):
        op = "order.filled" if ev.order.status is OrderStatus.FILLED else "order.partially_filled"
        return ev.user_id, op, {"order": render.order(ev.order), "fill": render.fill(ev.fill)}
    if isinstance(ev, AccountUpdate):
        position = render.position(ev.position)
        keys = ("sym", "qty", "avg_price", "realized_pnl")
        return ev.user_id, "account.update", {"cash": render.cash(ev.cash), "position": {k: position[k] for k in keys}}
    if isinstance(ev, OrderAccepted):
        return ev.user_id, "order.accepted", {"order": render.order(ev.order)}
    if isinstance(ev, OrderCanceled):
        return ev.user_id, "order.canceled", {"order": render.order(ev.order), "reason": ev.reason.value}
    if isinstance(ev, OrderExpired):
        return ev.user_id, "order.expired", {"order": render.order(ev.order)}
    if isinstance(ev, OrderAmended):
        return ev.user_id, "order.amended", {"order": render.order(ev.order)}
    if isinstance(ev, Rejected) and ev.is_place and ev.user_id is not None:
        error = {"code": ev.code.value, "message": ev.message}
        return ev.user_id, "order.rejected", {"client_order_id": ev.client_order_id, "sym": ev.sym, "error": error}
    return None
