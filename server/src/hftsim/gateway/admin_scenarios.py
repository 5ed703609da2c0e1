"""Scenario ops for admins: list the scenario files, start one, stop the one playing."""

from __future__ import annotations

from typing import Any

from ..protocol import payloads as p
from ..protocol.envelope import Request
from ..protocol.roles import Role
from .dispatch import Context, Dispatcher, op


@op("admin.scenarios")
def _list(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    scenarios = d.venue.scenarios
    return {"scenarios": scenarios.available(), "playing": scenarios.status()}


@op("admin.scenario_start", changes_state=True)
def _start(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    scenarios = d.venue.scenarios
    scenarios.start_file(p.str_field(req.payload, "file", max_len=128))
    return {"scenario": scenarios.status()}


@op("admin.scenario_stop", changes_state=True)
def _stop(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    d.venue.scenarios.stop()
    return {"scenario": None}
