"""client.timeline() against the real server: CMD and MD merged in the engine's order, each event once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import MarketClient, Timeline, TimelineEvent

from .conftest import eventually


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(Path(tmp_path_factory.mktemp("timeline"))) as srv:
        yield srv


async def take_until(timeline: Timeline, done: Any) -> list[TimelineEvent]:
    """Events from the timeline until `done(events)` holds (a minute at most: a loaded machine is slow)."""
    events: list[TimelineEvent] = []

    async def collect() -> None:
        async for event in timeline:
            events.append(event)
            if done(events):
                return

    await asyncio.wait_for(collect(), 60)
    return events


def has_trade_and_delta(events: list[TimelineEvent]) -> bool:
    ops = [e.op for e in events]
    return "md.trade" in ops and "md.delta" in ops[ops.index("md.trade") :]


async def test_fills_and_the_trades_they_made_come_out_in_engine_order_once(venue: ServerProcess) -> None:
    async with await MarketClient.connect(venue.url) as maker, await MarketClient.connect(venue.url) as taker:
        resting = await maker.submit_order("BOLT", "sell", "45.00", 3)
        for client in (maker, taker):  # its delta is in both books: the timelines start after it

            def ask_shown(c: MarketClient = client) -> bool:
                return bool(c.best_bid_ask("BOLT")["ask"] == "45.00")

            await eventually(ask_shown, what="the ask on MD")
        # a generous bound: on a loaded machine the other socket may be slow to speak, and order is the point here
        async with maker.timeline(lateness=1.0) as maker_line, taker.timeline(lateness=1.0) as taker_line:
            taken = await taker.place_order("BOLT", "buy", "45.00", 2, tif="IOC")
            maker_events = await take_until(maker_line, has_trade_and_delta)
            taker_events = await take_until(taker_line, has_trade_and_delta)

        command = taken["gseq"]  # the answer places the command in the engine's order
        for events in (maker_events, taker_events):
            keys = [(e.gseq, e.gidx) for e in events]
            assert keys == sorted(keys) and len(set(keys)) == len(keys)  # engine order, each once
            assert {e.gseq for e in events} == {command}  # the one command that traded
        # The maker's fill reaches CMD and the trade MD: the fill was made first, and comes first.
        maker_ops = [(e.sock, e.op) for e in maker_events]
        assert maker_ops[:3] == [("cmd", "order.partially_filled"), ("cmd", "account.update"), ("md", "md.trade")]
        assert maker_ops[3] == ("md", "md.delta")
        # The taker's order.accepted comes from its own answer (the server does not repeat it), placed first.
        taker_ops = [(e.sock, e.op) for e in taker_events]
        assert taker_ops[0] == ("cmd", "order.accepted") and taker_events[0].gidx == 0
        assert taker_ops[1:4] == [("cmd", "order.filled"), ("cmd", "account.update"), ("md", "md.trade")]
        fill = next(e for e in taker_events if e.op == "order.filled")
        trade = next(e for e in taker_events if e.op == "md.trade")
        assert fill.payload["fill"]["trade_id"] == trade.payload["trade_id"]
        # No gap: the public events are the symbol's MD stream, contiguous, and the same for both users.
        public = [(e.op, e.payload["seq"]) for e in taker_events if e.sock == "md"]
        assert public == [(e.op, e.payload["seq"]) for e in maker_events if e.sock == "md"]
        assert [seq for _, seq in public] == list(range(public[0][1], public[0][1] + len(public)))
        assert maker_line.late == taker_line.late == 0
        await resting.cancel()


async def test_a_timeline_ends_when_closed_or_when_the_client_closes(venue: ServerProcess) -> None:
    client = await MarketClient.connect(venue.url)
    line = client.timeline()
    await client.aclose()
    assert [e async for e in line] == []
