"""Admin helpers: sim control, snapshots and rounds, for instructors' scripts.

Reached as ``client.admin``; each method is one admin op (docs/protocol.md)
and needs a user with the admin role (else ServerError ``FORBIDDEN``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._envelope import JSON

if TYPE_CHECKING:
    from ._client import MarketClient


class Admin:
    def __init__(self, client: MarketClient) -> None:
        self._client = client

    async def _sim(self, **payload: Any) -> JSON:
        return await self._client.send("admin.sim", payload, timeout=60.0)

    async def pause(self) -> JSON:
        """Freeze the books: users' orders and cancels get MARKET_PAUSED; the agents' clock stops."""
        return await self._sim(paused=True)

    async def resume(self) -> JSON:
        return await self._sim(paused=False)

    async def step(self, seconds: float) -> JSON:
        """While paused: run the agents for `seconds` of simulated time now (the answer says how many steps)."""
        return await self._sim(step_s=seconds)

    async def set_speed(self, speed: float) -> JSON:
        """The agents' clock against the wall clock: 2 runs them twice as fast."""
        return await self._sim(speed=speed)

    async def set_intensity(self, intensity: float) -> JSON:
        """The agents' activity multiplier (simulated time per step); 0 pauses them alone."""
        return await self._sim(intensity=intensity)

    async def sim_status(self) -> JSON:
        """{paused, speed, intensity, running, sim_time_ms}."""
        return await self._client.send("market.status")

    async def snapshot(self, name: str | None = None) -> JSON:
        """Save the whole venue (books, accounts, agents and their random state); its {snapshot_id, state_hash, …}."""
        payload = {} if name is None else {"name": name}
        return dict((await self._client.send("admin.snapshot", payload))["snapshot"])

    async def snapshots(self) -> list[JSON]:
        return list((await self._client.send("admin.snapshots"))["snapshots"])

    async def restore(self, snapshot_id: int) -> JSON:
        """Put the venue back as the snapshot saved it, paused; the answer's state_hash equals the snapshot's."""
        return await self._client.send("admin.restore", {"snapshot_id": snapshot_id}, timeout=60.0)

    async def start_round(self, name: str | None = None, duration_s: float | None = None) -> JSON:
        """Start a round: every account afresh, the market resumed; ends by itself after `duration_s`."""
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = name
        if duration_s is not None:
            payload["duration_s"] = duration_s
        return dict((await self._client.send("admin.round_start", payload, timeout=60.0))["round"])

    async def end_round(self, include_bots: bool = False) -> JSON:
        """End the running round (orders canceled, positions closed out at the marks, market paused).

        Returns {round, scores}.
        """
        return await self._client.send("admin.round_end", {"include_bots": include_bots}, timeout=60.0)

    async def rounds(self) -> JSON:
        """{current, rounds}: the running round (or None) and the ended ones (`rounds.list`; any user)."""
        return await self._client.send("rounds.list")

    async def round_results(self, round_id: int | None = None, include_bots: bool = False) -> JSON:
        """{round, scores} of an ended round, or of the running one scored now (`rounds.get`; any user)."""
        payload: dict[str, Any] = {"include_bots": include_bots}
        if round_id is not None:
            payload["round_id"] = round_id
        return await self._client.send("rounds.get", payload)

    async def set_latency(self, ms: int, *, username: str | None = None, role: str | None = None) -> JSON:
        """Injected order-entry delay: the default, a role's, or a user's (0 drops a user's own); the table."""
        payload: dict[str, Any] = {"ms": ms}
        if username is not None:
            payload["username"] = username
        if role is not None:
            payload["role"] = role
        return await self._client.send("admin.latency", payload)

    async def scenarios(self) -> JSON:
        """{scenarios: the server's scenario files, playing: the one playing or None}."""
        return await self._client.send("admin.scenarios")

    async def start_scenario(self, file: str) -> JSON:
        """Play a scenario file of the server's scenarios directory (replacing the one playing)."""
        return dict((await self._client.send("admin.scenario_start", {"file": file}))["scenario"])
