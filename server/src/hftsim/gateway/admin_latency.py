"""The latency op: admins read and set the injected order-entry delays (latency.py)."""

from __future__ import annotations

from typing import Any

from ..protocol import payloads as p
from ..protocol.envelope import Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.roles import Role
from .dispatch import Context, Dispatcher, op

MAX_MS = 60_000


@op("admin.latency", changes_state=True)
def _latency(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    """`{}` reads the table; `{"ms"}` sets the default, with `"role"` a role's, with `"username"` a user's."""
    gate, payload = d.venue.latency, req.payload
    if payload.get("ms") is not None:
        ms = payload["ms"]
        if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= MAX_MS:
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'ms' must be an integer from 0 to {MAX_MS}")
        username = p.opt_str(payload, "username", max_len=32)
        role_name = p.opt_str(payload, "role", max_len=16)
        if username is not None and role_name is not None:
            raise ProtocolError(ErrorCode.INVALID_FIELD, "give 'username' or 'role', not both")
        if username is not None and d.venue.users.by_name(username) is None:
            raise ProtocolError(ErrorCode.UNKNOWN_USER, f"no user named {username!r}")
        try:
            target_role = Role.parse(role_name) if role_name is not None else None
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'role': {exc}") from None
        gate.set(username=username, role=target_role, ms=ms)
    return gate.table()
