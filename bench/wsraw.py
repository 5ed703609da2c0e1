"""A minimal WebSocket client as an asyncio Protocol, for many cheap MD subscribers.

The `websockets` client spends tens of microseconds of Python per frame;
500 subscribers of a few hundred events per second each would measure the
client, not the server. This one parses unmasked server frames straight
from the receive buffer and hands each text frame, with the time its chunk
arrived, to `on_text`. It answers pings and close frames, sends its own
frames with the all-zero mask (legal, and the payload goes out unchanged),
and can stop reading the socket altogether (`pause`) to play a slow
consumer.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import cast

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
SO_TIMESTAMPNS = 35
"""Linux's option (and control message) for the kernel's receive time of a socket's data; Python does not name it."""
STAMP = struct.Struct("@qq")
"""The control message's `struct timespec`: seconds and nanoseconds on the wall clock."""


def frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN, the opcode, the mask bit with a zero key, the payload unchanged."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return header + b"\0\0\0\0" + payload


class RawSocket(asyncio.Protocol):
    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        token: str,
        on_text: Callable[[bytes, float], None],
    ) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.open = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.close_reason = ""
        self._buf = bytearray()
        self._upgraded = False
        self._fragments: list[bytes] = []
        self._stamped: socket.socket | None = None

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str,
        token: str,
        on_text: Callable[[bytes, float], None],
        *,
        rcvbuf: int | None = None,
        timeout: float = 10.0,
    ) -> RawSocket:
        loop = asyncio.get_running_loop()
        sock = None
        if rcvbuf is not None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await loop.sock_connect(sock, (host, port))
            _, protocol = await loop.create_connection(lambda: cls(host, port, path, token, on_text), sock=sock)
        else:
            _, protocol = await loop.create_connection(lambda: cls(host, port, path, token, on_text), host, port)
        await asyncio.wait_for(protocol.open, timeout)
        return protocol

    # asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._received(data, time.time())

    def _received(self, data: bytes, now: float) -> None:
        """Parse `data`, which arrived at `now` (wall clock, seconds), and hand over each whole frame."""
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status:
                self._fail(f"upgrade refused: {status.decode(errors='replace')}")
                return
            self._upgraded = True
            self.open.set_result(None)
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            start = pos + 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + n
            if end > size:
                break
            payload = bytes(buf[start:end])
            pos = end
            opcode = b0 & 0x0F
            if opcode == OP_TEXT and b0 & 0x80:
                self.on_text(payload, now)
            else:
                self._control(b0, opcode, payload, now)
        if pos:
            del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(ConnectionError(f"connection lost before the upgrade: {exc}"))
        if self.close_code is None:
            self.close_code = 1006
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    # Frames -----------------------------------------------------------------------

    def _control(self, b0: int, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            self._fragments.append(payload)
            if b0 & 0x80:
                whole, self._fragments = b"".join(self._fragments), []
                self.on_text(whole, now)
        elif opcode == OP_PING:
            self.send(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_reason = payload[2:].decode(errors="replace")
            self.send(OP_CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(opcode, payload))

    def send_text(self, text: bytes) -> None:
        self.send(OP_TEXT, text)

    def fileno(self) -> int:
        """The socket's descriptor, for a sender that waits on it outside the loop (bench/journal.py)."""
        assert self.transport is not None
        return int(self.transport.get_extra_info("socket").fileno())

    def read_stamped(self) -> None:
        """From now on read the socket here, not in the transport, and pass each text frame the time the kernel
        received its data (`SO_TIMESTAMPNS`) as `now`, not the time this process read it: a reader that is off
        its core (the machine's other work) then does not add its own lateness to what it measures. Reads a
        second descriptor of the same socket (the loop refuses a reader on a transport's own)."""
        assert self.transport is not None
        sock = socket.socket(fileno=os.dup(self.fileno()))
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.transport.pause_reading()
        self._stamped = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._read_stamped)

    def _read_stamped(self) -> None:
        assert self._stamped is not None
        try:
            data, ancillary, _, _ = self._stamped.recvmsg(1 << 16, socket.CMSG_SPACE(STAMP.size))
        except BlockingIOError:
            return
        if not data:
            self._unstamp()
            return
        now = time.time()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = STAMP.unpack(value)
                now = seconds + nanoseconds / 1e9
        self._received(data, now)

    def _unstamp(self) -> None:
        if self._stamped is not None:
            asyncio.get_running_loop().remove_reader(self._stamped.fileno())
            self._stamped.close()
            self._stamped = None

    def pause(self) -> None:
        """Stop reading the socket: the server's sends back up until it gives up on us."""
        if self.transport is not None:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def close(self) -> None:
        self._unstamp()
        if self.transport is not None and not self.transport.is_closing():
            self.send(OP_CLOSE, (1000).to_bytes(2, "big"))
            self.transport.close()

    def _fail(self, message: str) -> None:
        if not self.open.done():
            self.open.set_exception(ConnectionError(message))
        if self.transport is not None:
            self.transport.close()
