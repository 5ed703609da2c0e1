"""A gateway's sequencer in a cluster: the stream orders, a local replica applies.

In one process the `Sequencer` journals a command and applies it. In a
cluster, ordering belongs to the shard's JetStream stream: a gateway
appends its users' commands and follows the whole stream, applying every
command — its own and other gateways' — to a replica engine in stream
order. Every replica is the same deterministic engine fed the same
commands with the same timestamps, so every gateway holds the same books,
orders and accounts, and publishes the same market data with the same
sequence numbers; a client cannot tell which gateway it is on.

A request is answered from the replica once its command comes back from
the stream, recognised by its `Nats-Msg-Id`: so nothing is acknowledged
that the stream does not hold, and a command another gateway appended
shows up here exactly as there. When NATS cannot take a command the
request is refused with ENGINE_UNAVAILABLE. A place with a client order
id is appended under that id, so placing it again through any gateway
appends nothing and gets the first answer (for the last few thousand
places; older ones answer DUPLICATE_MSG).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from functools import partial

import nats.errors
import nats.js.errors
from nats.aio.client import Client as Nats

from ..engine import Command, Engine, PlaceOrder, Result
from ..gateway.clock import now_ms
from ..gateway.sequencer import Waiter
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.errors import CodecError
from .commandlog import CommandLog
from .connection import connect

logger = logging.getLogger(__name__)

Listener = Callable[[Result, object], None]
"""As the in-process sequencer's: each applied result, and the `origin` of its waiter on this gateway (or None)."""

REMEMBERED_PLACES = 4096
"""Answers kept for places with a client order id: a retry through any gateway gets the first answer."""
APPEND_WAIT_S = 2.0
"""How long a gateway keeps retrying an append before it refuses the request."""
RETRY_S = 0.05
"""Pause between appends while NATS is away (a refused publish returns at once)."""
_NATS_DOWN = (nats.errors.TimeoutError, nats.errors.ConnectionClosedError, nats.errors.NoServersError,
              nats.errors.OutboundBufferLimitError, nats.js.errors.ServiceUnavailableError,
              nats.errors.NoRespondersError)  # fmt: skip


def message_id(command: Command, fallback: str) -> str:
    """The client order id makes a place idempotent across gateways; anything else is unique to its request."""
    if isinstance(command, PlaceOrder) and command.client_order_id is not None:
        return f"place:{command.user_id}:{command.client_order_id}"
    return fallback


class StreamSequencer:
    def __init__(
        self, engine: Engine, nats_url: str, shard: str, queue_limit: int = 256, clock: Callable[[], int] = now_ms
    ) -> None:
        self.engine = engine
        self.nats_url = nats_url
        self.shard = shard
        self._nc: Nats | None = None
        self._log: CommandLog | None = None
        self._clock = clock
        self._last_ts = 0
        self._applied_ts = 0
        self._listeners: list[Listener] = []
        self._waiting: dict[str, asyncio.Future[Result]] = {}
        self._origins: dict[str, object] = {}
        """msg_id -> the origin of the waiter that sent it, for the listeners."""
        self._answers: OrderedDict[str, Result] = OrderedDict()
        self._in_flight: Counter[Hashable] = Counter()
        self._queue_limit = queue_limit
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(6)
        self.store_error: str | None = None
        """Why commands are refused (NATS unreachable); None while appends work."""
        self._following: asyncio.Task[None] | None = None

    @property
    def nats(self) -> Nats:
        """The connection `start` opened, for what else the gateway shares over NATS."""
        assert self._nc is not None, "start() first"
        return self._nc

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def now(self) -> int:
        ts = max(self._clock(), self._last_ts)
        self._last_ts = ts
        return ts

    async def start(self) -> None:
        """Connect, replay the stream up to its current end, then follow it in the background."""
        self._nc = await connect(self.nats_url, f"hftsim-gateway-{self._prefix}")
        self._log = log = CommandLog(self._nc.jetstream(), self.shard)
        await log.ensure()
        last = await log.last_seq()
        caught_up = asyncio.get_running_loop().create_future()
        if self.engine.seq >= last:
            caught_up.set_result(None)
        self._following = asyncio.create_task(self._follow(last, caught_up), name="hftsim-stream-follow")
        await caught_up
        logger.info("replica at command %d of stream %s", self.engine.seq, log.stream)

    async def _follow(self, catch_up_to: int, caught_up: asyncio.Future[None]) -> None:
        assert self._log is not None
        async for entry in self._log.follow(self.engine.seq):
            ts = max(entry.ts, self._applied_ts)  # the same clamp on every replica: same input, same state
            self._applied_ts = ts
            result = self.engine.apply(entry.command, ts)
            if result.seq != entry.seq:
                raise RuntimeError(f"stream command {entry.seq} became engine command {result.seq}")
            origin = self._origins.pop(entry.msg_id, None) if entry.msg_id is not None else None
            for listener in self._listeners:
                try:
                    listener(result, origin)
                except Exception:
                    logger.exception("listener failed on command %d; the command stands", result.seq)
            if entry.msg_id is not None:
                self._answered(entry.msg_id, result)
            if entry.seq == catch_up_to and not caught_up.done():
                caught_up.set_result(None)

    def _answered(self, msg_id: str, result: Result) -> None:
        if msg_id.startswith("place:"):
            self._answers[msg_id] = result
            if len(self._answers) > REMEMBERED_PLACES:
                self._answers.popitem(last=False)
        future = self._waiting.pop(msg_id, None)
        if future is not None and not future.done():
            future.set_result(result)

    def submit(self, command: Command, key: Hashable) -> asyncio.Future[Result]:
        """Append `command`; the future resolves once the replica has applied it."""
        return self._enqueue(command, key)[1]

    def _enqueue(self, command: Command, key: Hashable) -> tuple[str, asyncio.Future[Result]]:
        if self._in_flight[key] >= self._queue_limit:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"{self._queue_limit} of your commands are already waiting; wait for their answers",
                retry_after_ms=10,
            )
        msg_id = message_id(command, f"{self._prefix}:{next(self._ids)}")
        if msg_id in self._waiting:
            raise ProtocolError(ErrorCode.DUPLICATE_MSG, "this order is already being placed; wait for its answer")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self._in_flight[key] += 1
        task = asyncio.create_task(self._append(command, msg_id, future))
        task.add_done_callback(lambda _: self._done(key))
        return msg_id, future

    def send(self, command: Command, key: Hashable, waiter: Waiter) -> None:
        """As `submit`, telling `waiter` the outcome (a pass after the replica applied it)."""
        msg_id, future = self._enqueue(command, key)
        self._origins[msg_id] = waiter.origin
        future.add_done_callback(partial(_tell, waiter))

    def _done(self, key: Hashable) -> None:
        self._in_flight[key] -= 1
        if self._in_flight[key] <= 0:
            del self._in_flight[key]

    async def _append(self, command: Command, msg_id: str, future: asyncio.Future[Result]) -> None:
        assert self._log is not None, "start() first"
        try:
            async with asyncio.timeout(APPEND_WAIT_S):
                while True:
                    try:
                        appended = await self._log.append(command, msg_id, ack_wait_s=APPEND_WAIT_S / 4)
                        break
                    except _NATS_DOWN as exc:  # retried with the same id: appended at most once
                        self.store_error = f"NATS does not take commands ({type(exc).__name__})"
                        await asyncio.sleep(RETRY_S)
        except CodecError as exc:
            self._fail(msg_id, ProtocolError(ErrorCode.INVALID_FIELD, f"a field is out of range: {exc}"))
            return
        except TimeoutError:
            self._fail(msg_id, ProtocolError(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"the market's command stream did not answer within {APPEND_WAIT_S:.0f} s ({self.store_error}); "
                "if it later takes the command, its events still reach you; retry with the same client order id",
            ))  # fmt: skip
            return
        self.store_error = None
        if not appended.duplicate or future.done() or appended.seq > self.engine.seq:
            return  # the follow loop answers once the replica applies it
        first = self._answers.get(msg_id)
        if first is not None:
            self._answered(msg_id, first)
        else:
            self._fail(msg_id, ProtocolError(
                ErrorCode.DUPLICATE_MSG,
                f"this order was placed long ago (command {appended.seq}); look it up by its client order id",
            ))  # fmt: skip

    def _fail(self, msg_id: str, error: ProtocolError) -> None:
        self._origins.pop(msg_id, None)
        future = self._waiting.pop(msg_id, None)
        if future is not None and not future.done():
            future.set_exception(error)

    def submit_now(self, command: Command) -> Result:
        raise ProtocolError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"{type(command).__name__} cannot be applied synchronously in a cluster; run the agents with hftsim bots",
        )

    async def stop(self) -> None:
        if self._following is not None:
            self._following.cancel()
            await asyncio.gather(self._following, return_exceptions=True)
        for msg_id in list(self._waiting):
            self._fail(msg_id, ProtocolError(ErrorCode.ENGINE_UNAVAILABLE, "the gateway is stopping; retry"))
        if self._nc is not None:
            await self._nc.close()


def _tell(waiter: Waiter, done: asyncio.Future[Result]) -> None:
    if done.cancelled():
        return
    error = done.exception()
    if error is None:
        waiter.resolved(done.result())
    elif isinstance(error, ProtocolError):
        waiter.refused(error)
    else:
        waiter.refused(ProtocolError(ErrorCode.INTERNAL, "internal server error; it was logged"))
