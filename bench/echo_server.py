"""The transport floors of the gateway benchmarks: bare echo servers, one per transport.

    python -m bench.echo_server [websockets|picows|tcp]   # prints {"port": P}, serves until `quit` or EOF

- `websockets`: the `websockets` library's asyncio server (the gateway's
  transport before picows);
- `picows`: a picows server, the gateway's transport now;
- `tcp`: plain TCP, each message a 4-byte big-endian length then its bytes:
  the floor under any WebSocket.

A request is text `SIZES|MSG_ID|padding`, SIZES being comma-separated
byte counts: the server answers with one message per size, exactly that
many bytes each, the last one a JSON response carrying `corr_id` = MSG_ID
(the others JSON events). So the client can ask for the very frames the
gateway would send for an order (fills, the response) and pay the same
bytes on the wire, with no validation, engine or fan-out in between.
All run on uvloop, without compression.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson
import uvloop
from picows import (
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    ws_create_server,
)
from websockets.asyncio.server import ServerConnection, serve

EVENT = '{"type":"event","op":"echo"}'
KINDS = ("websockets", "picows", "tcp")


def reply(size: int, msg_id: str | None) -> str:
    text = EVENT if msg_id is None else f'{{"type":"response","corr_id":"{msg_id}","ok":true}}'
    return text + " " * max(0, size - len(text))


def request(sizes: list[int], msg_id: str, size: int) -> str:
    """A request of `size` bytes asking for frames of `sizes` bytes."""
    text = f"{','.join(map(str, sizes))}|{msg_id}|"
    return text + "x" * max(0, size - len(text))


def replies(message: str) -> list[bytes]:
    sizes, msg_id, _ = message.split("|", 2)
    counts = [int(s) for s in sizes.split(",")]
    return [reply(size, None).encode() for size in counts[:-1]] + [reply(counts[-1], msg_id).encode()]


async def handler(ws: ServerConnection) -> None:
    async for message in ws:
        assert isinstance(message, str)
        for frame in replies(message):
            await ws.send(frame.decode())


class PicowsEcho(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif frame.msg_type == WSMsgType.TEXT:
            for out in replies(frame.get_payload_as_utf8_text()):
                transport.send(WSMsgType.TEXT, out)


class TcpEcho(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        while len(buffer) >= 4:
            n = int.from_bytes(buffer[:4], "big")
            if len(buffer) < 4 + n:
                break
            message = bytes(buffer[4 : 4 + n]).decode()
            del buffer[: 4 + n]
            for frame in replies(message):
                out += (len(frame).to_bytes(4, "big"), frame)
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


async def main(kind: str) -> None:
    loop = asyncio.get_running_loop()
    if kind == "websockets":
        server = await serve(handler, "127.0.0.1", 0, compression=None, max_size=2**24, max_queue=None)
        sockets = list(server.sockets)
    elif kind == "picows":

        def listener(request: WSUpgradeRequest) -> WSListener:
            return PicowsEcho()

        plain = await ws_create_server(listener, "127.0.0.1", 0, max_frame_size=2**24)
        sockets = list(plain.sockets)
    else:
        plain = await loop.create_server(TcpEcho, "127.0.0.1", 0)
        sockets = list(plain.sockets)
    sys.stdout.write(orjson.dumps({"port": sockets[0].getsockname()[1]}).decode() + "\n")
    sys.stdout.flush()
    while (line := await asyncio.to_thread(sys.stdin.readline)) and line.strip() != "quit":
        pass  # serve until the parent says quit or goes away


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1] if len(sys.argv) > 1 else "websockets"))
