"""What an order's answer leaves in the client (scripted server): one event, read at once or later alike."""

from __future__ import annotations

import asyncio
from typing import Any

from market_client import MarketClient

from .scripted import ScriptedServer, Watch

JSON = dict[str, Any]


async def started(**kwargs: Any) -> tuple[MarketClient, ScriptedServer]:
    server = ScriptedServer(Watch())
    client = MarketClient("http://scripted", connect_md=False, liveness_timeout=None, pace=False, **kwargs)
    client._keeper.dialer = server
    await client._start()
    return client, server


async def test_the_accepted_event_is_the_same_whether_a_handler_reads_it_at_once_or_the_buffer_later() -> None:
    handed: list[JSON] = []
    unread, _ = await started()
    read, _ = await started(on_cmd_event=handed.append)
    try:
        for client in (unread, read):
            await client.place_order("ACME", "buy", "99.00", 1, client_order_id="a")
            await client.place_order("ACME", "sell", "101.00", 2, client_order_id="b")
        kept = unread.get_transactions()
        assert [(e["op"], e["payload"]["order"]["client_order_id"]) for e in kept] == [
            ("order.accepted", "a"),
            ("order.accepted", "b"),
        ]
        assert kept == read.get_transactions() == handed
        assert unread.get_transactions(limit=1) == kept[-1:]
        unread.configure_transactions(1)
        assert unread.get_transactions() == kept[-1:]
    finally:
        await unread.aclose()
        await read.aclose()


async def test_an_order_request_says_only_what_differs_from_the_protocols_defaults() -> None:
    client, server = await started()
    try:
        await client.place_order("ACME", "buy", "99.00", 1, client_order_id="a")
        await client.place_order("ACME", "buy", None, 1, "IOC", type="market", client_order_id="b")
        plain, market = (request["payload"] for request in server.sent("cmd", "order.place"))
        assert plain == {"sym": "ACME", "side": "buy", "qty": 1, "price": "99.00", "client_order_id": "a"}
        assert market == {"sym": "ACME", "side": "buy", "qty": 1, "client_order_id": "b", "type": "market",
                          "tif": "IOC", "post_only": False}  # fmt: skip
    finally:
        await client.aclose()


async def test_a_queue_estimate_is_right_when_market_data_shows_the_order_before_its_answer() -> None:
    watch = Watch()
    server = ScriptedServer(watch)  # ACME's snapshot: 5 bid at 99.00
    client = MarketClient("http://scripted", on_md_event=watch.notify, liveness_timeout=None, pace=False)
    client._keeper.dialer = server
    await client._start()
    try:
        server.held["order.place"] = {}
        placing = asyncio.create_task(client.submit_order("ACME", "buy", "99.00", 3))
        await server.watch.until(lambda: bool(server.held["order.place"]))
        request = server.held.pop("order.place")
        server.live("md").event("md.delta", {**server.delta("ACME", 1, [["99.00", 8]]), "gseq": 40, "gidx": 1})
        await server.watch.until(lambda: client.best_bid_ask("ACME")["bid_qty"] == 8)
        order = {**request["payload"], "order_id": 1, "status": "new", "filled_qty": 0, "leaves_qty": 3}
        server.live("cmd").respond(request, {"order": order, "gseq": 40})  # MD overtook the answer
        mine = await placing
        assert mine.queue_ahead == 5
        server.held["order.place"] = {}
        placing = asyncio.create_task(client.submit_order("ACME", "buy", "99.00", 2))
        await server.watch.until(lambda: bool(server.held["order.place"]))
        request = server.held.pop("order.place")
        order = {**request["payload"], "order_id": 2, "status": "new", "filled_qty": 0, "leaves_qty": 2}
        server.live("cmd").respond(request, {"order": order, "gseq": 41})  # the answer first: the book shows 8
        behind = await placing
        assert behind.queue_ahead == 8
    finally:
        await client.aclose()
