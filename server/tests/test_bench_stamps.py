"""The bench's stamped reads: an answer's arrival is the kernel's receive time, not when the reader got to it.

The tails run (bench/journal.py) measures each order to its answer's arrival
at the generator's socket, so the generator's own lateness in reading (its
core taken by other work) is not counted as the venue's. These tests hold a
frame in the socket, unread, and check the time handed over for it.
"""

from __future__ import annotations

import asyncio
import select
import time

from bench.journal import Stream
from bench.wsraw import OP_TEXT, RawSocket


async def serve_one(frames: asyncio.Queue[bytes], written: asyncio.Event) -> tuple[asyncio.Server, int]:
    """A WebSocket peer of one connection: accepts the upgrade, then writes each frame put in `frames` and sets
    `written` once the kernel has it."""

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        while True:
            payload = await frames.get()
            writer.write(bytes((0x80 | OP_TEXT, len(payload))) + payload)
            await writer.drain()
            written.set()

    server = await asyncio.start_server(peer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def held_then_read(stamped: bool) -> tuple[float, float]:
    """A frame left in the socket until after `ready` (the wall clock once it was readable); the `now` it was
    handed over with, and `ready`."""
    frames: asyncio.Queue[bytes] = asyncio.Queue()
    written = asyncio.Event()
    server, port = await serve_one(frames, written)
    got: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    socket = await RawSocket.connect("127.0.0.1", port, "/", "token", lambda _, now: got.set_result(now))
    try:
        if stamped:
            socket.read_stamped()
        else:
            socket.pause()  # held unread here too, then read by the transport as it resumes
        await frames.put(b'{"type":"response"}')
        await written.wait()
        assert select.select((socket.fileno(),), (), (), 10)[0]  # the loop held: the frame waits in the socket
        ready = time.time()
        if not stamped:
            socket.resume()
        return await asyncio.wait_for(got, 10), ready
    finally:
        socket.close()
        server.close()


async def test_a_stamped_read_hands_over_the_time_the_kernel_received_the_frame() -> None:
    now, ready = await held_then_read(stamped=True)
    assert now <= ready


async def test_a_plain_read_hands_over_the_time_it_read() -> None:
    now, ready = await held_then_read(stamped=False)
    assert now > ready


def test_a_stamped_stream_measures_to_the_arrival_and_keeps_the_read_apart() -> None:
    stream = Stream("s")
    stream.stamped = True
    stream.sent["s-1"] = time.perf_counter_ns() - 5_000_000
    stream.on_text(b'{"type":"response","corr_id":"s-1"}', time.time() - 0.004)
    (arrived,), (read,) = stream.latencies, stream.read_latencies
    assert 0.9e6 < arrived < 1.9e6 and read >= 5e6
