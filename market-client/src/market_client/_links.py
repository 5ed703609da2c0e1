"""The connection layer: token, CMD and MD sessions, renewal, reconnects, resyncs.

`Links` keeps one CMD session (logged in) and, when asked, one MD session
(subscribed to every symbol) alive for as long as the client is open:

- a token is renewed before it expires (`auth.renew` on CMD, then
  `md.renew` on MD), so sockets are not closed with 4001;
- when a socket drops, requests in flight fail at once (the session does
  that) and a supervisor task reconnects with exponential backoff and
  jitter: renew the token over HTTP, or handshake anew when the server no
  longer knows it; log in again when the session lost its user; reopen
  and resubscribe MD (fresh snapshots); re-seed candles;
- an MD gap resyncs that one symbol with an `md.snapshot` request in its
  own task, so no other symbol waits.

The state it walks through is one of `STATES`, reported to `on_state`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Literal

import httpx

from . import _http
from ._envelope import JSON, Envelopes, Event, Response, now_ms
from ._exceptions import (
    AuthenticationError,
    ClientClosed,
    MarketClientError,
    MarketConnectionError,
)
from ._market import MarketState
from ._session import RequestSession
from ._timing import backoff_delay, renew_delay

logger = logging.getLogger("market_client")

State = Literal["disconnected", "connecting", "connected", "reconnecting", "resyncing", "closed"]
STATES: tuple[State, ...] = ("disconnected", "connecting", "connected", "reconnecting", "resyncing", "closed")


class Links:
    """Owns every socket, task and token of one client."""

    def __init__(
        self,
        base_url: str,
        market: MarketState,
        *,
        username: str | None,
        password: str | None,
        connect_md: bool,
        request_timeout: float,
        connect_timeout: float,
        reconnect_delay: tuple[float, float],
        liveness_timeout: float | None,
        on_cmd_event: Callable[[Event], None],
        on_md_event: Callable[[Event], None],
        on_state: Callable[[State], None],
    ) -> None:
        self.base_url = base_url
        self.market = market
        self.username = username
        self.password = password
        self.connect_md = connect_md
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.reconnect_delay = reconnect_delay
        self.liveness_timeout = liveness_timeout
        self.token: str | None = None
        self.expires_at: int | None = None
        self.user: JSON | None = None
        self.cmd: RequestSession | None = None
        self.md: RequestSession | None = None
        self.state: State = "disconnected"
        self.envelopes = Envelopes(f"c{secrets.token_hex(4)}")
        """Random per client: the server answers a msg_id once per session, and two clients may share one."""
        self.http = httpx.AsyncClient()
        self._on_cmd_event = on_cmd_event
        self._on_md_event = on_md_event
        self._on_state = on_state
        self._tasks: set[asyncio.Task[Any]] = set()
        self._link_down = asyncio.Event()
        self._token_changed = asyncio.Event()
        self._md_progress = asyncio.Event()
        self._token_refused = False
        self._supervisor: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.tap: Callable[[str, str, str | bytes], None] | None = None
        """Given to every session opened (see RequestSession.tap): the recorder's hook."""

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Handshake, open CMD, log in, open MD (skipping steps already done by hand); then keep it all alive."""
        self._set_state("connecting")
        if self.token is None:
            await self.handshake()
        if self.cmd is None or self.cmd.closed:
            await self.open_cmd()
        if self.user is None:
            await self.login()
        if self.connect_md and (self.md is None or self.md.closed):
            await self.open_md()
        self._supervisor = self._start_task(self._supervise(), "supervisor")
        self._renewer = self._start_task(self._renew_loop(), "renewer")
        self._set_state("connected")

    async def aclose(self) -> None:
        """Stop every task, close both sockets and the HTTP client; idempotent."""
        if self.state == "closed":
            return
        self._set_state("closed")
        current = asyncio.current_task()
        tasks = [t for t in (self._supervisor, self._renewer, *self._tasks) if t is not None and t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for session in (self.cmd, self.md):
            if session is not None:
                await session.close()
        await self.http.aclose()

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run background work owned by the client, cancelled by aclose()."""
        if self.closed:
            coro.close()
            return
        self._start_task(coro, name)

    # -- the steps connect() is made of (public through MarketClient) ---------

    async def handshake(self, body: JSON | None = None) -> JSON:
        """POST /auth/handshake and adopt the token it returns."""
        answer = await _http.handshake(self.http, self.base_url, body or {}, self.connect_timeout)
        self._set_token(str(answer["token"]), answer.get("expires_at"))
        if answer.get("user_id") is not None:
            self.user = {k: answer.get(k) for k in ("user_id", "username", "roles", "is_admin")}
        return answer

    async def api_request(self, op: str, payload: JSON | None, as_role: str | None, timeout: float | None) -> Response:
        return await _http.api_request(
            self.http,
            self.base_url,
            self._require_token(),
            self.envelopes,
            op,
            payload,
            as_role,
            self.request_timeout if timeout is None else timeout,
        )

    async def open_cmd(self) -> RequestSession:
        """Open the CMD socket with the current token (replacing a dead one)."""
        self.cmd = await RequestSession.open(
            _http.ws_url(self.base_url, "/ws/cmd"),
            self._require_token(),
            name="cmd",
            envelopes=self.envelopes,
            on_event=self._on_cmd_event,
            on_close=partial(self._link_closed, "cmd"),
            open_timeout=self.connect_timeout,
            request_timeout=self.request_timeout,
            liveness_timeout=self.liveness_timeout,
        )
        self.cmd.tap = self.tap
        return self.cmd

    async def login(self) -> JSON:
        """auth.login on CMD: with the credentials given, else as a guest."""
        body: JSON = {"username": self.username, "password": self.password} if self.username else {"guest": True}
        self.user = (await self.require_cmd().request("auth.login", body)).payload
        return self.user

    async def open_md(self) -> RequestSession:
        """Open MD, subscribe to every symbol and wait until each book has its snapshot."""
        md = await RequestSession.open(
            _http.ws_url(self.base_url, "/ws/md"),
            self._require_token(),
            name="md",
            envelopes=self.envelopes,
            on_event=self._md_event,
            on_close=partial(self._link_closed, "md"),
            open_timeout=self.connect_timeout,
            request_timeout=self.request_timeout,
            liveness_timeout=self.liveness_timeout,
        )
        self.md = md
        md.tap = self.tap
        self.market.reset()
        try:
            subscribed = (await md.request("md.subscribe", {"syms": "*"})).payload.get("syms", [])
            await self._await_snapshots(md, [str(s) for s in subscribed])
        except BaseException:
            await md.close()
            raise
        return md

    def require_cmd(self) -> RequestSession:
        if self.closed:
            raise ClientClosed("the client is closed")
        if self.cmd is None or self.cmd.closed:
            raise MarketConnectionError(f"the CMD connection is not up (state: {self.state})")
        return self.cmd

    def set_tap(self, tap: Callable[[str, str, str | bytes], None] | None) -> None:
        """Tap every frame of the sockets open now and of those opened later (None: stop)."""
        self.tap = tap
        for session in (self.cmd, self.md):
            if session is not None:
                session.tap = tap

    # -- MD ------------------------------------------------------------------

    def _md_event(self, event: Event) -> None:
        if event.op == "md.snapshot":
            self._md_progress.set()
        for sym in self.market.on_event(event):
            self.spawn(self._resync(sym), f"resync.{sym}")
        self._on_md_event(event)

    async def _resync(self, sym: str) -> None:
        """Fetch one symbol's snapshot after a gap; re-seed its candles (trades were lost)."""
        md = self.md
        try:
            if md is None or md.closed:
                raise MarketConnectionError("MD is down")
            snapshot = (await md.request("md.snapshot", {"sym": sym})).payload
        except MarketClientError as exc:
            logger.warning("resync of %s failed (%s); the next heartbeat retries", sym, exc)
            self.market.resync_failed(sym)
            return
        logger.info("resynced %s at seq %s", sym, snapshot.get("seq"))
        for again in self.market.on_snapshot(snapshot):
            self.spawn(self._resync(again), f"resync.{again}")
        if self.market.candles(sym) is not None:
            try:
                await self.seed_candles(sym)
            except MarketClientError as exc:
                logger.warning("re-seeding candles of %s failed (%s)", sym, exc)

    async def _await_snapshots(self, md: RequestSession, syms: list[str]) -> None:
        """Wait for the subscription's snapshots; ask for any still missing at the deadline."""
        deadline = time.monotonic() + self.connect_timeout
        while not all(self.market.is_synced(s) for s in syms):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for sym in (s for s in syms if not self.market.is_synced(s)):
                    self.market.on_snapshot((await md.request("md.snapshot", {"sym": sym})).payload)
                return
            self._md_progress.clear()
            try:
                await asyncio.wait_for(self._md_progress.wait(), remaining)
            except TimeoutError:
                pass

    async def seed_candles(self, sym: str) -> None:
        """Replace a symbol's candle window with the server's (`candles.get`)."""
        series = self.market.candles(sym)
        if series is None:
            return
        series.begin_seed()
        try:
            response = await self.require_cmd().request(
                "candles.get", {"sym": sym, "interval_ms": series.interval_ms, "depth": series.depth}
            )
        except BaseException:
            series.abort_seed()
            raise
        if self.market.candles(sym) is series:
            seq = response.payload.get("seq")
            series.seed(response.payload.get("candles", []), seq=seq if isinstance(seq, int) else None, ts=response.ts)

    # -- reconnects ----------------------------------------------------------

    def _link_closed(self, name: str, code: int | None, reason: str) -> None:
        if self.closed:
            return
        logger.warning("%s connection closed (code %s: %s); reconnecting", name, code, reason or "no reason")
        if code in (4001, 4002):
            self._token_refused = True
        if self.state != "connecting":
            self._set_state("reconnecting")
        self._link_down.set()

    async def _supervise(self) -> None:
        while True:
            await self._link_down.wait()
            self._link_down.clear()
            attempt = 0
            while True:
                try:
                    await self._restore()
                    break
                except Exception as exc:  # any failure means: wait, then try again
                    delay = backoff_delay(attempt, initial=self.reconnect_delay[0], maximum=self.reconnect_delay[1])
                    logger.warning("reconnect attempt %d failed (%s); next in %.2fs", attempt + 1, exc, delay)
                    attempt += 1
                    await asyncio.sleep(delay)
            if not self._link_down.is_set():
                self._set_state("connected")

    async def _restore(self) -> None:
        """Bring back whatever is down: token, CMD + login, MD + books, candles."""
        self._set_state("reconnecting")
        if self._token_refused and self.cmd is not None and not self.cmd.closed:
            await self.cmd.close()  # it shares the refused token: it would be closed next
        if self.cmd is None or self.cmd.closed:
            await self._refresh_token()
            cmd = await self.open_cmd()
            try:
                whoami = (await cmd.request("auth.whoami")).payload
                if whoami.get("user_id") is None:
                    await self.login()
                else:
                    self.user = {k: whoami.get(k) for k in ("user_id", "username", "roles", "is_admin")}
            except BaseException:
                await cmd.close()
                raise
            if self.md is not None and not self.md.closed:
                await self.md.request("md.renew", {"token": self.token})
        self._set_state("resyncing")
        if self.connect_md and (self.md is None or self.md.closed):
            await self.open_md()
        for sym in self.market.candle_symbols():
            await self.seed_candles(sym)

    async def _refresh_token(self) -> None:
        """Renew the token over HTTP; when the server no longer knows it, start a new session."""
        if self.token is not None and not self._token_refused:
            try:
                await self.handshake({"token": self.token})
                return
            except AuthenticationError as exc:
                logger.info("token renewal refused (%s); starting a new session", exc.code)
        await self.handshake()
        self._token_refused = False

    # -- token renewal -------------------------------------------------------

    async def _renew_loop(self) -> None:
        while True:
            self._token_changed.clear()
            delay = renew_delay(now_ms(), self.expires_at) if self.expires_at is not None else 3600.0
            try:
                await asyncio.wait_for(self._token_changed.wait(), delay)
                continue  # a new token (reconnect, manual handshake): reschedule
            except TimeoutError:
                pass
            try:
                await self._renew()
            except MarketClientError as exc:
                logger.warning("token renewal failed (%s); retrying", exc)
                await asyncio.sleep(min(1.0, delay))

    async def _renew(self) -> None:
        cmd = self.cmd
        if cmd is None or cmd.closed:
            await asyncio.sleep(0.2)  # reconnecting: the supervisor renews over HTTP
            return
        answer = (await cmd.request("auth.renew")).payload
        self._set_token(str(answer["token"]), answer.get("expires_at"))
        md = self.md
        if md is not None and not md.closed:
            await md.request("md.renew", {"token": self.token})

    # -- helpers -------------------------------------------------------------

    def _set_token(self, token: str, expires_at: Any) -> None:
        self.token = token
        self.expires_at = int(expires_at) if isinstance(expires_at, int) else None
        self._token_changed.set()

    def _require_token(self) -> str:
        if self.token is None:
            raise MarketConnectionError("no session token: call handshake() first")
        return self.token

    def _set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            self._on_state(state)

    def _start_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"market_client.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())
