"""A gateway's sequencer in a cluster: the stream orders, a local replica applies.

In one process the `Sequencer` journals a command and applies it. In a
cluster, ordering belongs to the shard's JetStream stream: a gateway
appends its users' commands and follows the whole stream, applying every
command — its own and other gateways' — to a replica engine in stream
order. Every replica is the same deterministic engine fed the same
commands with the same timestamps, so every gateway holds the same books,
orders and accounts, and publishes the same market data with the same
sequence numbers; a client cannot tell which gateway it is on.

With several shards a gateway follows every shard's stream, each into
that shard's replica (`ShardedMarket`), and appends each command to the
stream of the shard it concerns (`routing`).

A request is answered from the replica once its command comes back from
the stream, recognised by its `Nats-Msg-Id`: so nothing is acknowledged
that the stream does not hold, and a command another gateway appended
shows up here exactly as there. When NATS cannot take a command the
request is refused with ENGINE_UNAVAILABLE. A place with a client order
id is appended under that id, so placing it again through any gateway
appends nothing and gets the first answer (for the last few thousand
places; older ones answer DUPLICATE_MSG).

A buy (or an amend growing a buy) that its shard account cannot pay for,
but the user's other shard accounts can, first moves the shortfall there
(`transfers`): the order waits for the credit, and the user's later
commands wait until it is applied, so they still reach the streams in the
order they were sent and find it by its client order id. Likewise a cancel
or amend by client order id waits for the place it names while that place
is in flight, as `hftsim serve` applies it after the place.

Markers (a round's start, samples and end, a restore: markers.py) go into
every shard's stream through `mark`; each replica applies them at their
place in the stream, as the shard does, and tells the marker listeners
(the rounds, which score from the shards' `ShardRound`s).
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

from ..config import Settings
from ..engine import AmendOrder, CancelOrder, Command, DebitCash, Engine, PlaceOrder, Result
from ..gateway.clock import Clock
from ..gateway.sequencer import Waiter
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.errors import CodecError
from .commandlog import CommandLog
from .connection import connect
from .layout import ID_SPAN, Layout
from .markers import Marker, ShardRound, running_book, take
from .market import ShardedMarket
from .routing import combine, route
from .snapshots import PublishedSnapshots, ReadModels, Snapshot
from .transfers import credit_id

logger = logging.getLogger(__name__)

Listener = Callable[[Result, object], None]
MarkerListener = Callable[[int, Marker], None]
"""Told each marker a replica applied, with the index of its shard."""
"""As the in-process sequencer's: each applied result, and the `origin` of its waiter on this gateway (or None)."""

REMEMBERED_PLACES = 4096
"""Answers kept for places with a client order id: a retry through any gateway gets the first answer."""
APPEND_WAIT_S = 2.0
"""How long a gateway keeps retrying an append before it refuses the request."""
CREDIT_WAIT_S = 2.0
"""How long an order waits for the credit that tops its shard account up; then it goes ahead (and is refused
if the cash has not arrived: the credit still lands once the source shard appends it)."""
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


class _Follower:
    """One shard's stream as this gateway follows it into the shard's replica."""

    def __init__(self, log: CommandLog, engine: Engine, gseq_base: int = 0) -> None:
        self.log = log
        self.engine = engine
        self.gseq_base = gseq_base
        """Added to the shard's command numbers in what the venue sees: shards' `gseq`s never collide."""
        self.applied_ts = 0
        self.round: ShardRound | None = None
        """The round as this shard counts it, replicated like the engine."""
        self.task: asyncio.Task[None] | None = None


class StreamSequencer:
    def __init__(self, market: ShardedMarket, nats_url: str, queue_limit: int = 256) -> None:
        self.engine = market
        self.nats_url = nats_url
        self._nc: Nats | None = None
        self._followers: list[_Follower] = []
        self.clock = Clock()
        self._listeners: list[Listener] = []
        self._marker_listeners: list[MarkerListener] = []
        self._marking: dict[tuple[int, str], asyncio.Future[None]] = {}
        """(shard, msg_id) of a marker this gateway appended -> settled once its replica applied it."""
        self._waiting: dict[str, asyncio.Future[Result]] = {}
        self._origins: dict[str, object] = {}
        """msg_id -> the origin of the waiter that sent it, for the listeners."""
        self._answers: OrderedDict[str, Result] = OrderedDict()
        self._in_flight: Counter[Hashable] = Counter()
        self._held: dict[Hashable, asyncio.Task[None]] = {}
        """Per key, the command held back (for a top-up, or behind a place it names): the key's later commands
        go after it."""
        self._placing: dict[tuple[int, str], asyncio.Future[Result]] = {}
        """(user, client order id) -> the answer of that place while it is in flight."""
        self._queue_limit = queue_limit
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(6)
        self.store_error: str | None = None
        """Why commands are refused (NATS unreachable); None while appends work."""
        self.read_models: ReadModels | None = None
        """The venue's trade history and fills, seeded from the shards' snapshots at start."""
        self._published: PublishedSnapshots | None = None
        self.started_from: list[int] = []
        """Per shard, the command its replica started from (a snapshot's, or 0): what `start` did not replay."""

    @classmethod
    def for_layout(
        cls, settings: Settings, nats_url: str, queue_limit: int = 256, read_models: ReadModels | None = None
    ) -> StreamSequencer:
        """A sequencer over empty replicas of the configured layout's shards (they fill up in `start`)."""
        layout = Layout.of(settings)
        market = ShardedMarket(layout, [layout.engine(settings, i) for i in range(len(layout.shards))])
        sequencer = cls(market, nats_url, queue_limit)
        sequencer.read_models = read_models
        return sequencer

    @property
    def nats(self) -> Nats:
        """The connection `start` opened, for what else the gateway shares over NATS."""
        assert self._nc is not None, "start() first"
        return self._nc

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_markers(self, listener: MarkerListener) -> None:
        self._marker_listeners.append(listener)

    @property
    def published(self) -> PublishedSnapshots:
        """The object store of the shards' snapshots (and of the engines a restore marker names)."""
        assert self._published is not None, "start() first"
        return self._published

    @property
    def rounds(self) -> list[ShardRound | None]:
        """Each shard's round as its replica has applied it so far."""
        return [f.round for f in self._followers]

    def now(self) -> int:
        return self.clock.now()

    async def start(self) -> None:
        """Connect, replay every shard's stream up to its current end, then follow them in the background."""
        self._nc = await connect(self.nats_url, f"hftsim-gateway-{self._prefix}")
        js = self._nc.jetstream()
        replicas = self.engine.layout.replicas
        self._published = published = PublishedSnapshots(js, replicas)
        caught_up: list[asyncio.Future[None]] = []
        for index, (spec, engine) in enumerate(zip(self.engine.layout.shards, self.engine.engines, strict=True)):
            follower = _Follower(CommandLog(js, spec.name, replicas), engine, index * ID_SPAN)
            await follower.log.ensure()
            first, last = await follower.log.bounds()
            self._take(follower, await published.latest(spec.name), last)
            if engine.seq + 1 < first:
                raise RuntimeError(
                    f"{follower.log.stream} starts at command {first} and no snapshot of shard {spec.name} "
                    f"covers the commands before it (the newest is at {engine.seq}); start its shard first"
                )
            self.started_from.append(engine.seq)
            done = asyncio.get_running_loop().create_future()
            if engine.seq >= last:
                done.set_result(None)
            follower.task = asyncio.create_task(self._follow(follower, last, done), name=f"hftsim-follow-{spec.name}")
            self._followers.append(follower)
            caught_up.append(done)
        await asyncio.gather(*caught_up)
        for follower in self._followers:
            logger.info("replica at command %d of stream %s", follower.engine.seq, follower.log.stream)

    def _take(self, follower: _Follower, snapshot: Snapshot | None, last: int) -> None:
        """Take the shard's snapshot into the replica (and its history into the venue's) if it is of use:
        newer than the replica and not past command `last`."""
        if snapshot is None or not follower.engine.seq < snapshot.seq <= last:
            return
        if not snapshot.fits(follower.engine):
            logger.warning("the snapshot of %s is for another layout or settings: replaying", follower.log.stream)
            return
        follower.engine.adopt(snapshot.engine)
        follower.applied_ts = snapshot.last_ts
        follower.round = snapshot.round
        if self.read_models is not None:
            self.read_models.history.take(snapshot.history)
            self.read_models.fills.take(snapshot.fills)

    async def _follow(self, follower: _Follower, catch_up_to: int, caught_up: asyncio.Future[None]) -> None:
        engine = follower.engine
        async for entry in follower.log.follow(engine.seq):
            if entry.seq > engine.seq + 1:
                await self._bridge(follower, entry.seq)
            if entry.seq <= engine.seq:
                continue  # the snapshot that bridged a gap holds it
            ts = max(entry.ts, follower.applied_ts)  # the same clamp on every replica: same input, same state
            follower.applied_ts = ts
            if isinstance(entry.command, Marker):
                await self._apply_marker(follower, entry.command, entry.seq, entry.msg_id)
            else:
                self._apply(follower, entry.command, entry.seq, ts, entry.msg_id)
            if engine.seq >= catch_up_to and not caught_up.done():
                caught_up.set_result(None)

    def _apply(self, follower: _Follower, command: Command, seq: int, ts: int, msg_id: str | None) -> None:
        engine = follower.engine
        result = engine.apply(command, ts)
        if result.seq != seq:
            raise RuntimeError(f"{follower.log.stream} command {seq} became engine command {result.seq}")
        book = running_book(follower.round)
        if book is not None:
            book.on_result(result, engine)
        result.seq += follower.gseq_base
        origin = self._origins.pop(msg_id, None) if msg_id is not None else None
        for listener in self._listeners:
            try:
                listener(result, origin)
            except Exception:
                logger.exception("listener failed on command %d; the command stands", result.seq)
        if msg_id is not None:
            self._answered(msg_id, result)

    async def _apply_marker(self, follower: _Follower, marker: Marker, seq: int, msg_id: str | None) -> None:
        assert self._published is not None
        follower.round = await take(follower.engine, follower.round, marker, seq, self._published)
        index = self._followers.index(follower)
        for listener in self._marker_listeners:
            try:
                listener(index, marker)
            except Exception:
                logger.exception("marker listener failed on %s at command %d; the marker stands", marker.kind, seq)
        future = self._marking.pop((index, msg_id), None) if msg_id is not None else None
        if future is not None and not future.done():
            future.set_result(None)

    async def mark(self, markers: list[Marker], msg_id: str) -> None:
        """Append `markers[i]` to shard i's stream under `msg_id` (a copy another gateway appended counts as
        this one) and wait until this gateway's replicas applied them all; ENGINE_UNAVAILABLE if NATS does not
        take one (the others may stand: retrying with the same `msg_id` completes the step)."""
        loop = asyncio.get_running_loop()
        waits = []
        for index, (follower, marker) in enumerate(zip(self._followers, markers, strict=True)):
            future = self._marking.setdefault((index, msg_id), loop.create_future())
            waits.append(future)
            try:
                async with asyncio.timeout(APPEND_WAIT_S):
                    while True:
                        try:
                            appended = await follower.log.append_marker(marker, msg_id, ack_wait_s=APPEND_WAIT_S / 4)
                            break
                        except _NATS_DOWN:  # retried with the same id: appended at most once
                            await asyncio.sleep(RETRY_S)
            except TimeoutError:
                self._marking.pop((index, msg_id), None)
                raise ProtocolError(
                    ErrorCode.ENGINE_UNAVAILABLE,
                    f"the stream of shard {follower.log.shard} did not take the {marker.kind} "
                    f"within {APPEND_WAIT_S:.0f} s; retry",
                ) from None
            if appended.seq <= follower.engine.seq and not future.done():
                self._marking.pop((index, msg_id), None)
                future.set_result(None)  # a copy appended (and applied) before
        await asyncio.gather(*waits)

    async def _bridge(self, follower: _Follower, next_seq: int) -> None:
        """The stream no longer holds the commands before `next_seq` (cut by its limits or a purge while this
        replica was behind): take the shard's snapshot if it covers them, else stop following.

        Clients see the symbols' sequences jump, as after any gap, and resync from snapshots.
        """
        assert self._published is not None
        before = follower.engine.seq
        self._take(follower, await self._published.latest(follower.log.shard), 2**63)
        if follower.engine.seq < next_seq - 1:
            raise RuntimeError(
                f"{follower.log.stream} jumped from command {before} to {next_seq} and no snapshot covers the gap; "
                "restart this gateway once its shard has published a newer snapshot"
            )
        logger.warning(
            "%s jumped from command %d to %d: took the shard's snapshot at %d",
            follower.log.stream, before, next_seq, follower.engine.seq,
        )  # fmt: skip

    def _answered(self, msg_id: str, result: Result) -> None:
        if msg_id.startswith("place:"):
            self._answers[msg_id] = result
            if len(self._answers) > REMEMBERED_PLACES:
                self._answers.popitem(last=False)
        future = self._waiting.pop(msg_id, None)
        if future is not None and not future.done():
            future.set_result(result)

    def submit(self, command: Command, key: Hashable) -> asyncio.Future[Result]:
        """Append `command` (its part on each shard it concerns); resolves once the replicas have applied it."""
        self._check_queue(key)
        return self._start(command, key, None)

    def send(self, command: Command, key: Hashable, waiter: Waiter, last: bool = False) -> None:
        """As `submit`, telling `waiter` the outcome (a pass after the replicas applied it); `last` changes
        nothing here: every command waits for its round trip through the stream."""
        self._check_queue(key)
        self._start(command, key, waiter.origin).add_done_callback(partial(_tell, waiter))

    def _start(self, command: Command, key: Hashable, origin: object) -> asyncio.Future[Result]:
        """Append now, or once what must go first is done: an earlier command of `key` held back, the place
        this command names by client order id while that place is in flight, or this command's own top-up."""
        earlier = [f for f in (self._held.get(key), self._place_named(command)) if f is not None]
        if not earlier and not self.engine.top_up(command):
            answer = self._dispatch(command, key, origin)
        else:
            answer = asyncio.get_running_loop().create_future()
            held = asyncio.create_task(self._after(earlier, command, key, origin, answer))
            self._held[key] = held
            held.add_done_callback(partial(self._release, key))
        if isinstance(command, PlaceOrder) and isinstance(command.client_order_id, str):
            placing = (command.user_id, command.client_order_id)
            if placing not in self._placing:  # a copy sent while the first is in flight is refused: keep the first
                self._placing[placing] = answer
                answer.add_done_callback(partial(self._placed, placing))
        return answer

    def _place_named(self, command: Command) -> asyncio.Future[Result] | None:
        """The place in flight that a cancel or amend by client order id names: on `hftsim serve` it would be
        applied first, so here it goes first too (its replica then knows the order and its shard)."""
        if isinstance(command, (CancelOrder, AmendOrder)) and command.order_id is None:
            coid = command.client_order_id
            return self._placing.get((command.user_id, coid)) if isinstance(coid, str) else None
        return None

    def _placed(self, placing: tuple[int, str], answer: asyncio.Future[Result]) -> None:
        if self._placing.get(placing) is answer:
            del self._placing[placing]

    def _release(self, key: Hashable, held: asyncio.Task[None]) -> None:
        if self._held.get(key) is held:
            del self._held[key]

    async def _after(
        self,
        earlier: list[asyncio.Future[Result] | asyncio.Task[None]],
        command: Command,
        key: Hashable,
        origin: object,
        answer: asyncio.Future[Result],
    ) -> None:
        try:
            if earlier:
                await asyncio.wait(earlier)
            await self._top_up(command, key)
            placed = self._dispatch(command, key, origin)
            placed.add_done_callback(partial(_relay, answer))
            await asyncio.wait([placed])  # applied before the key's next command is routed (by its client order id)
        except asyncio.CancelledError:
            if not answer.done():
                answer.set_exception(ProtocolError(ErrorCode.ENGINE_UNAVAILABLE, "the gateway is stopping; retry"))
            raise
        except Exception as exc:  # the request is answered whatever happened; _tell words the unexpected
            if not answer.done():
                answer.set_exception(exc)

    async def _top_up(self, command: Command, key: Hashable) -> None:
        """Move a buy's (or a growing amend's) shortfall to its shard from the user's others, as planned now; a
        move refused or unfinished leaves the command to be answered on the cash its shard has."""
        moves = self.engine.top_up(command)
        if not moves:
            return
        assert isinstance(command, (PlaceOrder, AmendOrder))
        for source, dest, amount in moves:
            try:
                if not await self.move_cash(command.user_id, source, dest, amount, key):
                    return
            except ProtocolError:
                return

    async def move_cash(self, user_id: int, source: int, dest: int, amount: int, key: Hashable) -> bool:
        """Move `amount` of the user's free cash from shard `source` to `dest`: the debit appended to the
        source's stream, whose shard appends the credit to the destination's (`transfers`). True once this
        gateway's replica of `dest` holds the credit; False if the debit was refused or the credit is late."""
        shards = self.engine.layout.shards
        _, debited = self._enqueue(DebitCash(user_id, amount, shards[dest].name), key, source)
        result = await debited
        if result.rejection is not None:
            return False
        ref = result.seq - self._followers[source].gseq_base
        replica, name = self.engine.engines[dest], shards[source].name
        if replica.credited(user_id, name) >= ref:
            return True
        msg_id = credit_id(name, ref)
        credited = self._waiting.setdefault(msg_id, asyncio.get_running_loop().create_future())
        try:
            async with asyncio.timeout(CREDIT_WAIT_S):
                await asyncio.shield(credited)
        except TimeoutError:
            self._waiting.pop(msg_id, None)
        return replica.credited(user_id, name) >= ref

    def _dispatch(self, command: Command, key: Hashable, origin: object) -> asyncio.Future[Result]:
        parts = [self._enqueue(part, key, index) for index, part in route(command, self.engine)]
        for msg_id, _ in parts:
            self._origins[msg_id] = origin
        if len(parts) == 1:
            return parts[0][1]
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        asyncio.gather(*(future for _, future in parts)).add_done_callback(partial(_combined, answer))
        return answer

    def _check_queue(self, key: Hashable) -> None:
        if self._in_flight[key] >= self._queue_limit:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"{self._queue_limit} of your commands are already waiting; wait for their answers",
                retry_after_ms=10,
            )

    def _enqueue(self, command: Command, key: Hashable, shard: int) -> tuple[str, asyncio.Future[Result]]:
        msg_id = message_id(command, f"{self._prefix}:{next(self._ids)}")
        if msg_id in self._waiting:
            raise ProtocolError(ErrorCode.DUPLICATE_MSG, "this order is already being placed; wait for its answer")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self._in_flight[key] += 1
        task = asyncio.create_task(self._append(self._followers[shard], command, msg_id, future))
        task.add_done_callback(lambda _: self._done(key))
        return msg_id, future

    def _done(self, key: Hashable) -> None:
        self._in_flight[key] -= 1
        if self._in_flight[key] <= 0:
            del self._in_flight[key]

    async def _append(self, follower: _Follower, command: Command, msg_id: str, future: asyncio.Future[Result]) -> None:
        try:
            async with asyncio.timeout(APPEND_WAIT_S):
                while True:
                    try:
                        appended = await follower.log.append(command, msg_id, ack_wait_s=APPEND_WAIT_S / 4)
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
        if not appended.duplicate or future.done() or appended.seq > follower.engine.seq:
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
        tasks = [f.task for f in self._followers if f.task is not None] + list(self._held.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for msg_id in list(self._waiting):
            self._fail(msg_id, ProtocolError(ErrorCode.ENGINE_UNAVAILABLE, "the gateway is stopping; retry"))
        if self._nc is not None:
            await self._nc.close()


def _combined(answer: asyncio.Future[Result], parts: asyncio.Future[list[Result]]) -> None:
    """Settle `answer` with the parts' one result, or the first part's refusal."""
    if answer.done():
        return
    if parts.cancelled():
        answer.cancel()
    elif parts.exception() is not None:
        answer.set_exception(parts.exception())  # type: ignore[arg-type]
    else:
        answer.set_result(combine(parts.result()))


def _relay(answer: asyncio.Future[Result], done: asyncio.Future[Result]) -> None:
    if answer.done():
        return
    if done.cancelled():
        answer.cancel()
    elif done.exception() is not None:
        answer.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        answer.set_result(done.result())


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
