"""Accounts: a user's cash, positions and index of orders.

Money is integer cash units throughout. A position keeps its cost basis
(cash paid for the open quantity, negative when short) so that realized PnL
on average cost needs no division until a partial close, and a close to
flat releases the cost exactly: `cash + sum(cost) - sum(realized)` stays
equal to the opening cash, which the property tests check.

Money is real: `reserved` is the cash committed to the user's resting buy
orders (limit price x leaves, plus the most their fills could cost in fees),
and a buy is accepted only if it fits in `cash - reserved`, so no sequence
of fills takes cash below zero. Fees come out of cash as each fill settles;
`fees` adds them up: `cash + sum(cost) - sum(realized) + fees` stays equal to
the opening cash.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Final

from .events import PositionView

if TYPE_CHECKING:
    from .orders import Order

COID_MEMORY: Final = 20_000
"""Client order ids remembered per user after their orders finish. A bound, because simulated agents
place orders all day and every order would otherwise stay in memory; a resend comes within seconds,
and the SDK's own ids never repeat, so the last 20,000 orders cover every real case."""


DENSE_IDS: Final = 1 << 16
"""User ids below this are found by a list read (`Accounts.get`): a venue's user ids count up from 1, so the list
is as long as the largest id in use (8 bytes a user, 512 KiB at most); larger ids are found in the dict alone."""


class Position:
    """One user's holding in one symbol, plus the open quantity resting on each side.

    `open_buy` / `open_sell` are the leaves of the user's resting orders: the
    position limit counts them as if they all filled.
    """

    __slots__ = ("cost", "open_buy", "open_sell", "qty", "realized", "sym", "user_id")

    def __init__(self, user_id: int, sym: str) -> None:
        self.user_id = user_id
        self.sym = sym
        self.qty = 0
        self.cost = 0
        self.realized = 0
        self.open_buy = 0
        self.open_sell = 0

    def view(self) -> PositionView:
        return PositionView(self.user_id, self.sym, self.qty, self.cost, self.realized)


class Recent:
    """A user's most recent finished orders, at most `limit`: a ring over a list, oldest first when read.

    Not a `deque(maxlen=...)`: compiled, each deque operation is a generic
    call into the interpreter, while this ring's are list reads and writes
    at machine-integer indexes.
    """

    __slots__ = ("items", "limit", "start")

    def __init__(self, limit: int) -> None:
        self.items: list[Order] = []
        self.limit = limit
        self.start = 0
        """Index of the oldest order once the ring is full."""

    def push(self, order: Order) -> Order | None:
        """Remember `order` as the newest; return the oldest one it pushes out when the ring is full, else None."""
        items = self.items
        if len(items) < self.limit:
            items.append(order)
            return None
        start = self.start
        forgotten = items[start]
        items[start] = order
        start += 1
        self.start = 0 if start == self.limit else start
        return forgotten

    def oldest_first(self) -> list[Order]:
        start = self.start
        return self.items[start:] + self.items[:start]


class Account:
    """Everything the engine knows about one user.

    The live orders form a chain in creation order, `oldest` to `newest`
    through each order's `older`/`newer` (`live_orders()` reads it, so
    "oldest first" is free): linking and unlinking an order writes two
    neighbours, where a dict by id churned and was rebuilt every few dozen
    orders. `finished` holds the most recent finished ones, bounded so memory
    does not grow with the user's history. `coids` maps the client order ids
    of the user's last COID_MEMORY accepted orders to their order ids: a
    client order id names one order, so a resend after a fill or cancel is
    refused instead of trading twice. `coid_order` holds the same ids oldest
    first, to forget the oldest: deleting a dict's first key over and over
    leaves deleted slots at its front that the next `next(iter(coids))` walks
    past again (until the dict is resized), so once the memory was full every
    order with a client order id cost a walk over thousands of slots.
    """

    __slots__ = (
        "by_coid", "cash", "coid_order", "coids", "fees", "finished", "live", "newest", "oldest", "opening_cash",
        "positions", "reserved", "user_id",
    )  # fmt: skip

    def __init__(self, user_id: int, cash: int, recent_limit: int, books: int) -> None:
        self.user_id = user_id
        self.cash = cash
        self.opening_cash = cash
        """What the account opened with: PnL is measured from it."""
        self.reserved = 0
        self.fees = 0
        """Fees paid so far, in cash units (rebates count negative); already taken from `cash`."""
        self.coids: dict[str, int] = {}
        self.coid_order: deque[str] = deque()
        self.positions: list[Position | None] = [None] * books
        """The position in each symbol by its book's number (`Book.number`), None before the first order there: a
        list read where a dict by symbol was a lookup per new order."""
        self.oldest: Order | None = None
        self.newest: Order | None = None
        self.live = 0
        """How many live orders the chain holds."""
        self.by_coid: dict[str, Order] = {}
        self.finished = Recent(recent_limit)

    def live_orders(self) -> list[Order]:
        """The live orders, oldest first."""
        orders: list[Order] = []
        order = self.oldest
        while order is not None:
            orders.append(order)
            order = order.newer
        return orders

    def link(self, order: Order) -> None:
        """Add a new live order as the newest."""
        newest = self.newest
        order.older = newest
        order.newer = None
        if newest is None:
            self.oldest = order
        else:
            newest.newer = order
        self.newest = order
        self.live += 1

    def unlink(self, order: Order) -> None:
        """Take a finished order out of the chain; it keeps no reference to its former neighbours."""
        older, newer = order.older, order.newer
        if older is None:
            self.oldest = newer
        else:
            older.newer = newer
        if newer is None:
            self.newest = older
        else:
            newer.older = older
        order.older = order.newer = None
        self.live -= 1

    def available(self) -> int:
        """Cash not yet committed to resting buy orders: what a new buy may spend."""
        return self.cash - self.reserved

    def position(self, number: int, sym: str) -> Position:
        """The position in `sym`, whose book is number `number`, created flat on first use."""
        pos = self.positions[number]
        if pos is None:
            pos = self.positions[number] = Position(self.user_id, sym)
        return pos

    def held(self) -> list[Position]:
        """The positions opened so far, in instrument order."""
        return [p for p in self.positions if p is not None]


class Accounts:
    """Every account, by user id: `by_user` holds them all, `dense` those of the ids below `DENSE_IDS` again.

    A new order, an amend by client order id and a transfer look their account up by the command's user id.
    Compiled, that id is a machine integer, which a dict lookup turns into a new Python int (every id above
    256) to hash and compare through the dict's lookup: about 200 instructions on every new order. A list
    indexed by id finds the account with a bounds check and one read. Queries, `state()` and snapshots read
    `by_user`.
    """

    __slots__ = ("by_user", "dense")

    def __init__(self) -> None:
        self.by_user: dict[int, Account] = {}
        self.dense: list[Account | None] = []
        """The account of each id from 0 on (None where there is none), as long as the largest such id + 1."""

    def get(self, user_id: int) -> Account | None:
        dense = self.dense
        if 0 <= user_id < len(dense):
            return dense[user_id]
        if 0 <= user_id < DENSE_IDS:  # beyond the largest id in `dense`: no account yet
            return None
        return self.by_user.get(user_id)

    def add(self, account: Account) -> None:
        """Hold a new account (its user has none yet)."""
        user_id = account.user_id
        self.by_user[user_id] = account
        if 0 <= user_id < DENSE_IDS:
            dense = self.dense
            if user_id >= len(dense):
                dense.extend([None] * (user_id + 1 - len(dense)))
            dense[user_id] = account
