"""The asyncio side of the client's links: token, CMD and MD sessions kept alive.

`SessionKeeper` keeps one CMD session (logged in) and, when asked, one MD
session (subscribed to every symbol) alive for as long as the client is
open. What to do and when is decided elsewhere, without I/O: `Recovery`
(which step restores the links, how long to back off), `TokenLife` (when
to renew) and `MarketState` (the sequence rule: which symbol needs a
snapshot). This module only carries the decisions out:

- a token is renewed before it expires (`auth.renew` on CMD, then
  `md.renew` on MD), so sockets are not closed with 4001;
- when a socket drops, requests in flight fail at once (the session does
  that) and a supervisor task takes `Recovery`'s steps until the links
  are whole, backing off between failed attempts;
- an MD gap resyncs that one symbol with an `md.snapshot` request in its
  own task, so no other symbol waits.

Sockets and HTTP are reached through a `Dialer`, the seam where the unit
tests plug a scripted server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

import httpx

from . import _http
from ._envelope import JSON, Envelopes, Event, Response, now_ms
from ._exceptions import (
    AuthenticationError,
    ClientClosed,
    MarketClientError,
    MarketConnectionError,
)
from ._gateways import Gateways
from ._market import MarketState
from ._recovery import Recovery, State, Step, TokenLife
from ._session import RequestSession

logger = logging.getLogger("market_client")


class Dialer(Protocol):
    """How the keeper reaches the server: the handshake over HTTP, and opening a session on a socket."""

    async def handshake(self, body: JSON) -> JSON: ...

    async def open(
        self,
        name: str,
        token: str,
        *,
        on_event: Callable[[Event], None],
        on_close: Callable[[int | None, str], None],
    ) -> RequestSession: ...


class NetworkDialer:
    """The real network at the current gateway: `POST /auth/handshake` with httpx, WebSockets at /ws/cmd and /ws/md."""

    def __init__(
        self,
        gateways: Gateways,
        http: httpx.AsyncClient,
        envelopes: Envelopes,
        *,
        connect_timeout: float,
        request_timeout: float,
        liveness_timeout: float | None,
    ) -> None:
        self.gateways = gateways
        self.http = http
        self.envelopes = envelopes
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.liveness_timeout = liveness_timeout

    async def handshake(self, body: JSON) -> JSON:
        return await _http.handshake(self.http, self.gateways.current, body, self.connect_timeout)

    async def open(
        self,
        name: str,
        token: str,
        *,
        on_event: Callable[[Event], None],
        on_close: Callable[[int | None, str], None],
    ) -> RequestSession:
        return await RequestSession.open(
            _http.ws_url(self.gateways.current, f"/ws/{name}"),
            token,
            name=name,
            envelopes=self.envelopes,
            on_event=on_event,
            on_close=on_close,
            open_timeout=self.connect_timeout,
            request_timeout=self.request_timeout,
            liveness_timeout=self.liveness_timeout,
        )


class SessionKeeper:
    """Owns every socket, task and token of one client, and carries out `Recovery`'s steps."""

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
        on_cmd_answer: Callable[[Response], None] | None = None,
        on_md_event: Callable[[Event], None],
        on_state: Callable[[State], None],
        on_resynced: Callable[[str], None] = lambda sym: None,
        gateways: Sequence[str] = (),
    ) -> None:
        self.gateways = Gateways([base_url, *gateways])
        self.market = market
        self.username = username
        self.password = password
        self.connect_md = connect_md
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.tokens = TokenLife()
        self.recovery = Recovery(want_md=connect_md, reconnect_delay=reconnect_delay)
        self.user: JSON | None = None
        self.cmd: RequestSession | None = None
        self.ready: RequestSession | None = None
        """The CMD session while the client is connected, else None: a request sent on it needs no reconnect
        waited for and no link checked (`MarketClient.place_order`'s straight path reads this one attribute)."""
        self.md: RequestSession | None = None
        self.envelopes = Envelopes(f"c{secrets.token_hex(4)}")
        """Random per client: the server answers a msg_id once per session, and two clients may share one."""
        self.http = httpx.AsyncClient()
        self.dialer: Dialer = NetworkDialer(
            self.gateways,
            self.http,
            self.envelopes,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            liveness_timeout=liveness_timeout,
        )
        self._on_cmd_event = on_cmd_event
        self._on_cmd_answer = on_cmd_answer
        self._on_md_event = on_md_event
        self._on_state = on_state
        self._on_resynced = on_resynced
        self._reported: State = self.recovery.state
        self._tasks: set[asyncio.Task[Any]] = set()
        self._link_down = asyncio.Event()
        self._token_changed = asyncio.Event()
        self._md_progress = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.tap: Callable[[str, str, str | bytes], None] | None = None
        """Given to every session opened (see RequestSession.tap): the recorder's hook."""

    @property
    def state(self) -> State:
        return self.recovery.state

    @property
    def base_url(self) -> str:
        """The gateway in use (the first of the list until one fails)."""
        return self.gateways.current

    @property
    def token(self) -> str | None:
        return self.tokens.token

    @property
    def closed(self) -> bool:
        return self.recovery.state == "closed"

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Handshake, open CMD, log in, open MD (skipping steps already done by hand); then keep it all alive."""
        self.recovery.state = "connecting"
        self._report_state()
        if self.tokens.token is None:
            await self._first_handshake()
        if self.cmd is None or self.cmd.closed:
            await self.open_cmd()
        if self.user is None:
            await self.login()
        if self.connect_md and (self.md is None or self.md.closed):
            await self.open_md()
        self._supervisor = self._start_task(self._supervise(), "supervisor")
        self._renewer = self._start_task(self._renew_loop(), "renewer")
        self.recovery.state = "connected"
        self._report_state()

    async def aclose(self) -> None:
        """Stop every task, close both sockets and the HTTP client; idempotent."""
        if self.closed:
            return
        self.recovery.close()
        self._report_state()
        current = asyncio.current_task()
        tasks = [t for t in (self._supervisor, self._renewer, *self._tasks) if t is not None and t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for session in (self.cmd, self.md):
            if session is not None:
                await session.close()
        await self.http.aclose()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run background work owned by the client, cancelled by aclose()."""
        if self.closed:
            coro.close()
            return
        self._start_task(coro, name)

    # -- the steps connect() is made of (public through MarketClient) ---------

    async def handshake(self, body: JSON | None = None) -> JSON:
        """POST /auth/handshake and adopt the token it returns."""
        answer = await self.dialer.handshake(body or {})
        self._adopt_token(str(answer["token"]), answer.get("expires_at"))
        if answer.get("user_id") is not None:
            self.user = {k: answer.get(k) for k in ("user_id", "username", "roles", "is_admin")}
        return answer

    async def _first_handshake(self) -> None:
        """The handshake with the first gateway that answers, in the list's order."""
        for _ in self.gateways.urls[1:]:
            try:
                await self.handshake()
                return
            except MarketConnectionError as exc:
                logger.warning("%s; trying the next gateway", exc)
                self.gateways.move_on()
        await self.handshake()

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
        cmd = await self.dialer.open(
            "cmd", self._require_token(), on_event=self._on_cmd_event, on_close=self._closer("cmd")
        )
        cmd.tap = self.tap
        cmd.on_restated = self._on_cmd_answer
        self.cmd = cmd
        self.recovery.opened("cmd")
        self._set_ready()
        return cmd

    async def login(self) -> JSON:
        """auth.login on CMD: with the credentials given, else as a guest."""
        body: JSON = {"username": self.username, "password": self.password} if self.username else {"guest": True}
        self.user = (await self.require_cmd().request("auth.login", body)).payload
        self.recovery.done(Step.IDENTIFY)
        return self.user

    async def open_md(self) -> RequestSession:
        """Open MD, subscribe to every symbol and wait until each book has its snapshot."""
        md = await self.dialer.open("md", self._require_token(), on_event=self._md_event, on_close=self._closer("md"))
        self.md = md
        md.tap = self.tap
        self.market.reset()
        try:
            subscribed = (await md.request("md.subscribe", {"syms": "*"})).payload.get("syms", [])
            await self._await_snapshots(md, [str(s) for s in subscribed])
        except BaseException:
            await md.close()
            raise
        self.recovery.opened("md")
        return md

    def require_cmd(self) -> RequestSession:
        """The CMD session, to send on: ClientClosed once closed, MarketConnectionError while it is down."""
        if self.recovery.state == "closed":
            raise ClientClosed("the client is closed")
        cmd = self.cmd
        if cmd is None or cmd.closed:
            raise MarketConnectionError(f"the CMD connection is not up (state: {self.state})")
        return cmd

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
        self._on_resynced(sym)
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

    def _closer(self, name: str) -> Callable[[int | None, str], None]:
        def link_closed(code: int | None, reason: str) -> None:
            if not self.recovery.closed(name, code):
                return
            logger.warning("%s connection closed (code %s: %s); reconnecting", name, code, reason or "no reason")
            self._report_state()
            self._link_down.set()

        return link_closed

    async def _supervise(self) -> None:
        while True:
            await self._link_down.wait()
            self._link_down.clear()
            self.recovery.begin()
            self._report_state()
            while True:
                try:
                    await self._restore()
                    break
                except Exception as exc:  # any failure means: wait, then try again
                    delay = self.recovery.failed()
                    logger.warning("reconnect attempt %d failed (%s); next in %.2fs", self.recovery.attempt, exc, delay)
                    if self.gateways.move_on():
                        logger.warning("the next attempt goes to %s", self.gateways.current)
                    await asyncio.sleep(delay)
                    self.recovery.begin()
                    self._report_state()

    async def _restore(self) -> None:
        """Take `Recovery`'s steps until it has none left."""
        while (step := self.recovery.next_step()) is not None:
            self._report_state()
            try:
                await self._take(step)
            except AuthenticationError:
                self.recovery.refused(step)
                if step is not Step.RENEW_TOKEN:
                    raise
                logger.info("token renewal refused; starting a new session")
                continue
            self.recovery.done(step)
        self._report_state()

    async def _take(self, step: Step) -> None:
        if step is Step.CLOSE_CMD:
            if self.cmd is not None:
                await self.cmd.close()
        elif step is Step.RENEW_TOKEN:
            await self.handshake({"token": self._require_token()})
        elif step is Step.NEW_SESSION:
            await self.handshake()
        elif step is Step.OPEN_CMD:
            await self.open_cmd()
        elif step is Step.IDENTIFY:
            await self._identify()
        elif step is Step.RENEW_MD:
            if self.md is not None:
                await self.md.request("md.renew", {"token": self.tokens.token})
        elif step is Step.OPEN_MD:
            await self.open_md()
        else:
            for sym in self.market.candle_symbols():
                await self.seed_candles(sym)

    async def _identify(self) -> None:
        """Who the reopened CMD session is: log in again only when the server forgot the user."""
        cmd = self.require_cmd()
        try:
            whoami = (await cmd.request("auth.whoami")).payload
            if whoami.get("user_id") is None:
                await self.login()
            else:  # who it is, and the limits (servers that leave them out of whoami keep the login's)
                self.user = {**(self.user or {}), **whoami}
                self.recovery.done(Step.IDENTIFY)
        except BaseException:
            await cmd.close()
            self.recovery.closed("cmd")
            raise

    # -- token renewal -------------------------------------------------------

    async def _renew_loop(self) -> None:
        while True:
            self._token_changed.clear()
            try:
                await asyncio.wait_for(self._token_changed.wait(), self.tokens.renew_in(now_ms()))
                continue  # a new token (reconnect, manual handshake): reschedule
            except TimeoutError:
                pass
            try:
                await self._renew()
            except MarketClientError as exc:
                logger.warning("token renewal failed (%s); retrying", exc)
                await asyncio.sleep(self.tokens.retry_in(now_ms()))

    async def _renew(self) -> None:
        cmd = self.cmd
        if cmd is None or cmd.closed:
            await self._link_down_or_back()  # reconnecting: the supervisor renews over HTTP
            return
        answer = (await cmd.request("auth.renew")).payload
        self._adopt_token(str(answer["token"]), answer.get("expires_at"))
        md = self.md
        if md is not None and not md.closed:
            await md.request("md.renew", {"token": self.tokens.token})
            self.recovery.done(Step.RENEW_MD)

    async def _link_down_or_back(self) -> None:
        """Wait for the supervisor's new token (or a moment): renewing a dead CMD socket is pointless."""
        try:
            await asyncio.wait_for(self._token_changed.wait(), 0.2)
        except TimeoutError:
            pass

    # -- helpers -------------------------------------------------------------

    def _adopt_token(self, token: str, expires_at: Any) -> None:
        self.tokens.adopt(token, expires_at)
        self.recovery.token_adopted()
        self._token_changed.set()

    def _require_token(self) -> str:
        if self.tokens.token is None:
            raise MarketConnectionError("no session token: call handshake() first")
        return self.tokens.token

    def _report_state(self) -> None:
        """Tell the client when `Recovery`'s state changed since it was last told."""
        self._set_ready()
        state = self.recovery.state
        if state != self._reported:
            self._reported = state
            self._on_state(state)

    def _set_ready(self) -> None:
        """`ready` after the state or the CMD session changed (a session that closes changes the state at once:
        its `on_close` runs before anything else can send)."""
        self.ready = self.cmd if self.recovery.state == "connected" else None

    def _start_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"market_client.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())
