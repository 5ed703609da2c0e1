"""The read models fed from the engine's results: the trade tape and candles, the users' fills, the round's book.

`record` feeds them one applied command: on replay at start, in a cluster
shard as it follows its stream, and, through `Recorder`, in a process's
venue as its sequencer applies each command. `Recorder` is the listener
such a venue subscribes to its sequencer; it also asks for a snapshot every
`journal.snapshot_every` commands.

Compiled with the order path (hftsim/compiled.py): the sequencer calls the
listener for every command, and as plain Python its calls and its walk over
the events cost about a twentieth of a pipelined order's instructions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from ..classroom.scoring import RoundBook
from ..engine import Fill, Result
from ..engine.queries import MarketQueries
from ..store.history import FillHistory, MarketHistory

if TYPE_CHECKING:
    from .venue import Venue

Served: TypeAlias = "tuple[MarketQueries, MarketHistory, FillHistory, RoundBook | None]"
"""The market a venue serves (`Venue.market`): a cluster gateway's engine is its replicas of every shard."""


def record(result: Result, market: Served) -> None:
    """Feed one applied command's result to the read models."""
    engine, history, fills, round_book = market
    for ev in result.events:
        if type(ev) is Fill:
            fills.on_fill(ev)
            history.on_trade(ev.trade())
    if round_book is not None:
        round_book.on_result(result, engine)


class Recorder:
    """A venue's listener on its sequencer: each result to the venue's read models, and a snapshot now and then.

    It holds the venue's engine, history and fills, which stay the venue's
    for good: an admin's restore and a new round put the new market's state
    into them (control.transplant). The round's book is read off the venue
    at each result, since a round's start and end replace it. (The venue is
    a Python class: each attribute read off it costs about 160 instructions,
    for every command.)
    """

    def __init__(self, venue: Venue, snapshot_every: int, checkpoint: Callable[[], None] | None) -> None:
        """`checkpoint` is called soon after every `snapshot_every`-th command (None: no snapshots)."""
        self._venue = venue
        self._engine = venue.engine
        self._history = venue.history
        self._fills = venue.fills
        self._every = snapshot_every
        self._checkpoint = checkpoint

    def on_result(self, result: Result, origin: object) -> None:
        record(result, (self._engine, self._history, self._fills, self._venue.round_book))
        checkpoint = self._checkpoint
        if checkpoint is not None and result.seq % self._every == 0:
            asyncio.get_running_loop().call_soon(checkpoint)
