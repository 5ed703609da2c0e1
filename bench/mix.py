"""The engine benchmark's command mix, and the interpreter's floor it is measured against.

The mix (seeded, so every run and every side gets the same commands):

- 60 % new GTC limit orders near the touch, never crossing (makers);
- 30 % cancels of a random live order;
- 10 % marketable orders (takers): half market orders, half IOC limits two
  ticks through the opposite touch. While the books hold more than
  `DEPTH_PER_SYMBOL` orders a taker takes about three resting orders, else
  about half of one, so the books hover around that depth however long the
  run (after a warm-up of about 4 commands per resting order).

Makers and takers are different users, so self-trade prevention never fires
and the floor (which has no accounts) ends in exactly the engine's book: the
smoke test checks that. Taker sides lean back towards the reference price so
books stay inside the price band however long the run.

`Floor` is the least work an interpreted order book can do for the same
commands: dicts and deques, price-time matching, no validation, no risk, no
accounts, no events. It is the baseline "how fast can Python go at all".
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hftsim.engine import (
    CancelOrder,
    Command,
    Engine,
    Instrument,
    Limits,
    OrderType,
    PlaceOrder,
    Side,
    Tif,
)

PASSIVE, CANCEL, MARKETABLE = 0, 1, 2
KIND_NAMES = ("new limit", "cancel", "marketable")

MAKERS = 100
TAKERS = 20
TAKER_BASE = 10_000
"""Taker user ids start here; makers are 1..MAKERS."""

DEPTH_PER_SYMBOL = 1_000
"""Resting orders per symbol the mix keeps the books near."""

LIMITS = Limits(max_order_qty=10**6, max_position=10**12)
"""Risk limits no generated order reaches: every command of the mix is accepted."""
INITIAL_CASH = 10**15


def new_engine(instruments: Sequence[Instrument]) -> Engine:
    return Engine(instruments, LIMITS, INITIAL_CASH)


# The floor --------------------------------------------------------------------


class FloorSide:
    __slots__ = ("keys", "levels", "sign")

    def __init__(self, is_bid: bool) -> None:
        self.sign = 1 if is_bid else -1
        self.keys: list[int] = []
        """sign * price, sorted: the best level is always keys[-1]."""
        self.levels: dict[int, deque[list[Any]]] = {}

    def best(self) -> int | None:
        return self.keys[-1] * self.sign if self.keys else None

    def depth(self) -> list[tuple[int, int]]:
        return [(k * self.sign, sum(o[0] for o in self.levels[k * self.sign])) for k in reversed(self.keys)]


class Floor:
    """A bare order book loop over floor ops (see `Mix.floor_ops`)."""

    def __init__(self, symbols: int) -> None:
        self.books = [(FloorSide(True), FloorSide(False)) for _ in range(symbols)]
        self.orders: dict[int, list[Any]] = {}
        """order id -> [leaves, order id, price, side]"""
        self.last_id = 0

    def run(self, ops: Sequence[tuple[Any, ...]]) -> None:
        place = self.place
        cancel = self.cancel
        for op in ops:
            if op[0] == CANCEL:
                cancel(op[1])
            else:
                place(op[1], op[2], op[3], op[4], op[5])

    def place(self, sym: int, is_buy: bool, price: int | None, qty: int, rests: bool) -> int:
        bids, asks = self.books[sym]
        opposite = asks if is_buy else bids
        orders = self.orders
        self.last_id += 1
        order_id = self.last_id
        keys = opposite.keys
        levels = opposite.levels
        sign = opposite.sign
        while qty and keys:
            best = keys[-1] * sign
            if price is not None and (best > price if is_buy else best < price):
                break
            queue = levels[best]
            while qty and queue:
                resting = queue[0]
                if resting[0] <= qty:
                    qty -= resting[0]
                    queue.popleft()
                    del orders[resting[1]]
                else:
                    resting[0] -= qty
                    qty = 0
            if not queue:
                del levels[best]
                keys.pop()
        if qty and rests:
            assert price is not None
            side = bids if is_buy else asks
            order = [qty, order_id, price, side]
            level = side.levels.get(price)
            if level is None:
                level = side.levels[price] = deque()
                insort(side.keys, side.sign * price)
            level.append(order)
            orders[order_id] = order
        return order_id

    def cancel(self, order_id: int) -> None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return
        side = order[3]
        price = order[2]
        queue = side.levels[price]
        queue.remove(order)
        if not queue:
            del side.levels[price]
            del side.keys[bisect_left(side.keys, side.sign * price)]


# The mix ----------------------------------------------------------------------


@dataclass
class Mix:
    instruments: tuple[Instrument, ...]
    commands: list[Command]
    floor_ops: list[tuple[Any, ...]]
    """(PASSIVE|MARKETABLE, sym index, is_buy, price or None, qty, rests) or (CANCEL, order id)."""
    kinds: bytes
    """PASSIVE, CANCEL or MARKETABLE per command."""
    final: Floor
    """The floor after the whole mix: the book every side must end with."""

    def __len__(self) -> int:
        return len(self.commands)

    def counts(self) -> dict[str, int]:
        return {name: self.kinds.count(kind) for kind, name in enumerate(KIND_NAMES)}


def make_mix(n: int, instruments: Sequence[Instrument], seed: int = 7) -> Mix:
    """Generate `n` commands by playing them on a floor book (which knows the touch and what is live)."""
    rng = random.Random(seed)
    instruments = tuple(instruments)
    floor = Floor(len(instruments))
    live: list[int] = []
    """Order ids that may still rest (filled ones are dropped lazily)."""
    owner: dict[int, int] = {}
    commands: list[Command] = []
    ops: list[tuple[Any, ...]] = []
    kinds = bytearray()
    target = DEPTH_PER_SYMBOL * len(instruments)
    for _ in range(n):
        k = rng.randrange(len(instruments))
        inst = instruments[k]
        bids, asks = floor.books[k]
        bid, ask = bids.best(), asks.best()
        draw = rng.random()
        if draw < 0.3:
            order_id = _pick_live(rng, live, floor)
            if order_id is not None:
                commands.append(CancelOrder(user_id=owner.pop(order_id), order_id=order_id))
                ops.append((CANCEL, order_id))
                kinds.append(CANCEL)
                floor.cancel(order_id)
                continue
        elif draw >= 0.9 and bid is not None and ask is not None:
            mid = (bid + ask) / 2
            half_band = inst.ref_price * float(inst.band_pct) / 200
            lean = max(-0.4, min(0.4, (mid - inst.ref_price) / half_band))
            is_buy = rng.random() < 0.5 - lean
            qty = inst.lot * (rng.randint(5, 30) if len(floor.orders) > target else rng.randint(1, 4))
            user = TAKER_BASE + rng.randrange(TAKERS)
            if rng.random() < 0.5:
                price: int | None = None
                command = PlaceOrder(
                    user,
                    inst.sym,
                    Side.BUY if is_buy else Side.SELL,
                    qty,
                    None,
                    OrderType.MARKET,
                )
            else:
                price = ask + 2 if is_buy else max(inst.band_low, bid - 2)
                price = min(price, inst.band_high)
                command = PlaceOrder(
                    user,
                    inst.sym,
                    Side.BUY if is_buy else Side.SELL,
                    qty,
                    price,
                    tif=Tif.IOC,
                )
            commands.append(command)
            ops.append((MARKETABLE, k, is_buy, price, qty, False))
            kinds.append(MARKETABLE)
            floor.place(k, is_buy, price, qty, False)
            continue
        # A new limit order near the touch that does not cross.
        is_buy = rng.random() < 0.5
        away = min(int(rng.expovariate(0.35)), 40)
        if is_buy:
            base = bid if bid is not None else (ask - 1 if ask is not None else inst.ref_price)
            price = base + 1 - away
            if ask is not None:
                price = min(price, ask - 1)
        else:
            base = ask if ask is not None else (bid + 1 if bid is not None else inst.ref_price + 1)
            price = base - 1 + away
            if bid is not None:
                price = max(price, bid + 1)
        price = max(inst.band_low, min(inst.band_high, price))
        qty = max(inst.min_qty, inst.lot * rng.randint(1, 10))
        user = 1 + rng.randrange(MAKERS)
        commands.append(PlaceOrder(user, inst.sym, Side.BUY if is_buy else Side.SELL, qty, price))
        ops.append((PASSIVE, k, is_buy, price, qty, True))
        kinds.append(PASSIVE)
        order_id = floor.place(k, is_buy, price, qty, True)
        live.append(order_id)
        owner[order_id] = user
    return Mix(instruments, commands, ops, bytes(kinds), floor)


def _pick_live(rng: random.Random, live: list[int], floor: Floor) -> int | None:
    """A random order id that is still on the floor's book, or None; forgets filled ones."""
    while live:
        i = rng.randrange(len(live))
        order_id = live[i]
        live[i] = live[-1]
        live.pop()
        if order_id in floor.orders:
            return order_id
    return None


def floor_levels(floor: Floor, k: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bids, asks = floor.books[k]
    return bids.depth(), asks.depth()
