"""Raw RFC 6455 faults: each breaks only the connection that sent it.

The frames are built by hand, below any WebSocket library, because a
library will not send a malformed frame. Every fault must end in a close
frame with the code RFC 6455 prescribes (or a reset for a frame too large to
read), the server must log no traceback, and another user's session must
carry on untouched.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import orjson
import pytest

from hftsim.testing import ServerProcess

from .conftest import Wire, handshake

TEXT, BINARY, CLOSE, PING, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0x0


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    mask_bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawSocket:
    """A WebSocket client that sends whatever bytes it is given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, path: str, token: str) -> RawSocket:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        n = second & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(n)

    async def close_code(self) -> int | None:
        """The code of the server's close frame, skipping other frames; None if the link was reset or cut."""
        try:
            async with asyncio.timeout(30):
                while True:
                    opcode, payload = await self.read_frame()
                    if opcode == CLOSE:
                        return int(struct.unpack("!H", payload[:2])[0]) if payload else 1005
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None

    async def request(self, opcode: int, msg_id: str) -> dict[str, object]:
        body = orjson.dumps({"type": "request", "ver": 1, "msg_id": msg_id, "op": "ping", "payload": {}})
        self.writer.write(frame(opcode, body))
        async with asyncio.timeout(30):
            while True:
                got, payload = await self.read_frame()
                if got == TEXT and orjson.loads(payload).get("corr_id") == msg_id:
                    return dict(orjson.loads(payload))


@pytest.fixture
async def raw(server: ServerProcess) -> AsyncIterator[RawSocket]:
    sock = await RawSocket.open(server.url, "/ws/cmd", handshake(server.url)["token"])
    yield sock
    sock.writer.close()


FAULTS = {
    "unmasked frame": (frame(TEXT, b"{}", masked=False), 1002),
    "reserved opcode": (frame(0x3, b"x"), 1002),
    "reserved bit without an extension": (frame(TEXT, b"{}", rsv=0b100), 1002),
    "control frame over 125 bytes": (frame(PING, b"x" * 126), 1002),
    "fragmented control frame": (frame(PING, b"x", fin=False), 1002),
    "continuation with nothing to continue": (frame(CONTINUATION, b"x"), 1002),
    "text that is not UTF-8": (frame(TEXT, b"\xff\xfe\xfd"), 1007),
    "a close code nobody may send": (frame(CLOSE, struct.pack("!H", 1005)), 1002),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_protocol_fault_closes_only_its_connection(
    server: ServerProcess, raw: RawSocket, trader: Wire, fault: str
) -> None:
    data, code = FAULTS[fault]
    raw.writer.write(data)
    assert await raw.close_code() == code
    assert (await trader.ok("ping"))["ts"] > 0
    assert "Traceback" not in server.log()


async def test_a_frame_announcing_exabytes_is_refused_unread(
    server: ServerProcess, raw: RawSocket, trader: Wire
) -> None:
    raw.writer.write(bytes([0x80 | TEXT, 0x80 | 127]) + struct.pack("!Q", 1 << 62) + os.urandom(4) + b"x" * 1024)
    assert await raw.close_code() in (1009, None)
    assert (await trader.ok("ping"))["ts"] > 0
    assert "Traceback" not in server.log()


async def test_a_binary_frame_is_read_like_text_and_a_ping_is_ponged(raw: RawSocket) -> None:
    assert (await raw.request(BINARY, "b1"))["ok"] is True
    raw.writer.write(frame(PING, b"are you there"))
    async with asyncio.timeout(30):
        while (pong := await raw.read_frame())[0] != 0xA:
            pass
    assert pong[1] == b"are you there"
    assert (await raw.request(TEXT, "t1"))["ok"] is True
