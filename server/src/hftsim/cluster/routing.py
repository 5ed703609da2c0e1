"""Which shard's stream a command goes to, and one answer for a command that went to several.

A command about a symbol goes to the shard that owns it, one about an order
to the shard that numbered it (its id says which) or that holds its client
order id. Two commands concern every shard: cancel-all without a symbol
(each shard cancels the user's orders it holds) and opening an account
(each shard opens the user's account with its share of the cash). Their
parts are appended separately and answered together once all are applied.
A command nobody owns (an unknown symbol or order) goes to the first shard,
which refuses it as a single engine would.
"""

from __future__ import annotations

from ..engine import AmendOrder, CancelAll, CancelOrder, Command, OpenAccount, PlaceOrder, Result, SetSymbolStatus
from .layout import shard_of_id
from .market import ShardedMarket


def route(command: Command, market: ShardedMarket) -> list[tuple[int, Command]]:
    """(shard index, command) for each stream the command is appended to."""
    layout, count = market.layout, len(market.engines)
    if isinstance(command, (PlaceOrder, SetSymbolStatus)):
        return [(layout.owner(command.sym) or 0, command)]
    if isinstance(command, (CancelOrder, AmendOrder)):
        if command.order_id is not None:
            index = shard_of_id(command.order_id)
            return [(index if 0 <= index < count else 0, command)]
        if command.client_order_id is not None:
            return [(market.shard_of_coid(command.user_id, command.client_order_id) or 0, command)]
        return [(0, command)]
    if isinstance(command, CancelAll) and command.sym is not None:
        return [(layout.owner(command.sym) or 0, command)]
    if isinstance(command, OpenAccount):
        return [(i, OpenAccount(command.user_id, layout.share(command.cash, i))) for i in range(count)]
    return [(i, command) for i in range(count)]


def combine(results: list[Result]) -> Result:
    """One answer for the parts of a command sent to every shard: their events and cancels together.

    Every part is the same command on the same user, so they are refused
    alike (a bad user id, bad cash): the first refusal speaks for all.
    """
    if len(results) == 1:
        return results[0]
    rejection = next((r.rejection for r in results if r.rejection is not None), None)
    events = [ev for r in results for ev in r.events]
    canceled = [order_id for r in results for order_id in r.canceled]
    return Result(results[-1].seq, events, None, rejection, canceled)
