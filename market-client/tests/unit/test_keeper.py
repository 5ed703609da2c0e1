"""SessionKeeper over a scripted server: every reconnect, renewal and resync path, without sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from market_client import MarketClient
from market_client._envelope import Event
from market_client._keeper import SessionKeeper
from market_client._market import MarketState
from market_client._recovery import State

from .scripted import ScriptedServer, Watch, frames


class Harness:
    """A keeper wired to a scripted server, recording the states and MD events it reports."""

    def __init__(self, *, reconnect_delay: tuple[float, float] = (0.001, 0.004)) -> None:
        self.watch = Watch()
        self.server = ScriptedServer(self.watch)
        self.market = MarketState()
        self.states: list[State] = []
        self.md_events: list[Event] = []
        self.resynced: list[str] = []
        self.keeper = SessionKeeper(
            "http://scripted",
            self.market,
            username="ann",
            password="pw",
            connect_md=True,
            request_timeout=5.0,
            connect_timeout=5.0,
            reconnect_delay=reconnect_delay,
            liveness_timeout=None,
            on_cmd_event=self.watch.notify,
            on_md_event=self._md_event,
            on_state=self._state,
            on_resynced=self._resynced,
        )
        self.keeper.dialer = self.server

    def _md_event(self, event: Event) -> None:
        self.md_events.append(event)
        self.watch.notify()

    def _state(self, state: State) -> None:
        self.states.append(state)
        self.watch.notify()

    def _resynced(self, sym: str) -> None:
        self.resynced.append(sym)
        self.watch.notify()

    async def reconnected(self, after: int) -> None:
        """Wait until the keeper went through a reconnect after `after` states and is connected again."""
        await self.watch.until(lambda: "reconnecting" in self.states[after:] and self.states[-1] == "connected")


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    await h.keeper.start()
    yield h
    await h.keeper.aclose()


async def test_connect_handshakes_opens_cmd_logs_in_then_subscribes_md(harness: Harness) -> None:
    server = harness.server
    assert server.handshakes == [{}]
    assert [c.name for c in server.opened] == ["cmd", "md"] and {c.token for c in server.opened} == {"t1"}
    assert frames(server.live("cmd")) == ["auth.login"] and frames(server.live("md")) == ["md.subscribe"]
    assert harness.states == ["connecting", "connected"]
    assert harness.market.is_synced("ACME") and harness.keeper.user is not None


async def test_a_gap_in_md_resyncs_that_symbol_from_a_snapshot(harness: Harness) -> None:
    server, market = harness.server, harness.market
    md = server.live("md")
    server.seq["ACME"] = 3  # events 1 and 2 were lost; 3 arrives
    md.event("md.delta", server.delta("ACME", 3, [["98.00", 1]]))
    await harness.watch.until(lambda: harness.resynced == ["ACME"])
    assert server.sent("md", "md.snapshot") and market.resyncs == {"ACME": 1}
    book = market.book("ACME")
    assert book is not None and book.seq == 3 and market.is_synced("ACME")
    md.event("md.delta", server.delta("ACME", 4, [["98.00", 2]]))
    await harness.watch.until(lambda: book.seq == 4)
    assert book.bids() == [["99.00", 5], ["98.00", 2]]


async def test_a_heartbeat_ahead_of_the_book_is_a_gap_too(harness: Harness) -> None:
    server = harness.server
    server.seq["ACME"] = 2
    server.live("md").event("md.heartbeat", {"ts": 1, "seqs": {"ACME": 2}})
    await harness.watch.until(lambda: harness.resynced == ["ACME"])
    book = harness.market.book("ACME")
    assert book is not None and book.seq == 2


async def test_deltas_that_overtake_the_snapshot_are_held_then_applied() -> None:
    h = Harness()
    h.server.seq["ACME"] = 4
    h.server.before_snapshot = [
        ("md.delta", h.server.delta("ACME", 4, [["99.00", 5]])),  # already in the snapshot: ignored
        ("md.delta", h.server.delta("ACME", 5, [["97.00", 3]])),  # after it: applied once it came
    ]
    await h.keeper.start()
    try:
        book = h.market.book("ACME")
        assert book is not None and book.seq == 5 and book.bids() == [["99.00", 5], ["97.00", 3]]
        assert h.market.resyncs == {} and not h.server.sent("md", "md.snapshot")
    finally:
        await h.keeper.aclose()


async def test_a_dropped_cmd_comes_back_with_a_renewed_token_and_md_is_handed_it(harness: Harness) -> None:
    server = harness.server
    old_md = server.live("md")
    after = len(harness.states)
    server.live("cmd").drop(1006, "connection lost")
    await harness.reconnected(after)
    assert server.handshakes == [{}, {"token": "t1"}]
    assert frames(server.live("cmd")) == ["auth.whoami"]  # the session still knows the user: no login
    assert server.live("md") is old_md and old_md.sent[-1]["payload"] == {"token": "t2"}
    assert harness.keeper.token == "t2"
    assert harness.states[after:] == ["reconnecting", "resyncing", "connected"]


async def test_a_session_that_lost_its_user_logs_in_again(harness: Harness) -> None:
    server = harness.server
    server.user_known = False
    after = len(harness.states)
    server.live("cmd").drop(1006)
    await harness.reconnected(after)
    assert frames(server.live("cmd")) == ["auth.whoami", "auth.login"]


async def test_a_token_close_starts_a_new_session_and_reopens_both_sockets(harness: Harness) -> None:
    server = harness.server
    first_cmd = server.live("cmd")
    after = len(harness.states)
    server.live("md").drop(4001, "token expired")
    await harness.reconnected(after)
    assert server.handshakes == [{}, {}]  # a new session, not a renewal of the refused token
    assert server.live("cmd") is not first_cmd and server.live("cmd").token == "t2"
    assert server.live("md").token == "t2" and frames(server.live("md")) == ["md.subscribe"]
    assert harness.market.is_synced("ACME")


async def test_a_refused_renewal_falls_back_to_a_new_session(harness: Harness) -> None:
    server = harness.server
    server.refuse_renewal = True  # a restarted server forgot the token
    after = len(harness.states)
    server.live("cmd").drop(1012, "restart")
    await harness.reconnected(after)
    assert server.handshakes == [{}, {"token": "t1"}, {}]
    assert server.live("cmd").token == "t2"


async def test_reconnects_back_off_until_the_server_takes_them_again(harness: Harness) -> None:
    server = harness.server
    server.failing_opens = 3
    opens_before = len(server.opened)
    after = len(harness.states)
    server.live("cmd").drop(1006)
    await harness.reconnected(after)
    assert server.failing_opens == 0 and len(server.opened) == opens_before + 1
    assert len(server.handshakes) == 1 + 4  # each attempt renews the token anew
    assert harness.keeper.recovery.attempt == 0


async def test_a_token_is_renewed_before_it_expires_on_cmd_then_md() -> None:
    h = Harness()
    h.server.expires_in_ms = 150  # renewal due after 100 ms
    await h.keeper.start()
    try:
        await h.watch.until(lambda: len(h.server.sent("md", "md.renew")) >= 1)
        renewed = h.server.sent("cmd", "auth.renew")
        assert renewed and h.server.sent("md", "md.renew")[0]["payload"] == {"token": "t2"}
        assert h.server.handshakes == [{}]  # over CMD, not a new handshake
        assert h.states == ["connecting", "connected"]
    finally:
        await h.keeper.aclose()


async def test_an_order_in_flight_when_cmd_drops_is_sent_again_once_with_the_same_ids() -> None:
    watch = Watch()
    server = ScriptedServer(watch)
    client = MarketClient("http://scripted", reconnect_delay=(0.001, 0.004), liveness_timeout=None, pace=False)
    client._keeper.dialer = server
    await client._start()
    try:
        server.held["order.place"] = {}
        placing = asyncio.create_task(client.place_order("ACME", "buy", "99.00", 1))
        await watch.until(lambda: bool(server.held["order.place"]))
        lost = server.held.pop("order.place")
        server.live("cmd").drop(1006)  # the request reached nobody that answers
        answer = await placing
        [again] = server.sent("cmd", "order.place")[1:]
        assert (again["msg_id"], again["payload"]) == (lost["msg_id"], lost["payload"])
        assert answer["order"]["client_order_id"] == lost["payload"]["client_order_id"]
        assert server.sent("cmd", "orders.list")  # it looked before sending again
        assert len(server.orders) == 1
    finally:
        await client.aclose()


async def test_an_order_that_ran_before_cmd_dropped_is_found_not_sent_again() -> None:
    watch = Watch()
    server = ScriptedServer(watch)
    client = MarketClient("http://scripted", reconnect_delay=(0.001, 0.004), liveness_timeout=None, pace=False)
    client._keeper.dialer = server
    await client._start()
    try:
        server.held["order.place"] = {}
        placing = asyncio.create_task(client.place_order("ACME", "buy", "99.00", 1))
        await watch.until(lambda: bool(server.held["order.place"]))
        lost = server.held.pop("order.place")
        server.orders.append({**lost["payload"], "order_id": 1, "status": "new", "filled_qty": 0})  # it ran
        server.live("cmd").drop(1006)
        answer = await placing
        assert answer["order"]["order_id"] == 1 and len(server.sent("cmd", "order.place")) == 1
    finally:
        await client.aclose()
