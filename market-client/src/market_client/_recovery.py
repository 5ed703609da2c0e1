"""The reconnect and renewal rules, without I/O: what is down, and what to do next.

`Recovery` is told what happens to the client's links (a socket opened or
closed, with its close code; a step done, refused or failed) and answers
with the next `Step` to take, the client's `state`, and how long to wait
before trying again. `SessionKeeper` carries the steps out over the
network; the decisions live here so that each of them has a test that
needs no socket and no clock:

- CMD down: renew the token over HTTP (a new session when the server
  closed us for the token, 4001/4002, or refused the renewal), reopen
  CMD, ask who we are and log in again only when the session lost its
  user, then hand MD the new token if MD stayed up;
- MD down (or wanted and never opened): reopen it, which resubscribes and
  brings fresh snapshots;
- candles are re-seeded last, since trades may have been missed;
- a failed attempt starts over after an exponential backoff with jitter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum
from typing import Literal

from ._timing import backoff_delay, renew_delay

State = Literal["disconnected", "connecting", "connected", "reconnecting", "resyncing", "closed"]
STATES: tuple[State, ...] = ("disconnected", "connecting", "connected", "reconnecting", "resyncing", "closed")

TOKEN_CLOSE_CODES = frozenset({4001, 4002})
"""Close codes meaning the server no longer accepts the token (expired, logged out)."""


class Step(Enum):
    """One thing to do to bring the links back, in the order `Recovery.next_step` gives them."""

    CLOSE_CMD = "close CMD: it holds a refused token and would be closed next"
    RENEW_TOKEN = "renew the token over HTTP (POST /auth/handshake with it)"
    NEW_SESSION = "start a new session (POST /auth/handshake without a token)"
    OPEN_CMD = "open the CMD socket"
    IDENTIFY = "auth.whoami, and auth.login when the session lost its user"
    RENEW_MD = "md.renew on the MD socket that stayed up, with the new token"
    OPEN_MD = "open MD, subscribe to every symbol, await the snapshots"
    RESEED_CANDLES = "re-seed every candle window (candles.get)"


class Recovery:
    """The state of the client's links and the next step to restore them."""

    def __init__(
        self,
        *,
        want_md: bool,
        reconnect_delay: tuple[float, float],
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.want_md = want_md
        self.reconnect_delay = reconnect_delay
        self.state: State = "disconnected"
        self.cmd_up = False
        self.md_up = False
        self.token_refused = False
        """The server closed a socket for the token, or refused to renew it: only a new session helps."""
        self.cmd_identified = False
        """The open CMD session is known to be logged in (login, or whoami after a reopen)."""
        self.md_token_stale = False
        """MD stayed up while the token changed: it needs `md.renew` before the old token expires."""
        self.attempt = 0
        """Failed attempts since the links were last whole (the backoff's exponent)."""
        self._done: set[Step] = set()
        self._rng = rng

    # -- what happened --------------------------------------------------------

    def opened(self, sock: str) -> None:
        """A socket ("cmd" or "md") is open."""
        if sock == "cmd":
            self.cmd_up = True
            self.cmd_identified = False
        else:
            self.md_up = True
            self.md_token_stale = False

    def closed(self, sock: str, code: int | None = None) -> bool:
        """A socket is down; True when the links must be restored (not when the client is closing)."""
        if sock == "cmd":
            self.cmd_up = False
        else:
            self.md_up = False
        if self.state == "closed":
            return False
        if code in TOKEN_CLOSE_CODES:
            self.token_refused = True
        if self.state != "connecting":
            self.state = "reconnecting"
        return True

    def token_adopted(self) -> None:
        """A new token: the MD socket open now still holds the old one."""
        self.md_token_stale = self.md_up

    def begin(self) -> None:
        """An attempt to restore starts: every step is to be done again."""
        self._done.clear()
        self.state = "reconnecting"

    def done(self, step: Step) -> None:
        """`step` succeeded."""
        self._done.add(step)
        if step is Step.CLOSE_CMD:
            self.cmd_up = False
        elif step is Step.NEW_SESSION:
            self.token_refused = False
        elif step is Step.IDENTIFY:
            self.cmd_identified = True
        elif step is Step.RENEW_MD:
            self.md_token_stale = False

    def refused(self, step: Step) -> None:
        """The server refused `step` for who we are: a renewal refused means a new session."""
        if step is Step.RENEW_TOKEN:
            self.token_refused = True

    def failed(self) -> float:
        """The attempt failed: seconds to wait before the next one (exponential backoff, with jitter)."""
        delay = backoff_delay(
            self.attempt, initial=self.reconnect_delay[0], maximum=self.reconnect_delay[1], rng=self._rng
        )
        self.attempt += 1
        return delay

    def close(self) -> None:
        """The client is closing: nothing will be restored."""
        self.state = "closed"

    # -- what to do -----------------------------------------------------------

    def next_step(self) -> Step | None:
        """The next step of the attempt under way; None when the links are whole (state becomes connected)."""
        if self.cmd_up and self.token_refused:
            return Step.CLOSE_CMD
        if not self.cmd_up:
            if not self._done & {Step.RENEW_TOKEN, Step.NEW_SESSION}:
                return Step.NEW_SESSION if self.token_refused else Step.RENEW_TOKEN
            return Step.OPEN_CMD
        if not self.cmd_identified:
            return Step.IDENTIFY
        if self.md_up and self.md_token_stale:
            return Step.RENEW_MD
        self.state = "resyncing"
        if self.want_md and not self.md_up:
            return Step.OPEN_MD
        if Step.RESEED_CANDLES not in self._done:
            return Step.RESEED_CANDLES
        self.attempt = 0
        self.state = "connected"
        return None


class TokenLife:
    """When to renew the session token: after two thirds of its remaining life, and again soon when that fails."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.expires_at: int | None = None

    def adopt(self, token: str, expires_at: object) -> None:
        """A new token from a handshake or `auth.renew` (`expires_at` in ms, when the server gave one)."""
        self.token = token
        self.expires_at = expires_at if isinstance(expires_at, int) else None

    def renew_in(self, now_ms: int) -> float:
        """Seconds until the renewal is due (an hour when the token does not expire)."""
        return renew_delay(now_ms, self.expires_at) if self.expires_at is not None else 3600.0

    def retry_in(self, now_ms: int) -> float:
        """Seconds before trying again after a renewal failed: soon, but never past the token's expiry."""
        return min(1.0, self.renew_in(now_ms))
