"""Rounds on a cluster gateway: every step is a marker in every shard's stream (cluster/markers.py).

A round start appends a `round_start` marker to each shard's stream: the
shard and every gateway's replica of it reset the accounts and books at
that marker. While the round runs, each gateway asks for a `sample` every
`rounds.sample_s` seconds under the id `round:<id>:sample:<k>`, so the
copies other gateways append are dropped and every shard takes sample k
once. A round end appends `round_end`: each shard's part of the scores is
frozen at that marker, at that shard's marks. Every gateway scores the
round from its replicas' `ShardRound`s once all of them ended, and writes
the archive: the same bytes on every gateway, as they hold the same
replicas. Only the gateway that asked (or whose timer ended a timed round)
answers the admin; the others learn of the round from the markers.

What differs from `hftsim serve`: a round's breaches count the engine's
refusals (order size, position, buying power) but not the gateway's own
(the rate limit and the open-order, active-volume and notional limits),
which only the refusing gateway sees; trade history and fills from before
a round stay listed; the agents of `hftsim bots` get no fresh accounts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..classroom.scoring import Score, ranked
from ..cluster.markers import Marker, ShardRound, combined
from ..engine import CancelAll
from ..protocol.errors import ErrorCode, ProtocolError
from .clock import now_ms
from .control import set_paused
from .rounds import RoundInfo, Rounds

if TYPE_CHECKING:
    from ..cluster.sequencer import StreamSequencer
    from .venue import Venue

log = logging.getLogger(__name__)


class StreamRounds:
    def __init__(self, venue: Venue, rounds: Rounds, sequencer: StreamSequencer) -> None:
        self._venue = venue
        self._rounds = rounds
        self._sequencer = sequencer
        self._timer: asyncio.TimerHandle | None = None
        self._ending: dict[int, asyncio.Future[tuple[RoundInfo, list[Score]]]] = {}
        sequencer.subscribe_markers(self._on_marker)

    def _all(self, marker: Marker) -> list[Marker]:
        return [marker] * len(self._sequencer.engine.engines)

    def recovered(self) -> None:
        """After the replicas caught up from the shards' snapshots: the round they hold, and the pause a
        round's end or a restore left (markers before a snapshot are not replayed)."""
        parts = self._sequencer.rounds
        running = [p for p in parts if p is not None and p.running]
        if running and self._rounds.current is None:
            self._rounds.current = _info(running[0])
        if self._rounds.current is not None and self._rounds.current.ends_at is not None:
            self._arm(self._rounds.current.round_id, self._rounds.current.ends_at)

    async def start(self, info: RoundInfo) -> RoundInfo:
        """Cancel every open order (their owners hear of it), then reset every shard at its marker."""
        await self._cancel_everything()
        await self._sequencer.mark(self._all(Marker("round_start", asdict(info))), f"round:{info.round_id}:start")
        current = self._rounds.current
        assert current is not None, "the start marker sets the round"
        return current

    async def end(self) -> tuple[RoundInfo, list[Score]]:
        current = self._rounds.current
        if current is None:
            raise ProtocolError(ErrorCode.NO_ROUND, "no round is running; start one with admin.round_start")
        round_id = current.round_id
        ended = self._ending.setdefault(round_id, asyncio.get_running_loop().create_future())
        marker = Marker("round_end", {"round_id": round_id, "ended_ts": now_ms()})
        await self._sequencer.mark(self._all(marker), f"round:{round_id}:end")
        await self._cancel_everything()
        return await ended

    def scores_now(self) -> list[Score]:
        """The running round scored at the replicas' current marks."""
        parts = [p for p in self._sequencer.rounds if p is not None]
        engines = self._sequencer.engine.engines
        pnls = [p.pnl(engine)[0] for p, engine in zip(self._sequencer.rounds, engines, strict=True) if p is not None]
        return ranked(*combined(parts, pnls))

    async def sample_forever(self) -> None:
        """Ask for sample k of the running round every `rounds.sample_s` (another gateway's copy counts)."""
        period_ms = int(self._venue.settings.rounds.sample_s * 1000)
        while True:
            await asyncio.sleep(period_ms / 1000)
            current = self._rounds.current
            if current is None or self._venue.control.paused:
                continue
            k = (now_ms() - current.started_ts) // period_ms
            marker = Marker("sample", {"round_id": current.round_id, "k": k})
            try:
                await self._sequencer.mark(self._all(marker), f"round:{current.round_id}:sample:{k}")
            except ProtocolError as exc:
                log.warning("round %d: sample %d not taken (%s)", current.round_id, k, exc.message)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    # Markers as every replica applies them ---------------------------------------

    def _on_marker(self, shard: int, marker: Marker) -> None:
        rounds = self._rounds
        if marker.kind == "round_start":
            if rounds.current is None or rounds.current.round_id != marker.round_id:
                rounds.current = RoundInfo(**marker.data)
                if rounds.current.ends_at is not None:
                    self._arm(rounds.current.round_id, rounds.current.ends_at)
            set_paused(self._venue, False)
        elif marker.kind == "restore":
            set_paused(self._venue, True)
        elif marker.kind == "round_end":
            parts = self._sequencer.rounds
            if all(p is not None and p.round_id == marker.round_id and not p.running for p in parts):
                self._finish([p for p in parts if p is not None])

    def _finish(self, parts: list[ShardRound]) -> None:
        """Every shard ended the round: score it over all of them, archive it, pause."""
        rounds = self._rounds
        info = _info(parts[0])
        final = ranked(*combined(parts, [p.final or {} for p in parts]))
        info.status = "ended"
        info.ended_ts = int(parts[0].info["ended_ts"])
        price = self._venue.renderer.price
        info.marks = {sym: price(sym, mark) for p in parts for sym, mark in (p.marks or {}).items()}
        rounds.archive(info, final)
        if rounds.current is not None and rounds.current.round_id == info.round_id:
            rounds.current = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        set_paused(self._venue, True)
        waiting = self._ending.pop(info.round_id, None)
        if waiting is not None and not waiting.done():
            waiting.set_result((info, final))
        log.info("round %d ended on every shard", info.round_id)

    # Helpers -----------------------------------------------------------------------

    async def _cancel_everything(self) -> None:
        market = self._venue.engine
        users = [u for u in market.user_ids() if market.open_orders(u)]
        await asyncio.gather(*(self._sequencer.submit(CancelAll(user_id=u), ("round", u)) for u in users))

    def _arm(self, round_id: int, ends_at: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (ends_at - now_ms()) / 1000)
        self._timer = asyncio.get_running_loop().call_later(delay, self._end_on_time, round_id)

    def _end_on_time(self, round_id: int) -> None:
        self._timer = None
        current = self._rounds.current
        if current is not None and current.round_id == round_id:
            asyncio.get_running_loop().create_task(self._end_quietly(), name=f"hftsim-round-{round_id}-end")

    async def _end_quietly(self) -> None:
        try:
            await self.end()
        except ProtocolError as exc:  # another gateway's end came first, or NATS is away (the next gateway's timer)
            log.warning("the timed end of the round was not appended here (%s)", exc.message)


def _info(part: ShardRound) -> RoundInfo:
    """The round as its start marker described it."""
    keys = ("round_id", "name", "status", "started_ts", "ends_at")
    return RoundInfo(**{k: part.info[k] for k in keys})
