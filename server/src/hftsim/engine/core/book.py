"""One symbol's order book: price levels with FIFO queues, and its market-data state.

Layout, chosen for the hot paths (rest near the touch, cancel anywhere,
match at the best price):

- a side finds a price's `Level` in its ladder, a list indexed by
  `price - low` that spans the price band (see `LADDER_SLOTS`): an order's
  price is a new int each time, and a dict keyed by price compared it with
  its key through the generic comparison on every lookup, where a list
  index is a subtraction and a bounds check;
- a side keeps `keys`, the sorted list of the `sign * price` of its levels
  (sign +1 for bids, -1 for asks), so on both sides the best level is
  `keys[-1]`: removing it is a `pop()` and inserting near the touch moves
  few elements;
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
from typing import TYPE_CHECKING, Final

from ..commands import SymbolStatus
from ..instruments import Instrument
from .events import BookDelta, level_delta

if TYPE_CHECKING:
    from .orders import Order

LADDER_SLOTS: Final = 1 << 14
"""The most prices a side's ladder spans (16,384 slots, 128 KiB on a 64-bit build): a band at most this many
ticks wide is spanned whole (the default 25% band around 10,000 ticks is 5,001); a wider one around its
reference price, its far prices kept in a dict (`BookSide.far`). Bounds a book's memory whatever the band."""


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
    __slots__ = ("far", "is_bid", "keys", "ladder", "low", "size", "touched")

    def __init__(self, is_bid: bool, low: int, size: int) -> None:
        self.is_bid = is_bid
        self.keys: list[int] = []
        self.ladder: list[Level | None] = [None] * size
        """The level at each price from `low` on, None where none rests."""
        self.low = low
        self.size = size
        self.far: dict[int, Level] = {}
        """The levels at prices outside the ladder (only a band wider than `LADDER_SLOTS` has such prices)."""
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

    def level(self, price: int) -> Level | None:
        """The level at `price`, or None when no order rests there."""
        at = price - self.low
        if 0 <= at < self.size:
            return self.ladder[at]
        return self.far.get(price)

    def at(self, price: int) -> Level:
        """The level at `price`, where an order rests."""
        level = self.level(price)
        assert level is not None
        return level

    def open(self, price: int) -> Level:
        """A new, empty level at `price`, where none is."""
        level = Level()
        at = price - self.low
        if 0 <= at < self.size:
            self.ladder[at] = level
        else:
            self.far[price] = level
        insort(self.keys, self.key(price))
        return level

    def add(self, order: Order) -> None:
        """Queue the order's leaves at the back of its price level."""
        price = order.price
        assert price is not None
        level = self.level(price)
        if level is None:
            level = self.open(price)
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
        level = self.at(price)
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
        level = self.at(price)
        if price not in self.touched:
            self.touched[price] = level.total
        level.total -= qty

    def drop(self, price: int) -> None:
        """Remove an emptied level."""
        self.clear(price)
        keys = self.keys
        del keys[bisect_left(keys, self.key(price))]

    def drop_best(self, price: int) -> None:
        """Remove the emptied best level, at `price`."""
        self.clear(price)
        self.keys.pop()

    def clear(self, price: int) -> None:
        """Forget the level at `price` (the caller takes its key out of `keys`)."""
        at = price - self.low
        if 0 <= at < self.size:
            self.ladder[at] = None
        else:
            del self.far[price]

    def depth(self, depth: int | None) -> list[tuple[int, int]]:
        """(price, total) best first, at most `depth` levels (all when None)."""
        return [(price, level.total) for price, level in self.levels(depth)]

    def levels(self, depth: int | None) -> list[tuple[int, Level]]:
        """(price, level) best first, at most `depth` levels (all when None)."""
        keys = self.keys
        is_bid = self.is_bid
        stop = 0 if depth is None else max(0, len(keys) - depth)
        prices = [keys[i] if is_bid else -keys[i] for i in range(len(keys) - 1, stop - 1, -1)]
        return [(price, self.at(price)) for price in prices]

    def take_changes(self) -> tuple[tuple[int, int], ...]:
        """The levels whose total changed since the command began, best first; resets the record."""
        touched = self.touched
        changes = []
        for price, before in touched.items():
            level = self.level(price)
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
        "last",
        "lot",
        "maker_lot_fee",
        "maker_ppm",
        "md_seq",
        "min_qty",
        "number",
        "status",
        "sym",
        "taker_lot_fee",
        "taker_ppm",
        "tick_value",
    )

    def __init__(self, instrument: Instrument, number: int, tick_value: int, decimals: int) -> None:
        self.instrument = instrument
        self.number = number
        """The instrument's place among the engine's: where an account keeps its position here (`Account.positions`)."""
        self.sym = instrument.sym
        low = instrument.band_low
        size = instrument.band_high - low + 1
        if size > LADDER_SLOTS:
            low = max(low, instrument.ref_price - LADDER_SLOTS // 2)
            size = LADDER_SLOTS
        self.bids = BookSide(True, low, size)
        self.asks = BookSide(False, low, size)
        self.status: SymbolStatus = SymbolStatus.TRADING
        self.md_seq = 0
        self.last = 0
        """The last trade's price, 0 before the first (a price is positive): a machine integer that a fill sets
        without making a Python int of it, where `int | None` made one on every fill."""
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
        """No fill here costs a fee: `settlement.most_fee` is 0 and a fill's fees are 0 without computing them."""

    @property
    def last_price(self) -> int | None:
        """The last trade's price, None before the first."""
        return self.last if self.last else None

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
        is_buy = order.is_buy
        side = self.bids if is_buy else self.asks
        level = side.level(price)
        if level is None:
            level = side.open(price)
        level.append(order)
        level.total = total = level.total + order.qty - order.filled
        self.md_seq = md_seq = self.md_seq + 1
        return level_delta(self.sym, md_seq, is_buy, price, total)

    def remove_alone(self, order: Order, leaves: int) -> BookDelta:
        """Take a resting order off when that is the command's only book change; return its delta.

        The fast path of a cancel, like `add_alone`; `leaves` is what the order had resting.
        """
        price = order.price
        assert price is not None
        is_buy = order.is_buy
        side = self.bids if is_buy else self.asks
        level = side.at(price)
        level.unlink(order)
        level.total = total = level.total - leaves
        if level.head is None:
            side.drop(price)
        self.md_seq = md_seq = self.md_seq + 1
        return level_delta(self.sym, md_seq, is_buy, price, total)

    def take_delta(self) -> BookDelta | None:
        """The net level changes of the current command as one delta with the next md seq, or None."""
        touched_bids = self.bids.touched
        touched_asks = self.asks.touched
        if len(touched_bids) + len(touched_asks) == 1:  # one level touched (most matches): a flat delta
            side = self.bids if touched_bids else self.asks
            price, before = side.touched.popitem()
            level = side.level(price)
            now = level.total if level is not None else 0
            if now == before:
                return None
            self.md_seq = md_seq = self.md_seq + 1
            return level_delta(self.sym, md_seq, side.is_bid, price, now)
        bids = self.bids.take_changes() if self.bids.touched else ()
        asks = self.asks.take_changes() if self.asks.touched else ()
        if not bids and not asks:
            return None
        self.md_seq += 1
        return BookDelta(self.sym, self.md_seq, bids, asks)
