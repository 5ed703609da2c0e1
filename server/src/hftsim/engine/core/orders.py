"""Mutable orders inside the engine, and the registry that numbers them.

Events carry `OrderView` snapshots; inside, an order is a small mutable
object that the book, the matcher and the account index all point at, so a
fill or a cancel touches it in one place. It keeps references to its account,
position and book, so the matching loop never looks a user up and a cancel
or an amend never looks its book up.
"""

from __future__ import annotations

from typing import Final

from ..commands import OrderType, Side, Tif
from ..status import CancelReason, OrderStatus
from .accounts import Account, Position
from .book import Book
from .events import OrderAccepted, OrderCanceled, OrderView

SPARE_ORDERS: Final = 64
"""Forgotten orders the registry keeps for reuse (see Registry.new_order)."""
PAGE_BITS: Final = 8
PAGE_SIZE: Final = 1 << PAGE_BITS
"""Order ids per page of the registry's index (see Registry): a live order keeps its page (2 KiB) alive."""
PAGE_MASK: Final = PAGE_SIZE - 1
SHED_PAGES: Final = 64
"""Dropped pages that may lead the registry's list of pages before it sheds them (and at least half of it)."""

BUY: Final = Side.BUY
NEW: Final = OrderStatus.NEW
PARTIAL: Final = OrderStatus.PARTIALLY_FILLED


class Order:
    """A live order, or a finished one its owner's memory still holds."""

    __slots__ = (
        "account",
        "book",
        "client_order_id",
        "created_ts",
        "filled",
        "filled_cost",
        "is_buy",
        "newer",
        "next",
        "older",
        "order_id",
        "position",
        "post_only",
        "prev",
        "price",
        "qty",
        "side",
        "status",
        "sym",
        "tif",
        "type",
        "updated_ts",
        "user_id",
    )

    def start(
        self,
        order_id: int,
        client_order_id: str | None,
        book: Book,
        side: Side,
        order_type: OrderType,
        price: int | None,
        qty: int,
        tif: Tif,
        post_only: bool,
        ts: int,
        account: Account,
        position: Position,
    ) -> OrderAccepted:
        """Set every field of a new order (see `Registry.new_order`), or of one loaded from a snapshot; return the
        new order's OrderAccepted, its first snapshot (a loaded order's caller drops it).

        The only place the fields are listed: an order is made empty (`Order()`) and started. The event is
        built from the arguments, not read back from the fields just set: compiled, each field read checks
        that the attribute is set and takes a reference, for 15 fields on every new order.
        """
        user_id = account.user_id
        sym = book.sym
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = user_id
        self.sym = sym
        self.book = book
        """The order's book: a cancel or an amend finds it here, not by the symbol in the engine's dict."""
        self.side = side
        self.is_buy = side is BUY
        self.type = order_type
        self.price = price
        self.qty = qty
        self.filled = 0
        self.filled_cost = 0
        self.tif = tif
        self.post_only = post_only
        self.status = NEW
        self.created_ts = ts
        self.updated_ts = ts
        self.account = account
        self.position = position
        self.prev: Order | None = None
        self.next: Order | None = None
        """Neighbours in the price level's queue while the order rests (see book.Level)."""
        self.older: Order | None = None
        self.newer: Order | None = None
        """Neighbours in the account's chain of live orders (see accounts.Account)."""
        return OrderAccepted(
            order_id, client_order_id, user_id, sym, side, order_type, price, qty, 0, 0, tif, post_only, NEW, ts, ts
        )

    def view(self) -> OrderView:
        return OrderView(
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.sym,
            self.side,
            self.type,
            self.price,
            self.qty,
            self.filled,
            self.filled_cost,
            self.tif,
            self.post_only,
            self.status,
            self.created_ts,
            self.updated_ts,
        )

    def canceled(self, reason: CancelReason) -> OrderCanceled:
        """The order's OrderCanceled, its snapshot as the cancel left it (the status already CANCELED)."""
        return OrderCanceled(
            self.order_id, self.client_order_id, self.user_id, self.sym, self.side, self.type, self.price, self.qty,
            self.filled, self.filled_cost, self.tif, self.post_only, self.status, self.created_ts, self.updated_ts,
        ).with_reason(reason)  # fmt: skip

    def key(self) -> tuple[object, ...]:
        """Every field that makes up the order's state, as plain values (see `Engine.state`)."""
        return (
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.sym,
            self.side.value,
            self.type.value,
            self.price,
            self.qty,
            self.filled,
            self.filled_cost,
            self.tif.value,
            self.post_only,
            self.status.value,
            self.created_ts,
            self.updated_ts,
        )


def is_live(order: Order) -> bool:
    """Whether the order still rests or may still trade (new or partially filled), as opposed to finished."""
    status = order.status
    return status is NEW or status is PARTIAL


class Page:
    """The slots of `PAGE_SIZE` consecutive order ids, and how many of them hold an order."""

    __slots__ = ("count", "slots")

    def __init__(self) -> None:
        self.slots: list[Order | None] = [None] * PAGE_SIZE
        self.count = 0


class Registry:
    """Every live order and a bounded memory of finished ones, in one index by id, and the id counters.

    Order, fill and trade ids are global and increase by one; only accepted
    orders take an id, so a rejection leaves the numbering untouched.
    A finished order stays findable until it falls out of its owner's
    most recent finished orders (`Account.finished`); a client order id is
    remembered for its owner's last `coid_memory` orders (see COID_MEMORY).

    One index rather than a live one and a finished one: an order that
    finishes stays where it is, so finishing costs no move between two
    indexes, only the removal of the order it pushes out of its owner's
    memory (`is_live` tells the two kinds apart).

    The index is paged by id, not a dict by id: ids are dense and new ones
    come last, so a page of `PAGE_SIZE` slots fills in order, and a list
    of pages by page number finds one with two list reads and no Python int
    made or compared. A page is dropped once every order in it is forgotten,
    and the list sheds its leading dropped pages from time to time. A dict
    of the tens of thousands of remembered orders was rebuilt (about six
    million instructions, every entry rewritten) each time its deleted
    entries filled it, and each lookup boxed the id and reached into it out
    of cache.
    """

    __slots__ = ("base", "coid_memory", "first", "last_fill_id", "last_order_id", "last_trade_id", "pages", "spare")

    def __init__(self, coid_memory: int) -> None:
        self.pages: list[Page | None] = []
        """The pages from number `base` on (page number: order id // PAGE_SIZE); None for a dropped one."""
        self.base = 0
        self.first = 0
        """Index in `pages` of the first page not dropped (`len(pages)` when none is left)."""
        self.coid_memory = coid_memory
        self.last_order_id = 0
        self.last_fill_id = 0
        self.last_trade_id = 0
        self.spare: list[Order] = []
        """Orders forgotten by `finish`, for `new_order` to reuse: nothing else refers to them any more."""

    def new_order(self) -> Order:
        """An order object for the next new order, for the caller to `start` (with `next_order_id()`) and `add`.

        It reuses an order object that `finish` forgot when there is one: a
        forgotten order is long out of the cache, so freeing it and
        allocating another costs two trips to memory where reusing it costs one.
        """
        spare = self.spare
        return spare.pop() if spare else Order()

    def next_order_id(self) -> int:
        self.last_order_id += 1
        return self.last_order_id

    def index(self, order: Order) -> None:
        """Make `order` findable by its id (`add` for a new order; a restored snapshot for each of its orders)."""
        order_id = order.order_id
        pages = self.pages
        if not pages:
            self.base = order_id >> PAGE_BITS
            self.first = 0
        at = (order_id >> PAGE_BITS) - self.base
        if at < 0:  # an id below the first page (only a snapshot's orders can come in any order)
            pages[0:0] = [None] * -at
            self.base += at
            self.first -= at
            at = 0
        while at >= len(pages):
            pages.append(None)
        page = pages[at]
        if page is None:
            page = pages[at] = Page()
            self.first = min(self.first, at)
        page.slots[order_id & PAGE_MASK] = order
        page.count += 1

    def add(self, order: Order) -> None:
        self.index(order)
        account = order.account
        account.link(order)
        coid = order.client_order_id
        if coid is not None:
            account.by_coid[coid] = order
            coids = account.coids
            if coid not in coids:
                account.coid_order.append(coid)
            coids[coid] = order.order_id  # boxed here, for the orders that have a client order id only
            if len(coids) > self.coid_memory:
                del coids[account.coid_order.popleft()]

    def finish(self, order: Order) -> None:
        """Take an order whose status is already final off its account's live orders; it joins the recent ones."""
        account = order.account
        account.unlink(order)
        if order.client_order_id is not None:
            del account.by_coid[order.client_order_id]
        forgotten = account.finished.push(order)
        if forgotten is not None:
            self._forget(forgotten.order_id)
            if len(self.spare) < SPARE_ORDERS:
                self.spare.append(forgotten)

    def _forget(self, order_id: int) -> None:
        """Take an indexed order out of the index; drop its page if it was the page's last."""
        pages = self.pages
        at = (order_id >> PAGE_BITS) - self.base
        page = pages[at]
        assert page is not None
        page.slots[order_id & PAGE_MASK] = None
        page.count -= 1
        if page.count:
            return
        pages[at] = None
        first = self.first
        if at == first:
            while first < len(pages) and pages[first] is None:
                first += 1
            if first >= SHED_PAGES and 2 * first >= len(pages):  # shed the dropped pages in front, amortized
                del pages[:first]
                self.base += first
                first = 0
            self.first = first

    def live(self, order_id: int) -> Order | None:
        """The live order with this id, or None."""
        order = self.get(order_id)
        return order if order is not None and is_live(order) else None

    def get(self, order_id: int) -> Order | None:
        at = (order_id >> PAGE_BITS) - self.base
        if at < 0 or at >= len(self.pages):
            return None
        page = self.pages[at]
        return page.slots[order_id & PAGE_MASK] if page is not None else None

    def all(self) -> list[Order]:
        """Every order the index holds, by id."""
        return [order for page in self.pages if page is not None for order in page.slots if order is not None]
