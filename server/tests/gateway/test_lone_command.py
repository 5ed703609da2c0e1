"""A lone command goes from its hand-over to its answer on the socket within the call: no pass of the loop between.

The sequencer, the journal, the outbox and the socket are the real ones (a
socket pair stands in for the client's connection); a listener answers each
applied command by pushing a frame to the outbox, as the fan-out and a
socket's waiter do in the pass that applies it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from picows import WSTransport

from hftsim.config import load
from hftsim.engine import Engine, PlaceOrder, Result, Side
from hftsim.gateway.outbox import Outbox, PassFlush, text_frame
from hftsim.gateway.sequencer import Promise, Sequencer
from hftsim.store.segments import SegmentJournal


async def test_a_lone_command_is_answered_on_its_socket_before_send_returns(tmp_path: Path) -> None:
    settings = load()
    engine = Engine(settings.instruments(), settings.engine_limits(), initial_cash=10**12)
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    flush = PassFlush()
    journal = SegmentJournal(tmp_path)
    sequencer = Sequencer(engine, journal, outgoing=flush)
    ws = WSTransport(False, transport, logging.getLogger(__name__), loop)  # type: ignore[call-arg]  # stubs: no args
    outbox = Outbox(ws, 100, 10.0, flush)
    sequencer.subscribe(lambda result, origin: outbox.push(b"%d" % result.seq))

    def send(user: int, price: int, last: bool) -> asyncio.Future[Result]:
        future: asyncio.Future[Result] = loop.create_future()
        sequencer.send(PlaceOrder(user, "ACME", Side.BUY, 1, price), user, Promise(future), last)
        return future

    try:
        lone = send(1, 9000, True)
        assert lone.done() and [r.seq for r in journal.records(0)] == [1]
        assert theirs.recv(64) == text_frame(b"1"), "the answer must be on the socket when send returns"

        second = send(1, 9001, False)  # more of the read follows
        third = send(2, 9002, True)  # others wait: it joins them
        assert engine.seq == 1 and not second.done() and not third.done()
        await third
        assert theirs.recv(64) == text_frame(b"2") + text_frame(b"3"), "both answers follow, in order"
        await sequencer.stop()
    finally:
        transport.close()
        theirs.close()
        journal.close()
