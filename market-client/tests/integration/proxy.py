"""A real TCP proxy between the client and the real server, to break the link on purpose.

Every connection the client opens (HTTP and both WebSockets) goes through
it, and the test decides what the network does:

- `blackhole()`: every byte in both directions is silently dropped and no
  socket is closed: the half-open link a dead NAT or a pulled cable gives;
- `mute_replies()` / `mute_requests()`: drop only what the server sends /
  only what the client sends, on the connections open now;
- `reset()`: RST every open connection (SO_LINGER 0, then abort);
- `heal()`: end the black hole (connections opened from then on work).

It works on bytes, never on frames (client frames are masked), so tests
tell what happened from the server's side or from `dropped_*` counters.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from types import TracebackType


class _Pair:
    """One client connection and its connection to the server."""

    def __init__(self, downstream: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.downstream = downstream
        self.upstream = upstream
        self.mute_up = False
        self.mute_down = False

    def reset(self) -> None:
        for writer in (self.downstream, self.upstream):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._pairs: set[_Pair] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.blackholed = False
        self.dropped_up = 0
        """Bytes from the client that were dropped."""
        self.dropped_down = 0
        """Bytes from the server that were dropped."""
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        self.reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # -- what the network does -------------------------------------------------

    def blackhole(self) -> None:
        self.blackholed = True

    def mute_replies(self) -> None:
        for pair in self._pairs:
            pair.mute_down = True

    def mute_requests(self) -> None:
        for pair in self._pairs:
            pair.mute_up = True

    def reset(self) -> None:
        for pair in list(self._pairs):
            pair.reset()
        self._pairs.clear()

    def heal(self) -> None:
        self.blackholed = False

    # -- forwarding ----------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
            except OSError:
                writer.transport.abort()
                return
            pair = _Pair(writer, up_writer)
            self._pairs.add(pair)
            await asyncio.gather(
                self._pump(reader, pair, upstream=True),
                self._pump(up_reader, pair, upstream=False),
                return_exceptions=True,
            )
            self._pairs.discard(pair)
            for w in (writer, up_writer):
                w.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, pair: _Pair, *, upstream: bool) -> None:
        writer = pair.upstream if upstream else pair.downstream
        while data := await reader.read(65536):
            if self.blackholed or (pair.mute_up if upstream else pair.mute_down):
                if upstream:
                    self.dropped_up += len(data)
                else:
                    self.dropped_down += len(data)
                continue
            writer.write(data)
            await writer.drain()
        writer.transport.abort()
