"""Sim control ops: pause, resume, speed, step, snapshots, and the status everyone may read."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Any

from ..protocol import payloads as p
from ..protocol.envelope import Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.roles import Role
from .control import set_paused, status
from .dispatch import Context, Dispatcher, Outcome, op

MAX_SPEED = 100.0
MAX_STEP_S = 3600.0


def _number(payload: dict[str, Any], name: str, lo: float, hi: float, *, lo_open: bool = False) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (lo < value if lo_open else lo <= value) or value > hi:
        bound = f"above {lo:g}" if lo_open else f"from {lo:g}"
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field '{name}' must be a number {bound} to {hi:g}")
    return float(value)


@op("admin.sim", changes_state=True)
async def _sim(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    """Agents' intensity and clock speed, the venue's pause, and stepping while paused."""
    venue, payload = d.venue, req.payload
    intensity = _number(payload, "intensity", 0, 100)
    speed = _number(payload, "speed", 0, MAX_SPEED, lo_open=True)
    step_s = _number(payload, "step_s", 0, MAX_STEP_S, lo_open=True)
    paused = payload.get("paused")
    if paused is not None and not isinstance(paused, bool):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'paused' must be true or false")
    agents = venue.agents
    if agents is None and (intensity is not None or speed is not None or step_s is not None):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "this server runs without in-process agents (--no-bots)")
    if step_s is not None and not (paused if paused is not None else venue.control.paused):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'step_s': pause the market first ('paused': true)")
    if paused is not None:
        set_paused(venue, paused)
    if agents is not None:
        if intensity is not None:
            agents.set_intensity(intensity)
        if speed is not None:
            agents.speed = speed
    steps = await agents.advance(step_s) if agents is not None and step_s is not None else 0
    return {**status(venue), "stepped": steps}


@op("market.status")
def _status(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    return status(d.venue)


@op("admin.snapshot", changes_state=True)
def _snapshot(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    info = d.venue.control.save(d.venue, p.opt_str(req.payload, "name", max_len=48))
    return {"snapshot": asdict(info)}


@op("admin.snapshots")
def _snapshots(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    return {"snapshots": [asdict(i) for i in d.venue.control.snapshots()]}


@op("admin.restore", changes_state=True)
def _restore(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    snapshot_id = p.int_field(req.payload, "snapshot_id", lo=1)
    restored = d.venue.control.restore(d.venue, snapshot_id)
    if isinstance(restored, str):
        return {**status(d.venue), "snapshot_id": snapshot_id, "state_hash": restored}
    return _restored_later(d, restored, snapshot_id)


async def _restored_later(d: Dispatcher, restoring: Awaitable[str], snapshot_id: int) -> dict[str, Any]:
    restored = await restoring
    return {**status(d.venue), "snapshot_id": snapshot_id, "state_hash": restored}
