"""uvicorn's sans-I/O WebSocket protocol, plus a way to cut off a peer that reads nothing.

It also closes a connection that sends text which is not UTF-8 with 1007
and one line in the log, where uvicorn would log a traceback per frame.

An ASGI app cannot close a socket whose peer stopped reading: the close
frame waits behind the full send buffer forever, and closing the transport
waits for that buffer to drain. This protocol gives the app the
`hftsim.cut` extension: queue the close frame past the buffer's limit (a
peer that does read sees the close code after the data it was sent), then
abort the connection if it has not closed within `timeout` seconds.
"""

from __future__ import annotations

import socket
import struct
from typing import Any, Protocol

from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

CUT = "hftsim.cut"


class Cut(Protocol):
    def __call__(self, code: int, reason: str, timeout: float) -> None: ...


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # None when the upgrade itself was refused
            scope["extensions"][CUT] = {"cut": self._cut}

    def connection_lost(self, exc: Exception | None) -> None:
        if self.handshake_complete and getattr(self, "scope", None) is not None:
            self.logger.debug(
                '%s - "WebSocket %s" closed', get_client_addr(self.scope), get_path_with_query_string(self.scope)
            )
        super().connection_lost(exc)

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type != "text" or self.close_sent:
            super().send_receive_event_to_app()
            return
        data = b"".join(self.frames)
        self.frames = []
        try:
            text = data.decode()
        except UnicodeDecodeError:
            self.logger.info("closing a connection that sent text that is not UTF-8")
            self.conn.send_close(1007, "text frames must be UTF-8")
            self.handle_parser_exception()
            return
        self.queue.put_nowait({"type": "websocket.receive", "text": text})
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def _cut(self, code: int, reason: str, timeout: float) -> None:
        if self.transport.is_closing():
            return
        if not self.close_sent:
            self.conn.send_close(code, reason)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.writable.set()  # let a send blocked on the full buffer return (it finds close_sent)
        if self.read_paused:  # keep reading, or the peer's closing frame would never arrive
            self.read_paused = False
            self.transport.resume_reading()
        # As close_timer, it also stops uvicorn from closing the transport when the app returns:
        # closing a socket with unread input makes the kernel reset it, and the peer would never
        # see the close code. The peer's closing frame cancels it and closes cleanly.
        if self.close_timer is not None:
            self.close_timer.cancel()
        self.close_timer = self.loop.call_later(timeout, self._abort_if_open)

    def _abort_if_open(self) -> None:
        """Reset the connection: with linger 0 the kernel drops its unsent data and sends RST.

        A plain close would leave the kernel trying to deliver that data to a
        peer whose window is shut, keeping the connection alive for minutes.
        """
        if self.disconnected:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
