"""5. Client book maintenance: md.delta events applied by market_client's local books, no sockets.

The deltas are real: the engine's `BookDelta`s for the command mix of
bench/mix.py, rendered to the wire as the gateway does (`Renderer`), each
wrapped as the `Event` market_client's session would hand over. Sides,
alternated and repeated:

- **market_client**: `MarketState.on_event` per delta (sequence check, then
  `OrderBook.update`, which keys levels by `Decimal`);
- **market_client from frames**: the same plus `parse` of the JSON frame;
- **floor**: a bare loop updating `dict[str, int]` per side, no sequence check;
- **nautilus**: L2 books (`OrderBook.apply_delta`), from the wire strings
  (`Price.from_str`, building each `OrderBookDelta`) and prebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import time
from typing import Any

import orjson
from hftsim.config import load
from hftsim.engine import BookDelta
from hftsim.protocol.render import Renderer
from market_client._envelope import Event, parse
from market_client._market import MarketState

from . import peers
from .common import Scale, alternate, median, row
from .engine import TS
from .mix import make_mix, new_engine

NAME = "client_book"


def wire_deltas(n_commands: int) -> list[dict[str, Any]]:
    """md.delta payloads, in order, from running the mix on a fresh engine.

    Trades share the symbol's seq on the wire; they are left out here, so the
    deltas are renumbered to stay contiguous.
    """
    instruments = load().instruments()
    mix = make_mix(n_commands, instruments)
    engine = new_engine(instruments)
    render = Renderer(engine)
    out = []
    seqs = {inst.sym: 0 for inst in instruments}
    for command in mix.commands:
        for ev in engine.apply(command, TS).events:
            if type(ev) is BookDelta:
                seqs[ev.sym] += 1
                out.append({"sym": ev.sym, "seq": seqs[ev.sym], "bids": render.levels(ev.sym, ev.bids),
                            "asks": render.levels(ev.sym, ev.asks)})  # fmt: skip
    return out


def fresh_state(syms: list[str]) -> MarketState:
    state = MarketState()
    for sym in syms:
        state.on_snapshot({"sym": sym, "seq": 0, "status": "trading", "bids": [], "asks": []})
    return state


def market_client_seconds(events: list[Event], syms: list[str]) -> float:
    state = fresh_state(syms)
    on_event = state.on_event
    gc.collect()
    t0 = time.perf_counter()
    for event in events:
        on_event(event)
    return time.perf_counter() - t0


def from_frames_seconds(frames: list[bytes], syms: list[str]) -> float:
    state = fresh_state(syms)
    on_event = state.on_event
    gc.collect()
    t0 = time.perf_counter()
    for data in frames:
        message = parse(data)
        assert isinstance(message, Event)
        on_event(message)
    return time.perf_counter() - t0


def floor_seconds(payloads: list[dict[str, Any]], syms: list[str]) -> float:
    books: dict[str, tuple[dict[str, int], dict[str, int]]] = {s: ({}, {}) for s in syms}
    gc.collect()
    t0 = time.perf_counter()
    for p in payloads:
        bids, asks = books[p["sym"]]
        for price, qty in p["bids"]:
            if qty:
                bids[price] = qty
            else:
                bids.pop(price, None)
        for price, qty in p["asks"]:
            if qty:
                asks[price] = qty
            else:
                asks.pop(price, None)
    return time.perf_counter() - t0


def check(events: list[Event], payloads: list[dict[str, Any]], syms: list[str]) -> bool:
    """market_client's books end as the floor's: same levels, same quantities, no resync asked."""
    state = fresh_state(syms)
    for event in events:
        assert not state.on_event(event)
    books: dict[str, tuple[dict[str, int], dict[str, int]]] = {s: ({}, {}) for s in syms}
    for p in payloads:
        for side, levels in zip(books[p["sym"]], (p["bids"], p["asks"]), strict=True):
            for price, qty in levels:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
    for sym in syms:
        book = state.book(sym)
        assert book is not None
        if {p: q for p, q in book.bids()} != books[sym][0] or {p: q for p, q in book.asks()} != books[sym][1]:
            return False
    return True


def run(scale: Scale) -> dict[str, Any]:
    payloads = wire_deltas(scale.pick(300_000, 100_000, 3_000))
    syms = sorted({p["sym"] for p in payloads})
    events = [Event(op="md.delta", payload=p, ts=TS) for p in payloads]
    frames = [orjson.dumps({"type": "event", "ver": 1, "msg_id": f"s{i}", "ts": TS, "op": "md.delta", "payload": p})
              for i, p in enumerate(payloads)]  # fmt: skip
    n = len(payloads)
    levels = sum(len(p["bids"]) + len(p["asks"]) for p in payloads)
    sides: dict[str, Any] = {
        "market_client": lambda: market_client_seconds(events, syms),
        "market_client from frames": lambda: from_frames_seconds(frames, syms),
        "floor": lambda: floor_seconds(payloads, syms),
    }
    naut = peers.nautilus()
    handover = (
        peers.handover([(p["sym"], p["bids"], p["asks"]) for p in payloads]) if naut else contextlib.nullcontext("")
    )
    with handover as path:
        if naut is not None:
            sides["nautilus"] = lambda: naut.call("l2", path)
        runs = alternate(sides, scale.reps)
    rates: dict[str, float] = {}
    for side, rs in runs.items():
        if side == "nautilus":
            rates["nautilus from strings"] = median(n / r["from_wire_seconds"] for r in rs)
            rates["nautilus prebuilt"] = median(n / r["prebuilt_seconds"] for r in rs)
        else:
            rates[side] = median(n / s for s in rs)
    ours = rates["market_client"]
    rows = [
        row(NAME, "deltas/s applied (MarketState)", ours, "deltas/s", "floor (dict[str, int] per side)",
            rates["floor"]),
        row(NAME, "deltas/s incl. JSON parse", rates["market_client from frames"], "deltas/s",
            "floor (dict[str, int] per side)", rates["floor"]),
    ]  # fmt: skip
    if naut is not None:
        rows += [
            row(
                NAME,
                "deltas/s applied (MarketState)",
                ours,
                "deltas/s",
                "nautilus L2, from wire strings",
                rates["nautilus from strings"],
            ),
            row(
                NAME,
                "deltas/s applied (MarketState)",
                ours,
                "deltas/s",
                "nautilus L2, prebuilt deltas",
                rates["nautilus prebuilt"],
            ),
        ]
    return {
        "deltas": n,
        "levels_per_delta": levels / n,
        "books_match_floor": check(events, payloads, syms),
        "rate_deltas_per_s": rates,
        "rows": rows,
    }
