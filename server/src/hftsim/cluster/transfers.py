"""Cash moved between a user's shard accounts: a debit on one stream, its credit on the other.

A user's cash is split into one account per shard (`layout`), and a buy is
checked against its own shard's account only. When that account is short
but the user's others have free cash, the gateway moves the shortfall
before it appends the order (`ShardedMarket.top_up`, `StreamSequencer`):

1. The gateway appends `DebitCash(user, amount, to=<destination shard>)`
   to the source shard's stream. The engine refuses it unless the free
   cash covers it, so every open order stays covered.
2. The source shard, on applying an accepted debit, appends
   `CreditCash(user, amount, source=<its name>, ref=<the debit's stream
   sequence>)` to the destination's stream under the `Nats-Msg-Id`
   `credit_id(source, ref)` (the `Outbox`). Only the source shard appends
   credits, one at a time in the order of its stream, so the credits from
   one source reach each destination in increasing `ref`, and the engine
   refuses any credit whose `ref` is not above the last it took from that
   source: a retried or repeated credit is taken once, however late, and
   across round starts and restores (the engine keeps the last `ref` apart
   from the accounts they replace).
3. A debit whose credit never got appended (the shard was killed between
   the two, or NATS was away) is completed when the shard starts again: it
   replays its stream from its snapshot and hands every accepted debit to
   the outbox again; the copies of credits already taken are refused. A
   snapshot is written only once the outbox has appended the credit of
   every debit it covers, so no debit is left behind in a snapshot.

The gateway waits for the credit in its own replica of the destination,
then appends the order. Until then the moved cash is on neither account;
the user's total (`account.get`) shows it again once credited.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from ..engine import CreditCash, DebitCash
from .commandlog import CommandLog

logger = logging.getLogger(__name__)

RETRY_S = 0.2
"""Pause before appending a credit again while its destination's stream does not answer."""


def credit_id(source: str, ref: int) -> str:
    """The credit's `Nats-Msg-Id`: derived from its debit, so a second append within JetStream's window adds nothing."""
    return f"credit:{source}:{ref}"


class Outbox:
    """A shard's credits still to append, appended one at a time in the order of its debits."""

    def __init__(self, js: JetStreamContext, source: str, shards: tuple[str, ...], replicas: int = 1) -> None:
        self._js = js
        self._source = source
        self._shards = shards
        self._replicas = replicas
        self._logs: dict[str, CommandLog] = {}
        self._pending: deque[tuple[str, CreditCash]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def idle(self) -> bool:
        """Every credit handed over so far is in its destination's stream."""
        return self._idle.is_set()

    def debited(self, debit: DebitCash, ref: int) -> None:
        """Queue the credit of the accepted debit applied as command `ref`: to its destination, or back to this
        shard's own account when it names no shard of the layout (the cash is never left on neither)."""
        to = debit.to if debit.to in self._shards else self._source
        if to != debit.to:
            logger.error("debit %d names no shard of the layout (%r): credited back to %s", ref, debit.to, to)
        self._pending.append((to, CreditCash(debit.user_id, debit.amount, self._source, ref)))
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        await self._idle.wait()

    async def run(self) -> None:
        """Append the queued credits in order, each retried until its stream takes it; until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                to, credit = self._pending[0]
                await self._append(to, credit)
                self._pending.popleft()
            self._idle.set()

    async def _append(self, to: str, credit: CreditCash) -> None:
        log = self._logs.get(to)
        while True:
            try:
                if log is None:
                    log = CommandLog(self._js, to, self._replicas)
                    await log.ensure()
                    self._logs[to] = log
                await log.append(credit, credit_id(credit.source, credit.ref))
                return
            except (nats.errors.Error, nats.js.errors.Error) as exc:
                logger.warning("credit %d to %s not appended yet (%s); retrying", credit.ref, to, exc)
                await asyncio.sleep(RETRY_S)
