"""One shard's commands as a JetStream stream: ordered, deduplicated, durable.

The stream is the shard's journal. A gateway appends a command with a
`Nats-Msg-Id` taken from the user's client order id (or the request's
message id), so a gateway that retries after a lost acknowledgement
appends nothing new: JetStream answers with the first copy's sequence. The
stream sequence is the engine's command sequence, and the message's stored
time is the command's timestamp, so replaying the stream rebuilds exactly
the state the shard had. Besides commands the stream holds markers (a round
start or end, a restore: markers.py), told apart by their header.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from ..engine import Command
from ..store.codec import decode, encode
from .markers import HEADER, Marker

DUPLICATE_WINDOW_S = 120.0
"""How long JetStream remembers a message id: longer than any client's retry."""
HEARTBEAT_S = 0.5
"""The consumer's heartbeat: three missed ones and the client recreates it (a NATS restart)."""
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    duplicate: bool
    """True when the id was seen before: `seq` is the first copy's, nothing was added."""


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    ts: int
    """Milliseconds since the epoch at which the stream stored the command."""
    command: Command | Marker
    msg_id: str | None
    """The appender's `Nats-Msg-Id`: how a gateway recognises its own command coming back."""


def subject(shard: str) -> str:
    return f"hftsim.cmd.{shard}"


def stream_name(shard: str) -> str:
    return f"HFTSIM_CMD_{shard.upper()}"


class CommandLog:
    def __init__(self, js: JetStreamContext, shard: str, replicas: int = 1) -> None:
        self._js = js
        self.replicas = replicas
        self.shard = shard
        self.subject = subject(shard)
        self.stream = stream_name(shard)

    async def ensure(self) -> None:
        """Create the stream if it is not there yet (file storage: it outlives nats-server restarts; `replicas`
        copies on a NATS cluster)."""
        await self._js.add_stream(
            StreamConfig(
                name=self.stream,
                subjects=[self.subject],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_S,
                num_replicas=self.replicas,
            )
        )

    async def append(self, command: Command, msg_id: str, ack_wait_s: float = 2.0) -> Appended:
        """Append once: a CodecError leaves the stream untouched; a timeout means the outcome is unknown
        (retry with the same `msg_id`: it is appended at most once)."""
        ack = await self._js.publish(self.subject, encode(command), timeout=ack_wait_s, headers={"Nats-Msg-Id": msg_id})
        return Appended(ack.seq, bool(ack.duplicate))

    async def append_marker(self, marker: Marker, msg_id: str, ack_wait_s: float = 2.0) -> Appended:
        """As `append`, for a marker."""
        headers = {"Nats-Msg-Id": msg_id, HEADER: marker.kind}
        ack = await self._js.publish(self.subject, marker.encode(), timeout=ack_wait_s, headers=headers)
        return Appended(ack.seq, bool(ack.duplicate))

    async def last_seq(self) -> int:
        return (await self.bounds())[1]

    async def bounds(self) -> tuple[int, int]:
        """The first command the stream still holds and the last one (first > last when it holds none)."""
        info = await self._js.stream_info(self.stream)
        assert info.state is not None
        return int(info.state.first_seq), int(info.state.last_seq)

    async def follow(self, after_seq: int) -> AsyncIterator[Entry]:
        """Every command after `after_seq` in order, then each new one as it is appended.

        An ordered consumer: the client library recreates it from the last
        delivered sequence if a message is missed or the server restarts,
        so the iteration never skips or repeats a command.
        """
        sub = await self._js.subscribe(
            self.subject,
            stream=self.stream,
            ordered_consumer=True,
            idle_heartbeat=HEARTBEAT_S,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_seq + 1),
        )
        try:
            async for msg in sub.messages:
                meta = msg.metadata
                headers = msg.headers or {}
                command = Marker.decode(msg.data) if HEADER in headers else decode(msg.data)
                yield Entry(meta.sequence.stream, (meta.timestamp - _EPOCH) // _MS, command, headers.get("Nats-Msg-Id"))
        finally:
            await sub.unsubscribe()
