"""The CMD event ring buffer and the hooks that see each event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from market_client import MarketClient

from .conftest import eventually


async def place_some(client: MarketClient, count: int) -> None:
    for n in range(count):
        await client.place_order("ACME", "buy", f"90.{n:02d}", 1)


async def test_every_cmd_event_is_recorded_with_its_envelope(client: MarketClient) -> None:
    await place_some(client, 3)
    events = client.get_transactions()
    assert [e["op"] for e in events] == ["order.accepted"] * 3
    assert all(e["type"] == "event" and e["ver"] == 1 and isinstance(e["ts"], int) for e in events)
    assert [e["payload"]["order"]["price"] for e in events] == ["90.00", "90.01", "90.02"]
    assert client.get_transactions(limit=1) == events[-1:]
    client.clear_transactions()
    assert client.get_transactions() == []


async def test_capacity_keeps_the_newest_when_shrinking(client: MarketClient) -> None:
    await place_some(client, 6)
    client.configure_transactions(capacity=4)
    assert [e["payload"]["order"]["price"] for e in client.get_transactions()] == ["90.02", "90.03", "90.04", "90.05"]
    await place_some(client, 2)
    assert [e["payload"]["order"]["price"] for e in client.get_transactions()] == ["90.04", "90.05", "90.00", "90.01"]
    client.configure_transactions(capacity=10)
    assert len(client.get_transactions()) == 4
    with pytest.raises(ValueError):
        client.configure_transactions(capacity=0)


async def test_default_capacity_is_1000(client: MarketClient) -> None:
    orders = [client.place_order("ACME", "buy", "90.00", 1) for _ in range(1005)]
    await asyncio.gather(*orders)
    events = client.get_transactions()
    assert len(events) == 1000
    assert events[-1]["payload"]["order"]["order_id"] == 1005


async def test_sync_and_async_hooks_and_failing_ones_do_not_stop_the_stream(
    client: MarketClient, caplog: pytest.LogCaptureFixture
) -> None:
    sync_seen: list[str] = []
    async_seen: list[int] = []

    def sync_hook(event: dict[str, Any]) -> None:
        sync_seen.append(event["op"])
        if len(sync_seen) == 1:
            raise RuntimeError("first sync hook call fails")

    async def async_hook(event: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        async_seen.append(event["payload"]["order"]["order_id"])
        if len(async_seen) == 2:
            raise RuntimeError("second async hook call fails")
        await client.send("ping")  # a hook may itself use the client

    client.set_event_hook(sync_hook)
    await place_some(client, 2)
    client.set_event_hook(async_hook)
    await place_some(client, 3)
    await eventually(lambda: len(async_seen) == 3, what="the async hook")
    client.set_event_hook(None)
    await place_some(client, 1)
    assert sync_seen == ["order.accepted", "order.accepted"]
    assert async_seen == [3, 4, 5]
    assert len(client.get_transactions()) == 6
    assert "first sync hook call fails" in caplog.text and "second async hook call fails" in caplog.text
    assert client.state == "connected"


async def test_on_cmd_event_from_connect(server: Any) -> None:
    seen: list[str] = []

    async def on_cmd(event: dict[str, Any]) -> None:
        seen.append(event["op"])
        raise ValueError("callbacks may fail")

    async with await MarketClient.connect(server.url, on_cmd_event=on_cmd) as client:
        await client.place_order("ACME", "buy", "90", 1)
        await client.cancel_all()
        await eventually(lambda: seen == ["order.accepted", "order.canceled"], what="on_cmd_event")
