"""Engine events as the wire events of docs/protocol.md, for the in-process venues (backtest, FakeVenue).

Needs the `hftsim` server package; imported only by the modules that run
its engine in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from hftsim.protocol import events
from hftsim.protocol.events import restates_response

from ._envelope import JSON

if TYPE_CHECKING:
    from hftsim.protocol.render import Renderer

__all__ = ["private_event", "public_event", "restates_response"]


def public_event(render: Renderer, ev: object, at: tuple[int, int] | None = None) -> tuple[str, str, JSON] | None:
    """(sym, op, payload) of an MD event, or None when `ev` is not public; `at` = (gseq, gidx), its place."""
    wire = events.public(render, ev, at)
    if wire is None:
        return None
    op, payload = wire
    return str(payload["sym"]), op, payload


def private_event(render: Renderer, ev: object, at: tuple[int, int]) -> tuple[int, str, JSON] | None:
    """(user_id, op, payload) of a CMD event ("Private events"), or None when `ev` is not one; `at` as above.

    The payload is parsed from the JSON the gateway sends (the server writes it out, one writer for both)."""
    user_id = getattr(ev, "user_id", None)
    wire = events.private(render, ev, *at)
    if wire is None or user_id is None:
        return None
    op, payload = wire
    return user_id, op, orjson.loads(payload)
