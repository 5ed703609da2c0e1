"""Rounds of a competition: each starts from fresh accounts and ends with a scored, archived result.

Starting a round cancels every open order, then replaces the market with a
fresh one (control.replace_market: every account back to its opening cash,
no positions, empty books; the agents' accounts reopened) and resumes
trading. Ending it pauses the market, cancels every open order, closes
every position out at its mark (classroom/scoring.py has the rules) and
writes the scores to `DATA_DIR/rounds/ROUND.json`; the market stays
paused until the next round starts. A round with a duration ends by
itself. A restart during a round keeps the round, its accounts and its
counts (volume, fees, breaches, PnL samples): the round's book is part of
the market's snapshots and is fed the journal's commands replayed after
the last one (venue.py). What a crash loses is what no command records:
the samples and the gateway's refusals (rate and order limits) since the
last snapshot; a clean stop writes one last snapshot, so it loses nothing.

On a cluster gateway the same ops drive markers in every shard's stream
instead (stream_rounds.py): the reset and the scores happen at the same
stream position on every gateway and shard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..classroom.scoring import RoundBook, Score, mark_prices, scores
from ..engine import CancelAll, Engine
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.history import FillHistory, MarketHistory
from ..store.users import User
from .control import ensure_replaceable, replace_market, set_paused

if TYPE_CHECKING:
    from .stream_rounds import StreamRounds
    from .venue import Venue

log = logging.getLogger(__name__)

ROUNDS_DIR = "rounds"
CURRENT = "current.json"
NAME = re.compile(r"^[A-Za-z0-9 ._:-]{1,48}$")


@dataclass(slots=True)
class RoundInfo:
    round_id: int
    name: str
    status: Literal["running", "ended"]
    started_ts: int
    ends_at: int | None
    """When a timed round ends by itself (ms); None for one ended by hand."""
    ended_ts: int | None = None
    marks: dict[str, str] | None = None
    """The close-out price of each symbol, once ended."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class Rounds:
    def __init__(self, venue: Venue, data_dir: Path) -> None:
        self._venue = venue
        self._dir = data_dir / ROUNDS_DIR
        self.current: RoundInfo | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._sampler: asyncio.Task[None] | None = None
        self.cluster: StreamRounds | None = None
        """On a cluster gateway, the rounds as markers in the shards' streams (set by Venue.build)."""
        current = self._dir / CURRENT
        if venue.journal is None:
            pass  # a cluster gateway learns the round from its shards' streams (StreamRounds.recovered)
        elif current.is_file():
            self.current = RoundInfo(**self._load(current)["round"])
            if venue.round_book is None:  # a snapshot written before rounds were saved in them
                venue.round_book = RoundBook()
        else:
            venue.round_book = None  # the round ended after the last snapshot

    @property
    def book(self) -> RoundBook | None:
        """The running round's counts, kept by the venue with the market (None: no round running)."""
        return self._venue.round_book

    def breach(self, user_id: int) -> None:
        """A message refused by the rate limit; the snapshot process counts it too (no command records it)."""
        if self.book is not None:
            self.book.breach(user_id)
            if self._venue.snapshotter is not None:
                self._venue.snapshotter.breach(user_id)

    def sample(self) -> None:
        """Every participant's PnL now, into the round's book; the snapshot process takes the same sample."""
        venue = self._venue
        if self.book is not None and not venue.control.paused:
            self.book.sample(venue.engine)
            if venue.snapshotter is not None:
                venue.snapshotter.sample(venue.engine.seq)

    def breach_by(self, user: User | None) -> None:
        """A message refused by the rate limit; counted once its sender has logged in."""
        if user is not None:
            self.breach(user.user_id)

    # Lifecycle ---------------------------------------------------------------

    def start_background(self) -> None:
        """In the running loop: sample PnL, and arm the end of a timed round recovered at start-up."""
        loop = asyncio.get_running_loop()
        if self.cluster is not None:
            self._sampler = loop.create_task(self.cluster.sample_forever(), name="hftsim-round-samples")
            self.cluster.recovered()
            return
        self._sampler = loop.create_task(self._sample_forever(), name="hftsim-round-samples")
        if self.current is not None and self.current.ends_at is not None:
            self._arm(self.current.ends_at)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._sampler is not None:
            self._sampler.cancel()
        if self.cluster is not None:
            self.cluster.stop()

    def begin(self, name: str | None, duration_s: float | None) -> RoundInfo | Awaitable[RoundInfo]:
        """Start a round: at once in one process, through the shards' streams in a cluster."""
        if self.current is not None:
            raise ProtocolError(ErrorCode.ROUND_RUNNING, f"round {self.current.round_id} is running; end it first")
        if name is not None and not NAME.match(name):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'name': 1-48 letters, digits, spaces or '._:-'")
        if self.cluster is not None:
            round_id = max((r.round_id for r in self.archived()), default=0) + 1
            started = _now_ms()
            ends_at = started + int(duration_s * 1000) if duration_s is not None else None
            return self.cluster.start(RoundInfo(round_id, name or f"Round {round_id}", "running", started, ends_at))
        return self.start(name, duration_s)

    def finish(self) -> tuple[RoundInfo, list[Score]] | Awaitable[tuple[RoundInfo, list[Score]]]:
        """End the running round: at once in one process, through the shards' streams in a cluster."""
        return self.cluster.end() if self.cluster is not None else self.end()

    def start(self, name: str | None, duration_s: float | None) -> RoundInfo:
        if self.current is not None:
            raise ProtocolError(ErrorCode.ROUND_RUNNING, f"round {self.current.round_id} is running; end it first")
        if name is not None and not NAME.match(name):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'name': 1-48 letters, digits, spaces or '._:-'")
        venue = self._venue
        ensure_replaceable(venue)
        self._cancel_everything()
        old = venue.engine
        replace_market(
            venue,
            (
                Engine(old.instruments, old.limits, initial_cash=old.initial_cash),
                MarketHistory([i.sym for i in old.instruments]),
                FillHistory(),
                RoundBook(),
            ),
        )
        if venue.agents is not None:
            for command in venue.agents.sim.open_accounts(venue.engine.cash_decimals):
                venue.sequencer.submit_now(command)
        round_id = max((r.round_id for r in self.archived()), default=0) + 1
        started = _now_ms()
        ends_at = started + int(duration_s * 1000) if duration_s is not None else None
        self.current = RoundInfo(round_id, name or f"Round {round_id}", "running", started, ends_at)
        self._save(CURRENT, {"round": asdict(self.current)})
        if ends_at is not None:
            self._arm(ends_at)
        set_paused(venue, False)
        log.info("round %d started (%s)", round_id, self.current.name)
        return self.current

    def end(self) -> tuple[RoundInfo, list[Score]]:
        """Pause, cancel every order, close out at the marks, archive; the round and its scores."""
        current, book = self.current, self.book
        if current is None or book is None:
            raise ProtocolError(ErrorCode.NO_ROUND, "no round is running; start one with admin.round_start")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        venue = self._venue
        set_paused(venue, True)
        self._cancel_everything()
        marks = book.sample(venue.engine)
        final = scores(book, venue.engine, marks)
        current.status = "ended"
        current.ended_ts = _now_ms()
        current.marks = {sym: venue.renderer.price(sym, price) for sym, price in marks.items()}
        self.archive(current, final)
        (self._dir / CURRENT).unlink(missing_ok=True)
        self.current = venue.round_book = None
        venue.restart_snapshots()
        log.info("round %d ended", current.round_id)
        return current, final

    def archive(self, info: RoundInfo, final: list[Score]) -> None:
        """Write an ended round and its scores (gateways sharing a data dir write the same bytes)."""
        self._save(f"{info.round_id:06d}.json", {"round": asdict(info), "scores": self.rows(final)})

    # Reading -----------------------------------------------------------------

    def archived(self) -> list[RoundInfo]:
        if not self._dir.is_dir():
            return []
        found = [RoundInfo(**self._load(p)["round"]) for p in sorted(self._dir.glob("[0-9]*.json"))]
        return sorted(found, key=lambda r: r.round_id)

    def result(self, round_id: int | None) -> tuple[RoundInfo, list[dict[str, Any]]]:
        """A round and its score rows: the running one scored now (None), or an archived one."""
        if round_id is None or (self.current is not None and round_id == self.current.round_id):
            if self.current is not None and self.cluster is not None:
                return self.current, self.rows(self.cluster.scores_now())
            if self.current is None or self.book is None:
                raise ProtocolError(ErrorCode.NO_ROUND, "no round is running; name an ended one with 'round_id'")
            engine = self._venue.engine
            return self.current, self.rows(scores(self.book, engine, mark_prices(engine)))
        path = self._dir / f"{round_id:06d}.json"
        if not path.is_file():
            raise ProtocolError(ErrorCode.UNKNOWN_ROUND, f"no round {round_id}; rounds.list lists them")
        data = self._load(path)
        return RoundInfo(**data["round"]), list(data["scores"])

    def rows(self, final: list[Score]) -> list[dict[str, Any]]:
        users = {u.user_id: u for u in self._venue.users.all()}
        cash = self._venue.renderer.cash
        out = []
        for rank, s in enumerate(final, start=1):
            user = users.get(s.user_id)
            out.append(
                {
                    "rank": rank,
                    "user_id": s.user_id,
                    "username": user.username if user else f"user-{s.user_id}",
                    "is_bot": bool(user and user.is_bot),
                    "pnl": cash(s.pnl),
                    "fees": cash(s.fees),
                    "max_drawdown": cash(s.max_drawdown),
                    "sharpe": None if s.sharpe is None else f"{s.sharpe:.4f}",
                    "volume": s.volume,
                    "notional": cash(s.notional),
                    "fills": s.fills,
                    "breaches": s.breaches,
                }
            )
        return out

    # Helpers -----------------------------------------------------------------

    def _cancel_everything(self) -> None:
        """Cancel every open order, journaled; the agents hear of their own cancels."""
        venue = self._venue
        for user_id in venue.engine.user_ids():
            if venue.engine.open_orders(user_id):
                result = venue.sequencer.submit_now(CancelAll(user_id=user_id))
                if venue.agents is not None:
                    venue.agents.sim.on_result(result)

    def _arm(self, ends_at: int) -> None:
        delay = max(0.0, (ends_at - _now_ms()) / 1000)
        self._timer = asyncio.get_running_loop().call_later(delay, self._end_on_time)

    def _end_on_time(self) -> None:
        self._timer = None
        if self.current is not None:
            self.end()

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self._venue.settings.rounds.sample_s)
            self.sample()

    def _save(self, name: str, data: dict[str, Any]) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / name
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # gateways sharing the directory write side by side
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
