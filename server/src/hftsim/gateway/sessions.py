"""Sessions and their short-lived bearer tokens.

A session starts unbound at the handshake and is bound to a user by a
login. Renewing hands out a new token for the same session; the old one
keeps working until its own expiry, so a client never races its renewal.
Tokens are random and only ever compared, never logged.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from ..protocol.errors import ErrorCode, ProtocolError
from ..store.users import User
from .clock import now_ms

_session_ids = itertools.count(1)


@dataclass(slots=True)
class Session:
    session_id: int = field(default_factory=lambda: next(_session_ids))
    user: User | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    token: str
    expires_at: int
    session: Session


class SessionManager:
    def __init__(self, ttl_ms: int, clock: Callable[[], int] = now_ms) -> None:
        self._ttl_ms = ttl_ms
        self._clock = clock
        self._grants: dict[str, Grant] = {}
        self._issued = 0

    def issue(self, session: Session | None = None) -> Grant:
        self._issued += 1
        if self._issued % 1024 == 0:
            self._sweep()
        grant = Grant(secrets.token_urlsafe(32), self._clock() + self._ttl_ms, session or Session())
        self._grants[grant.token] = grant
        return grant

    def resolve(self, token: str | None) -> Grant:
        """The live grant for `token`; ProtocolError when missing, unknown or expired."""
        if not token:
            raise ProtocolError(ErrorCode.INVALID_TOKEN, "no session token: call /auth/handshake first")
        grant = self._grants.get(token)
        if grant is None:
            raise ProtocolError(ErrorCode.INVALID_TOKEN, "unknown session token: call /auth/handshake for a new one")
        if grant.expires_at <= self._clock():
            del self._grants[token]
            raise ProtocolError(ErrorCode.TOKEN_EXPIRED, "session token expired: call /auth/handshake for a new one")
        return grant

    def renew(self, token: str) -> Grant:
        return self.issue(self.resolve(token).session)

    def _sweep(self) -> None:
        now = self._clock()
        self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
