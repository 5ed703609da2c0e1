"""Runs inside the peers venv (see bench/peers.py): nautilus_trader's order book as a baseline.

Not part of the `bench` package and never imported by it: it runs under
another interpreter, imports only the standard library and nautilus_trader,
and talks through argv, pickled inputs and one JSON line on stdout.

    python _nautilus_worker.py version
    python _nautilus_worker.py l3 OPS.pickle [latency]   # apply book changes to L3 (per-order) books
    python _nautilus_worker.py l2 DELTAS.pickle          # apply wire deltas to L2 (per-level) books
    python _nautilus_worker.py mem_l3 N                  # RSS delta of N resting orders
    python _nautilus_worker.py mem_l2 SYMS LEVELS        # RSS delta of SYMS books x LEVELS levels per side
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
import time


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def percentiles(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {f"p{p:g}": ordered[min(n - 1, max(0, int(p / 100 * n + 0.5) - 1))] / 1000 for p in (50, 90, 99, 99.9)}


def version() -> dict[str, object]:
    import nautilus_trader

    return {"version": nautilus_trader.__version__}


def l3(path: str, latency: bool) -> dict[str, object]:
    """Apply ("a"|"u"|"d", sym, is_buy, price_ticks, qty, order_id) changes to one L3 book per symbol."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    with open(path, "rb") as f:
        changes, syms = pickle.load(f)
    books = [OrderBook(InstrumentId.from_str(f"{s}.SIM"), BookType.L3_MBO) for s in range(syms)]
    ops = []
    for action, sym, is_buy, price, qty, order_id in changes:
        book = books[sym]
        method = book.add if action == "a" else book.update if action == "u" else book.delete
        ops.append(
            (
                method,
                BookOrder(
                    OrderSide.BUY if is_buy else OrderSide.SELL,
                    Price.from_int(price),
                    Quantity.from_int(qty),
                    order_id,
                ),
            )
        )
    gc.collect()
    if latency:
        clock = time.perf_counter_ns
        samples: list[int] = []
        append = samples.append
        for method, order in ops:
            t0 = clock()
            method(order, 0)
            append(clock() - t0)
        return {"ops": len(ops), "latency_us": percentiles(samples)}
    start = time.perf_counter()
    for method, order in ops:
        method(order, 0)
    seconds = time.perf_counter() - start
    return {
        "ops": len(ops),
        "seconds": seconds,
        "best": [str(b.best_bid_price()) for b in books],
    }


def l2(path: str) -> dict[str, object]:
    """Apply wire deltas (sym, [[price, qty]...] bids, asks) to L2 books, from the strings and prebuilt."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder, OrderBookDelta
    from nautilus_trader.model.enums import BookAction, BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    with open(path, "rb") as f:
        deltas = pickle.load(f)
    syms = sorted({d[0] for d in deltas})
    ids = {s: InstrumentId.from_str(f"{s}.SIM") for s in syms}
    update, delete = BookAction.UPDATE, BookAction.DELETE
    buy, sell = OrderSide.BUY, OrderSide.SELL

    def convert(sym: str, levels: list[list[object]], side: OrderSide) -> list[OrderBookDelta]:
        iid = ids[sym]
        return [
            OrderBookDelta(
                iid,
                update if qty else delete,
                BookOrder(side, Price.from_str(price), Quantity.from_int(qty), 0),
                0,
                0,
                0,
                0,
            )
            for price, qty in levels
        ]

    def from_wire() -> float:
        books = {s: OrderBook(ids[s], BookType.L2_MBP) for s in syms}
        t0 = time.perf_counter()
        for sym, bids, asks in deltas:
            book = books[sym]
            for d in convert(sym, bids, buy):
                book.apply_delta(d)
            for d in convert(sym, asks, sell):
                book.apply_delta(d)
        return time.perf_counter() - t0

    def prebuilt() -> float:
        books = {s: OrderBook(ids[s], BookType.L2_MBP) for s in syms}
        built = [(books[sym], convert(sym, bids, buy) + convert(sym, asks, sell)) for sym, bids, asks in deltas]
        gc.collect()
        t0 = time.perf_counter()
        for book, ds in built:
            for d in ds:
                book.apply_delta(d)
        return time.perf_counter() - t0

    return {
        "deltas": len(deltas),
        "from_wire_seconds": from_wire(),
        "prebuilt_seconds": prebuilt(),
    }


def mem_l3(n: int) -> dict[str, object]:
    """RSS growth for n resting orders spread over 2,000 prices on 5 books (the engine's memory test)."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    books = [OrderBook(InstrumentId.from_str(f"S{s}.SIM"), BookType.L3_MBO) for s in range(5)]
    gc.collect()
    before = rss()
    for i in range(n):
        is_buy = i % 2 == 0
        price = 100_000 - 1 - (i // 10) % 1000 if is_buy else 100_000 + (i // 10) % 1000
        order = BookOrder(
            OrderSide.BUY if is_buy else OrderSide.SELL,
            Price.from_int(price),
            Quantity.from_int(1 + i % 10),
            i + 1,
        )
        books[i % 5].add(order, 0)
    gc.collect()
    return {"orders": n, "rss_delta": rss() - before}


def mem_l2(syms: int, levels: int) -> dict[str, object]:
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.data import BookOrder, OrderBookDelta
    from nautilus_trader.model.enums import BookAction, BookType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    gc.collect()
    before = rss()
    books = []
    for s in range(syms):
        iid = InstrumentId.from_str(f"S{s}.SIM")
        book = OrderBook(iid, BookType.L2_MBP)
        for i in range(levels):
            for side, price in (
                (OrderSide.BUY, f"{99.99 - i * 0.01:.2f}"),
                (OrderSide.SELL, f"{100.00 + i * 0.01:.2f}"),
            ):
                order = BookOrder(side, Price.from_str(price), Quantity.from_int(1 + i % 50), 0)
                book.apply_delta(OrderBookDelta(iid, BookAction.UPDATE, order, 0, 0, 0, 0))
        books.append(book)
    gc.collect()
    return {"books": syms, "levels_per_side": levels, "rss_delta": rss() - before}


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "version":
        out = version()
    elif command == "l3":
        out = l3(argv[1], len(argv) > 2 and argv[2] == "latency")
    elif command == "l2":
        out = l2(argv[1])
    elif command == "mem_l3":
        out = mem_l3(int(argv[1]))
    elif command == "mem_l2":
        out = mem_l2(int(argv[1]), int(argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
