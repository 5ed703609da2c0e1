"""Scenarios: a TOML file of timed market events, played on the agents' clock.

```toml
name = "News shock"
description = "A quiet open, then bad news on ACME."
[[events]]
at_s = 60            # seconds of the agents' simulated time after the scenario starts
kind = "news"        # news | volatility | drought | halt | auction | resume
sym = "ACME"         # one symbol, or "*" for all of them
move_pct = -6.0      # news: the fair value jumps by this percentage
```

Kinds and their fields:
- `news` (`move_pct`): the fair value jumps at once; the informed agents
  trade towards it, the market makers follow.
- `volatility` (`factor`): the fair value's volatility becomes `factor`
  times its configured level, until another `volatility` event.
- `drought` (`duration_s`): the agents withdraw (their orders on the
  symbol are canceled and they place none) for that long.
- `halt`, `resume`: the symbol's trading status, as an admin's halt.
- `auction`: a call auction (an opening or a closing one): orders collect
  without trading until the next `resume`, which uncrosses the book at the
  one price that trades the most (the engine's rule, docs/protocol.md).

Events run on the agents' simulated clock, just before the step that
reaches their time, so the same seed and the same scenario give the same
agent behaviour, whatever the wall clock, pauses or speed did meanwhile.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError, model_validator

from ..engine import CancelAll, Command, Result, SetSymbolStatus, SymbolStatus

Kind = Literal["news", "volatility", "drought", "halt", "auction", "resume"]


STATUS_OF = {"halt": SymbolStatus.HALTED, "auction": SymbolStatus.AUCTION, "resume": SymbolStatus.TRADING}


class Event(BaseModel, frozen=True, extra="forbid"):
    at_s: float = Field(ge=0)
    kind: Kind
    sym: str = Field(min_length=1, max_length=16)
    move_pct: float | None = Field(default=None, gt=-90, lt=900)
    factor: float | None = Field(default=None, gt=0, le=20)
    duration_s: float | None = Field(default=None, gt=0, le=24 * 3600)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Event:
        needed = {"news": "move_pct", "volatility": "factor", "drought": "duration_s"}.get(self.kind)
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} event needs '{needed}'")
        return self


class Scenario(BaseModel, frozen=True, extra="forbid"):
    name: str = Field(min_length=1, max_length=60)
    description: str = ""
    events: list[Event] = []

    @property
    def length_s(self) -> float:
        """When the last event happens (a drought counts until it ends)."""
        return max((e.at_s + (e.duration_s or 0) for e in self.events), default=0.0)


class ScenarioError(ValueError):
    """The file is not a valid scenario; the message names the file and the problem."""


def load(path: Path, symbols: list[str]) -> Scenario:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{path}: {problems}") from None
    for event in scenario.events:
        if event.sym != "*" and event.sym not in symbols:
            raise ScenarioError(f"{path}: event at {event.at_s}s names unknown symbol {event.sym!r}")
    return scenario


class Market(Protocol):
    """What a scenario acts on: the agents' symbol states, their accounts, and the venue's commands."""

    def symbols(self) -> list[str]: ...
    def fair(self, sym: str) -> Any: ...
    def withdraw_until(self, sym: str, sim_ms: float) -> None: ...
    def run(self, command: Command) -> Result: ...
    def agent_ids(self) -> list[int]: ...


@dataclass(slots=True)
class Playback:
    """A scenario being played: which events are done, measured from the sim time it started at."""

    scenario: Scenario
    started_ms: float
    done: int = 0
    base_sigma: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    """One line per event played, for the status op and the server log."""

    @property
    def finished(self) -> bool:
        return self.done >= len(self.scenario.events)

    def due(self, sim_ms: float) -> list[Event]:
        events = sorted(self.scenario.events, key=lambda e: e.at_s)
        out = []
        while self.done < len(events) and self.started_ms + events[self.done].at_s * 1000 <= sim_ms:
            out.append(events[self.done])
            self.done += 1
        return out

    def play(self, market: Market, sim_ms: float) -> list[Result]:
        """Apply every event due by `sim_ms`; the results of the commands they made."""
        results: list[Result] = []
        for event in self.due(sim_ms):
            syms = market.symbols() if event.sym == "*" else [event.sym]
            for sym in syms:
                results += self._apply(event, sym, market, sim_ms)
            self.log.append(f"{event.at_s:g}s {event.kind} {event.sym}")
        return results

    def _apply(self, event: Event, sym: str, market: Market, sim_ms: float) -> list[Result]:
        fair = market.fair(sym)
        if event.kind == "news":
            assert event.move_pct is not None
            fair.log_value += math.log1p(event.move_pct / 100)
            return []
        if event.kind == "volatility":
            assert event.factor is not None
            base = self.base_sigma.setdefault(sym, fair.sigma)
            fair.sigma = base * event.factor
            return []
        if event.kind == "drought":
            assert event.duration_s is not None
            market.withdraw_until(sym, sim_ms + event.duration_s * 1000)
            return [market.run(CancelAll(user_id=user_id, sym=sym)) for user_id in market.agent_ids()]
        return [market.run(SetSymbolStatus(sym=sym, status=STATUS_OF[event.kind]))]
