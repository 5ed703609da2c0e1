"""Order handles (`submit_order`) against the real engine: events keep them current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import MarketClient, OrderRejected

from .conftest import eventually


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(Path(tmp_path_factory.mktemp("handles"))) as srv:
        yield srv


async def test_a_handle_follows_its_fills_queue_and_end(venue: ServerProcess) -> None:
    async with await MarketClient.connect(venue.url) as maker, await MarketClient.connect(venue.url) as taker:
        first = await maker.submit_order("BOLT", "buy", "40.00", 3)
        assert first.status == "new" and first.order_id is not None and first.queue_ahead == 0
        await eventually(lambda: maker.best_bid_ask("BOLT")["bid_qty"] == 3, what="the first bid on MD")
        second = await maker.submit_order("BOLT", "buy", "40.00", 5)
        assert second.queue_ahead == 3  # the first order rests ahead of it

        await taker.place_order("BOLT", "sell", "40.00", 4, tif="IOC")  # fills all of first, 1 of second
        await first.done(timeout=5)
        assert first.status == "filled" and [f["qty"] for f in first.fills] == [3]
        await eventually(lambda: second.filled_qty == 1, what="the second order's partial fill event")
        assert second.status == "partially_filled" and second.leaves_qty == 4 and second.queue_ahead == 0

        await second.amend(qty=3)
        assert (second.qty, second.leaves_qty, second.status) == (3, 2, "partially_filled")
        await second.cancel()
        assert second.status == "canceled" and second.is_done
        assert (await second.done(timeout=1)) is second
        # The dict API is unchanged beside it.
        assert await maker.list_orders("BOLT") == []


async def test_a_refused_order_raises_and_a_market_order_ends_at_once(venue: ServerProcess) -> None:
    async with await MarketClient.connect(venue.url) as client:
        with pytest.raises(OrderRejected) as refused:
            await client.submit_order("BOLT", "buy", "40.01", 1)
        assert refused.value.code == "PRICE_NOT_ON_TICK"
        ioc = await client.submit_order("BOLT", "sell", None, 1, type="market")
        assert ioc.is_done and ioc.status == "expired" and ioc.queue_ahead is None


async def test_refresh_replaces_the_queue_estimate_with_the_servers_figure(venue: ServerProcess) -> None:
    async with await MarketClient.connect(venue.url) as other, await MarketClient.connect(venue.url) as client:
        front = await other.submit_order("BOLT", "buy", "39.00", 5)
        await eventually(lambda: client.best_bid_ask("BOLT")["bid"] == "39.00", what="the front order on MD")
        mine = await client.submit_order("BOLT", "buy", "39.00", 3)
        assert mine.queue_ahead == 5
        behind = await other.submit_order("BOLT", "buy", "39.00", 4)
        await eventually(lambda: client.best_bid_ask("BOLT")["bid_qty"] == 12, what="the order behind on MD")
        await front.cancel()
        # MD shows only the level (7 = mine 3 + behind 4): the estimate cannot tell the cancel was ahead of it
        await eventually(lambda: mine.queue_ahead == 4, what="the level shrinking on MD")
        await mine.refresh()
        assert mine.queue_ahead == 0 and "queue_ahead" not in mine.data
        await behind.cancel()
        await mine.cancel()
        assert mine.queue_ahead is None
