"""uvicorn's HTTP protocol with a deadline for each request to arrive in full.

A slowloris client dribbles headers or a body to hold a connection (and
the app's request task) forever; uvicorn's keep-alive timeout only covers
the idle time between requests. Here each request, from its first byte
(or the connection's opening) to its last, must arrive within the deadline,
or the connection gets 408 Request Timeout and is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TIMEOUT_BODY = b"request not received in time"
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(TIMEOUT_BODY)
    + TIMEOUT_BODY
)


Upgrade = Callable[[asyncio.Transport, bytes], None]
"""Takes a connection over with the WebSocket upgrade request read from it (head included)."""


def deadline_protocol(seconds: float, upgrade: Upgrade) -> type[HttpToolsProtocol]:
    """The protocol class uvicorn is given (`http=`), with `seconds` as the request deadline.

    WebSocket upgrades leave uvicorn: `upgrade` gets the connection.
    """

    class DeadlineProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _receiving = False
        _previous: object = None
        """The cycle of the request before the one arriving (the parser makes a new one after the headers)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and not self._receiving:
                self._arm()
            super().data_received(data)

        def on_message_begin(self) -> None:
            self._receiving = True
            self._previous = self.cycle
            if self._deadline is None:  # a pipelined request, behind one that just completed
                self._arm()
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._receiving = False
            self._disarm()
            super().on_message_complete()

        def _should_upgrade_to_ws(self) -> bool:
            return True

        def handle_websocket_upgrade(self) -> None:
            self._disarm()
            self.connections.discard(self)
            head = [self.scope["method"].encode(), b" ", self.url, b" HTTP/1.1\r\n"]
            for name, value in self.scope["headers"]:
                head += [name, b": ", value, b"\r\n"]
            head.append(b"\r\n")
            upgrade(self.transport, b"".join(head))
            # uvicorn breaks the parser's cycle back to this protocol in connection_lost, which a connection
            # handed over never reaches; left, the cycle would wait for a full collection (gateway/heap.py)
            self.parser = None  # type: ignore[assignment]

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            current = None if self.cycle is self._previous else self.cycle
            if current is None or not current.response_started:
                self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()

    return DeadlineProtocol
