"""A backlog larger than one write's batch leaves in order, in batches of about BATCH_BYTES, and the queue empties.

The outbox and the socket are the real ones (a socket pair stands in for the client's connection)."""

from __future__ import annotations

import asyncio
import logging
import socket

from picows import WSTransport

from hftsim.gateway.outbox import BATCH_BYTES, Outbox, PassFlush, text_frame


async def test_a_backlog_leaves_in_order_in_batches() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    theirs.setblocking(False)
    ws = WSTransport(False, transport, logging.getLogger(__name__), loop)  # type: ignore[call-arg]  # stubs: no args
    writes: list[int] = []
    write = transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(len(data))
        write(data)

    transport.write = counted  # type: ignore[method-assign]  # the outbox takes its write from the transport
    try:
        outbox = Outbox(ws, 1000, 10.0, PassFlush())
        messages = [bytes([65 + i % 26]) * (1000 + i) for i in range(150)]  # about 2.4 batches
        now = loop.time()
        for message in messages:
            outbox.push_frame(text_frame(message), now)
        outbox.flush()
        expected = b"".join(text_frame(message) for message in messages)
        assert len(writes) == 3 and sum(writes) == len(expected)
        assert all(size >= BATCH_BYTES for size in writes[:-1]), "each full batch reaches BATCH_BYTES"
        outbox.check_stalled(now + 60.0)  # nothing queued is left to stall
        assert outbox.is_open
        received = b""
        while len(received) < len(expected):
            received += await loop.sock_recv(theirs, 1 << 20)
        assert received == expected
    finally:
        transport.close()
        theirs.close()
