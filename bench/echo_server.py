"""The transport floor of the gateway benchmarks: a bare `websockets` echo server.

    python -m bench.echo_server        # prints {"port": P}, serves until `quit` or EOF on stdin

A request is text `SIZES|MSG_ID|padding`, SIZES being comma-separated
byte counts: the server answers with one frame per size, exactly that many
bytes each, the last one a JSON response carrying `corr_id` = MSG_ID (the
others JSON events). So the client can ask for the very frames the gateway
would send for an order (order.accepted, fills, the response) and pay the
same bytes on the wire, with no validation, engine or fan-out in between.
Like the gateway it runs on uvloop, without compression.
"""

from __future__ import annotations

import asyncio
import sys

import orjson
import uvloop
from websockets.asyncio.server import ServerConnection, serve

EVENT = '{"type":"event","op":"echo"}'


def reply(size: int, msg_id: str | None) -> str:
    text = (
        EVENT
        if msg_id is None
        else f'{{"type":"response","corr_id":"{msg_id}","ok":true}}'
    )
    return text + " " * max(0, size - len(text))


def request(sizes: list[int], msg_id: str, size: int) -> str:
    """A request of `size` bytes asking for frames of `sizes` bytes."""
    text = f"{','.join(map(str, sizes))}|{msg_id}|"
    return text + "x" * max(0, size - len(text))


async def handler(ws: ServerConnection) -> None:
    async for message in ws:
        assert isinstance(message, str)
        sizes, msg_id, _ = message.split("|", 2)
        counts = [int(s) for s in sizes.split(",")]
        for size in counts[:-1]:
            await ws.send(reply(size, None))
        await ws.send(reply(counts[-1], msg_id))


async def main() -> None:
    async with serve(
        handler, "127.0.0.1", 0, compression=None, max_size=2**24, max_queue=None
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        sys.stdout.write(orjson.dumps({"port": port}).decode() + "\n")
        sys.stdout.flush()
        while (
            line := await asyncio.to_thread(sys.stdin.readline)
        ) and line.strip() != "quit":
            pass  # serve until the parent says quit or goes away


if __name__ == "__main__":
    uvloop.run(main())
