"""The collector kept off the order path (gateway/heap.py), through the real server and in-process.

The server freezes what survives each settle, and never collects a cycle
among frozen objects: a socket that left its objects in a cycle when it
closed would stay in memory for good. So sockets are kept open past a
settle, then closed, round after round, and the frozen heap must not grow
by their object graphs (about 55 objects per socket before the cycles were
broken).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from hftsim.config import load
from hftsim.engine import Engine, Limits, PlaceOrder, Side
from hftsim.gateway.heap import NO_FULL_COLLECTION, YOUNG_THRESHOLD, HeapPolicy
from hftsim.testing import ServerProcess

from .conftest import Wire, handshake, open_wire

ROUNDS = 36
"""Enough rounds that a one-off growth (seen up to ~85 objects once in a run on a loaded machine) stays well under
the bound of 5 a round, while a socket that kept its graph (about 55 objects a round) is far over it."""
ORDER = {"sym": "ACME", "side": "buy", "type": "limit", "price": "95.00", "qty": 1}


async def after_a_settle(probe: Wire) -> dict[str, Any]:
    """The heap figures once a settle has run since this call: everything alive now is frozen."""
    first = await probe.ok("test.loop_lag")
    async with asyncio.timeout(30):
        while True:
            figures = await probe.ok("test.loop_lag", {"frozen": True})
            if figures["settles"] >= first["settles"] + 2:
                return figures
            await asyncio.sleep(0.02)


async def a_round(server: ServerProcess, token: str, probe: Wire) -> None:
    """A CMD socket that trades and an MD socket that subscribes, both frozen, then closed."""
    cmd = await open_wire(server.url, "/ws/cmd", token)
    await cmd.ok("order.place", ORDER)
    await cmd.ok("order.cancel_all")
    assert (await cmd.request("order.place", {**ORDER, "price": "-1"}))["ok"] is False
    md = await open_wire(server.url, "/ws/md", token)
    await md.ok("md.subscribe", {"syms": ["ACME"]})
    await after_a_settle(probe)
    await cmd.ws.close()
    await md.ws.close()


async def test_sockets_closed_after_a_settle_leave_no_cycle_in_the_frozen_heap(server: ServerProcess) -> None:
    token = handshake(server.url)["token"]
    probe = await open_wire(server.url, "/ws/cmd", token)
    await probe.ok("auth.login", {"guest": True})
    for _ in range(3):  # the first rounds fill what the venue keeps for good (its memory of recent orders)
        await a_round(server, token, probe)
    before = (await after_a_settle(probe))["frozen_objects"]
    for _ in range(ROUNDS):
        await a_round(server, token, probe)
    after = (await after_a_settle(probe))["frozen_objects"]
    assert after - before < 5 * ROUNDS, f"the frozen heap grew by {after - before} objects in {ROUNDS} rounds"
    await probe.ws.close()


async def test_the_policy_freezes_survivors_and_gives_the_collector_back() -> None:
    saved = gc.get_threshold()
    heap = HeapPolicy()
    heap.start()
    try:
        assert gc.get_threshold()[2] == NO_FULL_COLLECTION, "no full collection starts by itself"
        frozen = gc.get_freeze_count()
        kept = [[i] for i in range(1000)]
        heap.settle()
        assert gc.get_freeze_count() >= frozen + len(kept)
        gc.collect(0)
        _, longest_cpu_s, collections = heap.take()
        assert longest_cpu_s > 0.0, "each collection's CPU time is timed"
        assert collections >= 2 and heap.longest_pause_s == heap.longest_pause_cpu_s == 0.0, (
            "take() hands over the figures and starts a new window"
        )
    finally:
        heap.stop()
        gc.unfreeze()
    assert gc.get_threshold() == saved


def unfrozen() -> int:
    """Tracked objects not frozen: what the next collection would walk."""
    return sum(len(gc.get_objects(generation)) for generation in range(3))


async def test_a_growing_book_is_frozen_as_it_grows_so_no_collection_walks_it() -> None:
    instruments = load().instruments()
    acme = next(i for i in instruments if i.sym == "ACME")
    engine = Engine(instruments, Limits(max_order_qty=1000, max_position=10**6), initial_cash=10**12)
    heap = HeapPolicy()
    heap.start()
    try:
        frozen = gc.get_freeze_count()
        orders = 20 * YOUNG_THRESHOLD
        for i in range(orders):  # no await: no settle runs meanwhile, only the collections CPython starts
            place = PlaceOrder(1 + i % 50, "ACME", Side.BUY, acme.lot, acme.ref_price - 1 - i % 500)
            assert engine.apply(place, 1).rejection is None
        assert unfrozen() < 2 * YOUNG_THRESHOLD, "a collection would walk the orders placed before the last one"
        assert gc.get_freeze_count() >= frozen + orders - 2 * YOUNG_THRESHOLD, "the resting orders were frozen"
    finally:
        heap.stop()
        gc.unfreeze()
