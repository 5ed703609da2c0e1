"""Sessions and their short-lived bearer tokens.

A session starts unbound at the handshake and is bound to a user by a
login. Renewing hands out a new token for the same session; the old one
keeps working until its own expiry, so a client never races its renewal.
Tokens are random and only ever compared, never logged. Every grant is
also written to the session store, so a token survives a server restart.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from ..protocol.errors import ErrorCode, ProtocolError
from ..store.sessions import SessionStore
from ..store.users import User
from .clock import now_ms
from .replies import Replies


@dataclass(slots=True)
class Session:
    key: str = field(default_factory=lambda: secrets.token_hex(16))
    user: User | None = None
    replies: Replies = field(default_factory=Replies)
    """Answers by msg_id, so a request sent twice in this session runs once."""


@dataclass(frozen=True, slots=True)
class Grant:
    token: str
    expires_at: int
    session: Session


class SessionManager:
    def __init__(
        self,
        ttl_ms: int,
        store: SessionStore,
        find_user: Callable[[int], User | None],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._ttl_ms = ttl_ms
        self._store = store
        self._find_user = find_user
        self._clock = clock
        self._grants: dict[str, Grant] = {}
        self._sessions: dict[str, Session] = {}
        self._issued = 0

    def issue(self, session: Session | None = None) -> Grant:
        self._issued += 1
        if self._issued % 1024 == 0:
            self._sweep()
        session = session or Session()
        self._sessions[session.key] = session
        grant = Grant(secrets.token_urlsafe(32), self._clock() + self._ttl_ms, session)
        self._grants[grant.token] = grant
        self._store.save(grant.token, session.key, session.user.user_id if session.user else None, grant.expires_at)
        return grant

    def bind(self, session: Session, user: User) -> None:
        """Log the session in as `user`: every token of the session now acts for them."""
        session.user = user
        self._store.bind(session.key, user.user_id)

    def resolve(self, token: str | None) -> Grant:
        """The live grant for `token`; ProtocolError when missing, unknown or expired."""
        if not token:
            raise ProtocolError(ErrorCode.INVALID_TOKEN, "no session token: call /auth/handshake first")
        grant = self._grants.get(token) or self._restore(token)
        if grant is None:
            raise ProtocolError(ErrorCode.INVALID_TOKEN, "unknown session token: call /auth/handshake for a new one")
        if grant.expires_at <= self._clock():
            self._grants.pop(token, None)
            raise ProtocolError(ErrorCode.TOKEN_EXPIRED, "session token expired: call /auth/handshake for a new one")
        return grant

    def revoke(self, token: str | None) -> Session:
        """Log the token's session out: every token of it is refused from now on, here and after a restart."""
        session = self.resolve(token).session
        self._grants = {t: g for t, g in self._grants.items() if g.session is not session}
        self._sessions.pop(session.key, None)
        self._store.revoke(session.key)
        return session

    def refresh_user(self, user: User) -> None:
        """An admin changed the user's role: every live session of theirs acts under the new one at once."""
        for session in self._sessions.values():
            if session.user is not None and session.user.user_id == user.user_id:
                session.user = user

    def revoke_user(self, user_id: int) -> list[str]:
        """Log every session of the user out (disabled, or password reset); the keys of those in memory."""
        keys = [k for k, s in self._sessions.items() if s.user is not None and s.user.user_id == user_id]
        self._grants = {t: g for t, g in self._grants.items() if g.session.key not in keys}
        for key in keys:
            del self._sessions[key]
        self._store.revoke_user(user_id)
        return keys

    def forget(self, session_key: str) -> None:
        """Drop a session another gateway revoked from this one's memory (the shared store already says so)."""
        self._grants = {t: g for t, g in self._grants.items() if g.session.key != session_key}
        self._sessions.pop(session_key, None)

    def renew(self, token: str) -> Grant:
        return self.issue(self.resolve(token).session)

    def _restore(self, token: str) -> Grant | None:
        """A token issued before the last restart, from the store."""
        found = self._store.find(token)
        if found is None:
            return None
        key, user_id, expires_at = found
        session = self._sessions.get(key)
        if session is None:
            user = self._find_user(user_id) if user_id is not None else None
            session = self._sessions[key] = Session(key, user)
        grant = self._grants[token] = Grant(token, expires_at, session)
        return grant

    def _sweep(self) -> None:
        now = self._clock()
        self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
        live = {g.session.key for g in self._grants.values()}
        self._sessions = {k: s for k, s in self._sessions.items() if k in live}
        self._store.purge(now)
