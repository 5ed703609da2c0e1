"""The one writer: every state change passes through the sequencer, journal first.

Commands wait in per-user queues (`FairQueue`) and are drained in batches
on the event loop: the commands that arrived during one pass of the loop
are encoded, written to the journal in one write (group commit), and only
then applied to the engine and handed to the listeners (read models, then
fan-out). So nothing a client hears of is missing from the journal, and a
command the journal cannot represent never reaches the engine. What the
batch queued for the sockets leaves as it ends (`Outgoing`).

A lone command skips the wait for the next pass: when a socket hands over
the last request of its read (`send(last=True)`) and nothing else is
queued, it is journaled, applied and answered at once, so its ack leaves
in the pass its frame arrived in (one wake-up, one read, one journal
write, one socket write). A command that finds others queued, or a read
that brings several, waits for the drain as before: group commit and the
round-robin between users hold whenever there is more than one command.

With `journal.durability = "fsync"` a group is applied only once its
fdatasync, run in a thread, has returned; meanwhile the loop goes on
serving and the next commands gather in the queues, to share the next
write and sync.

Fail closed: when a journal write fails, the batch is refused with
STORE_UNAVAILABLE (the engine has not seen it), every later command is
refused at once, and a probe retries the store until it takes writes
again; then the venue accepts commands by itself. Reads never stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, Protocol

from ..engine import Command, Engine, Result
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.codec import encode
from ..store.errors import CodecError, StoreUnavailable
from ..store.journal import Journal
from .clock import Clock
from .fairqueue import FairQueue

log = logging.getLogger(__name__)

Listener = Callable[[Result, object], None]
"""Called with each applied command's result and its waiter's `origin` (None when it has none)."""

BATCH_MAX: Final = 64
"""Commands per group commit: bounds how long one drain holds the loop (at ~50 µs a command, ~3 ms; at 512 a
backlog after a moment off the CPU was drained in one pass of 20 ms and more, every socket waiting)."""
PROBE_S = 0.5
"""Seconds between attempts to write to a failed store."""


class Waiter:
    """Who hears a command's outcome, at once in the pass that applies it (after the listeners).

    `origin` names the connection the command came from, so the fan-out can
    leave out of its events what that connection's response already says.
    A base class, not a protocol: compiled, the sequencer calls each of its
    subclasses' methods as a C function, where a protocol's are looked up by
    name on every command.
    """

    __slots__ = ("origin",)

    def __init__(self, origin: object) -> None:
        self.origin = origin

    def resolved(self, result: Result) -> None:
        """The command was applied: `result` is what the engine made of it (a rejection included)."""
        raise NotImplementedError

    def refused(self, error: ProtocolError) -> None:
        """The command never reached the engine (a full queue, the store down, a field the journal refuses)."""
        raise NotImplementedError


class Outgoing(Protocol):
    """Where the answers and events of a batch queue up: held while the batch is applied, sent as it ends."""

    def hold(self) -> None: ...

    def release(self) -> None: ...


class Promise(Waiter):
    """A waiter that settles a future, for callers that await the result."""

    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Result]) -> None:
        super().__init__(None)
        self.future = future

    def resolved(self, result: Result) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def refused(self, error: ProtocolError) -> None:
        if not self.future.done():
            self.future.set_exception(error)


_Waiting = tuple[Command, Waiter | None]
"""A queued command and who hears its outcome (a plain tuple: one is queued per command)."""


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        journal: Journal | None = None,
        *,
        queue_limit: int = 256,
        outgoing: Outgoing | None = None,
    ) -> None:
        self.engine = engine
        self.journal = journal
        self.clock = Clock()
        self._listeners: list[Listener] = []
        self._queue: FairQueue[_Waiting] = FairQueue(queue_limit)
        self._drain_scheduled = False
        self._applying = False
        """A batch is being applied: a command sent meanwhile waits for the next drain."""
        self.outgoing = outgoing
        """Sent what the listeners and waiters of a batch queued, once the batch is applied (the venue's sockets)."""
        self.store_error: str | None = None
        """Why the journal refuses writes; None while it works."""
        self._probe: asyncio.Task[None] | None = None
        self._syncing: asyncio.Future[None] | None = None
        """The fdatasync of the group written last, while it runs (`fsync` durability)."""
        self._sync_thread: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Nothing to start: the journal was opened and replayed when the venue was built."""

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def now(self) -> int:
        """Milliseconds, never going backwards even if the wall clock does."""
        return self.clock.now()

    def submit(self, command: Command, key: Hashable) -> asyncio.Future[Result]:
        """Queue `command` behind `key`'s earlier ones; the future resolves once it is journaled and applied.

        Raises ProtocolError at once when the store is down or `key` already
        has its limit of commands waiting.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.send(command, key, Promise(future))
        return future

    def send(self, command: Command, key: Hashable, waiter: Waiter, last: bool = False) -> None:
        """Queue `command` behind `key`'s earlier ones; `waiter` hears its outcome once journaled and applied.

        `last`: the sender hands nothing more over in this pass (the last frame of its read). When nothing
        else waits, the command is then journaled and applied at once, and its answer leaves in the very
        pass its frame arrived in, instead of two passes of the loop later. Otherwise it waits for the
        drain at the next pass, with every other command of this one (one write, served round-robin).
        Raises ProtocolError at once, as `submit` does.
        """
        if self.store_error is not None:
            raise self._unavailable()
        queue = self._queue
        if last and not len(queue) and not self._drain_scheduled and self._syncing is None and not self._applying:
            self._run([(command, waiter)], inline=False)  # nothing to be fair to: the queue's push and pop skipped
            return
        if not queue.push(key, (command, waiter)):
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"{queue.per_key_limit} of your commands are already waiting; wait for their answers",
                retry_after_ms=10,
            )
        if self._drain_scheduled:
            return
        self._drain_scheduled = True
        asyncio.get_running_loop().call_soon(self._drain)

    def submit_now(self, command: Command) -> Result:
        """Journal and apply one command at once, outside the queues: start-up and tools, not clients."""
        results = self._run([(command, None)], inline=True)
        if not results:
            raise self._unavailable() if self.store_error is not None else ValueError(f"cannot journal {command!r}")
        return results[0]

    def _drain(self) -> None:
        self._drain_scheduled = False
        if self._syncing is not None:
            return  # the sync's completion drains what gathered meanwhile
        batch = self._queue.pop(BATCH_MAX)
        if self._queue:
            self._drain_scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)
        if self.store_error is not None:
            error = self._unavailable()
            for waiting in batch:
                _fail(waiting, error)
            return
        self._run(batch, inline=False)

    def _run(self, batch: list[_Waiting], *, inline: bool) -> list[Result]:
        """Encode, journal, then apply `batch`; commands that cannot be journaled are refused alone.

        With a journal that syncs, the batch is applied when its sync (in a thread) returns, and this
        returns no results; `inline` (start-up and tools) syncs and applies at once.
        """
        ts = self.clock.now()
        seq = self.engine.seq
        records: list[tuple[int, int, bytes]] = []
        admitted: list[_Waiting] = []
        for waiting in batch:
            try:
                data = encode(waiting[0])
            except CodecError as exc:
                _fail(waiting, ProtocolError(ErrorCode.INVALID_FIELD, f"a field is out of range: {exc}"))
                continue
            seq += 1
            records.append((seq, ts, data))
            admitted.append(waiting)
        journal = self.journal
        if journal is None or not records:
            return self._apply(admitted, records, ts)
        try:
            journal.write(records)
            if journal.syncs and inline:
                journal.sync()
        except StoreUnavailable as exc:
            self._refuse(admitted, str(exc))
            return []
        if not journal.syncs or inline:
            return self._apply(admitted, records, ts)
        if self._sync_thread is None:
            self._sync_thread = ThreadPoolExecutor(1, thread_name_prefix="hftsim-journal-sync")
        syncing = asyncio.get_running_loop().run_in_executor(self._sync_thread, journal.sync)
        self._syncing = syncing
        syncing.add_done_callback(lambda done: self._synced(done, admitted, records, ts))
        return []

    def _synced(
        self, done: asyncio.Future[None], admitted: list[_Waiting], records: list[tuple[int, int, bytes]], ts: int
    ) -> None:
        self._syncing = None
        error = done.exception() if not done.cancelled() else StoreUnavailable("journal sync canceled")
        if error is None:
            self._apply(admitted, records, ts)
        else:
            self._refuse(admitted, str(error))
        if self._queue and not self._drain_scheduled:
            self._drain_scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _refuse(self, admitted: list[_Waiting], reason: str) -> None:
        self._store_failed(reason)
        error = self._unavailable()
        for waiting in admitted:
            _fail(waiting, error)

    def _apply(self, admitted: list[_Waiting], records: list[tuple[int, int, bytes]], ts: int) -> list[Result]:
        """Apply a journaled batch; what its listeners and waiters queued for the sockets is sent as it ends."""
        outgoing = self.outgoing
        if outgoing is not None:
            outgoing.hold()
        self._applying = True
        try:
            return self._apply_each(admitted, records, ts)
        finally:
            self._applying = False
            if outgoing is not None:
                outgoing.release()

    def _apply_each(self, admitted: list[_Waiting], records: list[tuple[int, int, bytes]], ts: int) -> list[Result]:
        results = []
        for (command, waiter), (expected, _, _) in zip(admitted, records, strict=True):
            result = self.engine.apply(command, ts)
            if result.seq != expected:
                raise RuntimeError(f"engine sequence {result.seq} does not match the journal's {expected}")
            origin = None if waiter is None else waiter.origin
            for listener in self._listeners:
                try:
                    listener(result, origin)
                except Exception:
                    log.exception("listener failed on command %d; the command stands", result.seq)
            if waiter is not None:
                try:
                    waiter.resolved(result)
                except Exception:
                    log.exception("the answer to command %d failed; the command stands", result.seq)
            results.append(result)
        return results

    def _unavailable(self) -> ProtocolError:
        return ProtocolError(
            ErrorCode.STORE_UNAVAILABLE,
            f"the market's journal cannot be written ({self.store_error}); state-changing requests are refused "
            "and nothing was changed; reads still work; retry once the operator has fixed the store",
        )

    def _store_failed(self, reason: str) -> None:
        self.store_error = reason
        log.error("journal write failed (%s): refusing state-changing commands until the store works again", reason)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # start-up: there is nobody to serve until it works
            return
        if self._probe is None or self._probe.done():
            self._probe = loop.create_task(self._probe_until_writable(), name="hftsim-store-probe")

    async def _probe_until_writable(self) -> None:
        assert self.journal is not None
        while self.store_error is not None:
            await asyncio.sleep(PROBE_S)
            if self.journal.probe():
                log.warning("the journal takes writes again: accepting state-changing commands")
                self.store_error = None

    async def stop(self) -> None:
        """Run what is queued, then stop probing; called once the server takes no more requests."""
        while self._queue or self._syncing is not None:
            if self._syncing is not None:
                await asyncio.wait([self._syncing])
            else:
                self._drain()
        if self._probe is not None:
            self._probe.cancel()
        if self._sync_thread is not None:
            self._sync_thread.shutdown()


def _fail(waiting: _Waiting, error: ProtocolError) -> None:
    waiter = waiting[1]
    if waiter is not None:
        waiter.refused(error)
