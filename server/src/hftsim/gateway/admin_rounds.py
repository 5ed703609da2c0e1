"""Round ops: list and read rounds (anyone), start and end them (admins)."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Any

from ..classroom.scoring import Score
from ..protocol import payloads as p
from ..protocol.envelope import Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.roles import Role
from .dispatch import Context, Dispatcher, Outcome, op
from .rounds import RoundInfo, Rounds

MAX_ROUND_S = 7 * 24 * 3600


def _rows(rows: list[dict[str, Any]], include_bots: bool) -> list[dict[str, Any]]:
    """Score rows, ranked again among those shown."""
    shown = [r for r in rows if include_bots or not r["is_bot"]]
    return [{**r, "rank": rank} for rank, r in enumerate(shown, start=1)]


@op("rounds.list")
def _list(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    rounds = d.venue.rounds
    current = rounds.current
    return {
        "current": asdict(current) if current else None,
        "rounds": [asdict(r) for r in rounds.archived()],
    }


@op("rounds.get")
def _get(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    round_id = p.opt_int(req.payload, "round_id", lo=1)
    include_bots = p.bool_field(req.payload, "include_bots")
    info, rows = d.venue.rounds.result(round_id)
    return {"round": asdict(info), "scores": _rows(rows, include_bots)}


@op("admin.round_start", changes_state=True)
def _start(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    duration = req.payload.get("duration_s")
    if duration is not None:
        ok = isinstance(duration, (int, float)) and not isinstance(duration, bool) and math.isfinite(duration)
        if not ok or not 0 < duration <= MAX_ROUND_S:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, f"field 'duration_s' must be a number above 0 to {MAX_ROUND_S}"
            )
    info = d.venue.rounds.begin(p.opt_str(req.payload, "name", max_len=48), duration)
    if isinstance(info, RoundInfo):
        return {"round": asdict(info)}
    return _started(info)


async def _started(starting: Awaitable[RoundInfo]) -> dict[str, Any]:
    return {"round": asdict(await starting)}


@op("admin.round_end", changes_state=True)
def _end(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    rounds = d.venue.rounds
    include_bots = p.bool_field(req.payload, "include_bots")
    ending = rounds.finish()
    if isinstance(ending, tuple):
        return _ended(rounds, ending, include_bots)
    return _ended_later(rounds, ending, include_bots)


def _ended(rounds: Rounds, ended: tuple[RoundInfo, list[Score]], include_bots: bool) -> dict[str, Any]:
    info, final = ended
    return {"round": asdict(info), "scores": _rows(rounds.rows(final), include_bots)}


async def _ended_later(
    rounds: Rounds, ending: Awaitable[tuple[RoundInfo, list[Score]]], include_bots: bool
) -> dict[str, Any]:
    return _ended(rounds, await ending, include_bots)
