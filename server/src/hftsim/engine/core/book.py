"""One symbol's order book: price levels with FIFO queues, and its market-data state.

Layout, chosen for the hot paths (rest near the touch, cancel anywhere,
match at the best price):

- a side keeps `levels`, a dict price -> `Level`, and `keys`, the sorted list
  of `sign * price` (sign +1 for bids, -1 for asks), so on both sides the
  best level is `keys[-1]`: removing it is a `pop()` and inserting near the
  touch moves few elements;
- a level keeps its orders in an intrusive doubly linked list through the
  orders' `prev` / `next` slots: O(1) append at the back, O(1) take at the
  front and O(1) cancel from anywhere. (An insertion-ordered dict looks like
  the same thing but is not: CPython leaves deleted slots in place, so
  finding the head after many fills from the front scans them all.)

The book holds no balances: accounts and risk live elsewhere. It does record,
per command, the total each touched level had before the command, so the
engine can publish one net `BookDelta` at the end.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any

from ..commands import SymbolStatus
from ..instruments import Instrument
from .events import BookDelta

if TYPE_CHECKING:
    from .orders import Order


class Level:
    __slots__ = ("head", "tail", "total")

    def __init__(self) -> None:
        self.total = 0
        """Sum of the leaves of the orders queued here."""
        self.head: Order | None = None
        self.tail: Order | None = None

    def append(self, order: Order) -> None:
        tail = self.tail
        order.prev = tail
        order.next = None
        if tail is None:
            self.head = order
        else:
            tail.next = order
        self.tail = order

    def unlink(self, order: Order) -> None:
        prev = order.prev
        nxt = order.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
        order.prev = order.next = None

    def ahead_of(self, order: Order) -> int:
        """The quantity queued in front of `order` (the leaves of the orders before it): its queue position."""
        ahead = 0
        other = self.head
        while other is not None and other is not order:
            ahead += other.qty - other.filled
            other = other.next
        return ahead

    def orders(self) -> list[Order]:
        """The queue, front first."""
        queue = []
        order = self.head
        while order is not None:
            queue.append(order)
            order = order.next
        return queue


class BookSide:
    __slots__ = ("is_bid", "keys", "levels", "touched")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.keys: list[int] = []
        self.levels: dict[int, Level] = {}
        self.touched: dict[int, int] = {}
        """price -> level total before the current command (0 for a new level)."""

    def key(self, price: int) -> int:
        """`sign * price` without the multiplication: compiled, a product with a negative operand leaves the
        machine-integer fast path and goes through Python ints."""
        return price if self.is_bid else -price

    def best(self) -> int | None:
        keys = self.keys
        if not keys:
            return None
        return keys[-1] if self.is_bid else -keys[-1]

    def add(self, order: Order) -> None:
        """Queue the order's leaves at the back of its price level."""
        price = order.price
        assert price is not None
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = Level()
            insort(self.keys, self.key(price))
            if price not in self.touched:
                self.touched[price] = 0
        elif price not in self.touched:
            self.touched[price] = level.total
        level.append(order)
        level.total += order.qty - order.filled

    def remove(self, order: Order, leaves: int) -> None:
        """Take the order out of its queue; `leaves` is what it had resting."""
        price = order.price
        assert price is not None
        level = self.levels[price]
        if price not in self.touched:
            self.touched[price] = level.total
        level.unlink(order)
        level.total -= leaves
        if level.head is None:
            self.drop(price)

    def shrink(self, order: Order, qty: int) -> None:
        """Lower the order's resting quantity by `qty` without moving it in the queue."""
        price = order.price
        assert price is not None
        level = self.levels[price]
        if price not in self.touched:
            self.touched[price] = level.total
        level.total -= qty

    def drop(self, price: int) -> None:
        """Remove an emptied level."""
        del self.levels[price]
        keys = self.keys
        del keys[bisect_left(keys, self.key(price))]

    def depth(self, depth: int | None) -> list[tuple[int, int]]:
        """(price, total) best first, at most `depth` levels (all when None)."""
        keys = self.keys
        levels = self.levels
        is_bid = self.is_bid
        stop = 0 if depth is None else max(0, len(keys) - depth)
        prices = [keys[i] if is_bid else -keys[i] for i in range(len(keys) - 1, stop - 1, -1)]
        return [(price, levels[price].total) for price in prices]

    def take_changes(self) -> tuple[tuple[int, int], ...]:
        """The levels whose total changed since the command began, best first; resets the record."""
        touched = self.touched
        levels = self.levels
        changes = []
        for price, before in touched.items():
            level = levels.get(price)
            now = level.total if level is not None else 0
            if now != before:
                changes.append((price, now))
        touched.clear()
        changes.sort(reverse=self.is_bid)
        return tuple(changes)


class Book:
    """A symbol's two sides plus its status, market-data sequence and last trade price.

    Band limits, the cash value of a tick and the fee rates (see
    settlement.fee) are computed once here so the hot path never touches
    Decimal.
    """

    __slots__ = (
        "asks",
        "band_high",
        "band_low",
        "bids",
        "fee_free",
        "instrument",
        "last_price",
        "lot",
        "maker_lot_fee",
        "maker_ppm",
        "md_seq",
        "min_qty",
        "status",
        "sym",
        "taker_lot_fee",
        "taker_ppm",
        "tick_value",
    )

    def __init__(self, instrument: Instrument, tick_value: int, decimals: int) -> None:
        self.instrument = instrument
        self.sym = instrument.sym
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.status: SymbolStatus = SymbolStatus.TRADING
        self.md_seq = 0
        self.last_price: int | None = None
        self.band_low = instrument.band_low
        self.band_high = instrument.band_high
        self.lot = instrument.lot
        self.min_qty = instrument.min_qty
        self.tick_value = tick_value
        fees = instrument.fees
        self.maker_ppm = fees.ppm(True)
        self.taker_ppm = fees.ppm(False)
        self.maker_lot_fee = fees.per_lot_units(True, decimals)
        self.taker_lot_fee = fees.per_lot_units(False, decimals)
        self.fee_free = not (self.maker_ppm or self.taker_ppm or self.maker_lot_fee or self.taker_lot_fee)
        """No fill here costs a fee: `settlement.most_fee` is 0 without computing it."""

    def side(self, is_buy: bool) -> BookSide:
        return self.bids if is_buy else self.asks

    def crosses(self, is_buy: bool, price: int | None) -> bool:
        """Would an order on this side at this price (None = market) meet the opposite best?"""
        opposite = self.asks if is_buy else self.bids
        keys = opposite.keys
        if not keys:
            return False
        return price is None or keys[-1] >= opposite.key(price)

    def add_alone(self, order: Order) -> BookDelta:
        """Queue a new order's leaves when that is the command's only book change; return its delta.

        The fast path of a passive order: one level changes, so the delta is
        that level's new total and the `touched` record is not needed (it is
        empty, as between any two commands).
        """
        price = order.price
        assert price is not None
        boxed: Any = order.price
        """The price as the order holds it, one Python int, for the level index and the delta: compiled, `price`
        is a machine integer, which would become a new Python int at each of those uses."""
        is_buy = order.is_buy
        side = self.bids if is_buy else self.asks
        level = side.levels.get(boxed)
        if level is None:
            level = side.levels[boxed] = Level()
            insort(side.keys, side.key(price))
        level.append(order)
        level.total = total = level.total + order.qty - order.filled
        self.md_seq = md_seq = self.md_seq + 1
        change = ((boxed, total),)
        return BookDelta(self.sym, md_seq, change, ()) if is_buy else BookDelta(self.sym, md_seq, (), change)

    def remove_alone(self, order: Order, leaves: int) -> BookDelta:
        """Take a resting order off when that is the command's only book change; return its delta.

        The fast path of a cancel, like `add_alone`; `leaves` is what the order had resting.
        """
        price = order.price
        assert price is not None
        boxed: Any = order.price  # as in `add_alone`
        is_buy = order.is_buy
        side = self.bids if is_buy else self.asks
        level = side.levels[boxed]
        level.unlink(order)
        level.total = total = level.total - leaves
        if level.head is None:
            side.drop(price)
        self.md_seq = md_seq = self.md_seq + 1
        change = ((boxed, total),)
        return BookDelta(self.sym, md_seq, change, ()) if is_buy else BookDelta(self.sym, md_seq, (), change)

    def take_delta(self) -> BookDelta | None:
        """The net level changes of the current command as one delta with the next md seq, or None."""
        bids = self.bids.take_changes() if self.bids.touched else ()
        asks = self.asks.take_changes() if self.asks.touched else ()
        if not bids and not asks:
            return None
        self.md_seq += 1
        return BookDelta(self.sym, self.md_seq, bids, asks)
