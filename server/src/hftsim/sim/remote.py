"""Run the simulated participants out of process, as market-client users.

`hftsim bots --url URL` calls `run_remote`: the same `Simulation` as
in-process, but every agent is one `MarketClient` and everything goes
through the public protocol. The agents' accounts come, in this order of
preference, from:

- admin credentials (`admin=`): the admin's client asks `admin.bots` for
  one funded bot account and logged-in session per agent, so neither
  passwords nor guest logins are needed;
- `settings.password`: each agent logs in as the existing user named
  after it, with that password;
- otherwise guests, which a server allows only a few of per address.

When the server refuses a step (a limit, a wrong password, a missing
role) `BotsRefused` says which step, why, and what to do instead.

The agents run on the same continuous clock as in process (`AgentRunner`):
each wake-up runs when it is due on the wall clock, reads the book as it
stands, and its commands go out at once; their answers come back on their
own and are learnt as they arrive, so a slow answer never holds the clock.
`ClientMarketView` is the `MarketView` the agents read: books and trades
from the watcher client's MD stream, each agent's orders and positions
from its own CMD events (resynced from the server now and then, and after
reconnects).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..engine import Limits, OrderStatus, OrderView, Rejected, Result, Trade
from ..engine.commands import AmendOrder, CancelOrder, Command, OrderType, PlaceOrder, Side, Tif
from ..engine.errors import Code
from ..engine.instruments import Instrument
from .config import SimSettings
from .runner import AgentRunner
from .simulation import Simulation

log = logging.getLogger(__name__)

LIVE = {"new", "partially_filled"}
RESYNC_EVERY_S = 30.0
MAX_IN_FLIGHT = 500
"""Commands sent but not yet answered beyond which the agents' clock stands still until the server catches up."""
BOOK_OPS = {"md.delta", "md.snapshot"}


def instrument_from_wire(symbol: Mapping[str, Any]) -> Instrument:
    """An engine Instrument from a `symbols.list` entry."""
    tick = Decimal(str(symbol["tick"]))
    band = Decimal(str(symbol.get("band_pct", "10")))
    ref = Decimal(str(symbol["ref_price"])) if symbol.get("ref_price") is not None else None
    lot = int(symbol.get("lot", 1))
    min_qty = int(symbol.get("min_qty", lot))
    ref_ticks = int(ref / tick) if ref is not None else 1
    return Instrument(str(symbol["sym"]), tick, lot, min_qty, ref_ticks, band)


@dataclass
class _Account:
    """What one agent's client knows of its own orders and positions."""

    user_id: int
    orders: dict[int, OrderView] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)


class ClientMarketView:
    """`MarketView` over market clients: public state from `md`, private state per agent."""

    def __init__(self, md: Any, instruments: Mapping[str, Instrument]) -> None:
        self._md = md
        self._instruments = dict(instruments)
        self._accounts: dict[int, _Account] = {}
        self._last: dict[str, int] = {}
        self.trades: list[Trade] = []
        """Public trades seen on MD since the simulation last took them."""
        self.moved: set[str] = set()
        """Symbols whose book MD changed since the simulation last heard of it."""

    # Feeding ------------------------------------------------------------------

    def account(self, user_id: int) -> _Account:
        account = self._accounts.get(user_id)
        if account is None:
            account = self._accounts[user_id] = _Account(user_id)
        return account

    def on_md_event(self, event: Mapping[str, Any]) -> None:
        """An MD event envelope (as the client hands it over)."""
        op = event.get("op")
        payload = event.get("payload") or {}
        inst = self._instruments.get(str(payload.get("sym")))
        if inst is None:
            return
        if op in BOOK_OPS:
            self.moved.add(inst.sym)
        if op != "md.trade":
            return
        price = inst.to_ticks(str(payload["price"]))
        self._last[inst.sym] = price
        side = Side.BUY if payload.get("side") == "buy" else Side.SELL
        self.trades.append(
            Trade(inst.sym, int(payload.get("seq", 0)), int(payload.get("trade_id", 0)), price,
                  int(payload["qty"]), side, int(payload.get("ts", 0)), 0, 0)
        )  # fmt: skip

    def on_cmd_event(self, user_id: int, event: Mapping[str, Any]) -> None:
        """A CMD event envelope of the agent's own connection."""
        account = self.account(user_id)
        payload = event.get("payload") or {}
        order = payload.get("order") if isinstance(payload, Mapping) else None
        if isinstance(order, Mapping):
            known = account.orders.get(int(order.get("order_id", -1)))
            view = self.order_view(order, user_id, known)
            if view is not None:
                if view.status in LIVE and (view.price is not None or view.type is not OrderType.LIMIT):
                    account.orders[view.order_id] = view
                else:
                    account.orders.pop(view.order_id, None)
        if event.get("op") == "account.update":
            position = payload.get("position") or {}
            if "sym" in position:
                account.positions[str(position["sym"])] = int(position.get("qty", 0))

    def load(self, user_id: int, orders: list[Mapping[str, Any]], account: Mapping[str, Any]) -> None:
        """Replace an agent's state with the server's (start, reconnect, periodic resync)."""
        state = self.account(user_id)
        state.orders = {}
        for order in orders:
            view = self.order_view(order, user_id)
            if view is not None and view.status in LIVE:
                state.orders[view.order_id] = view
        state.positions = {str(p["sym"]): int(p.get("qty", 0)) for p in account.get("positions", [])}

    def order_view(self, order: Mapping[str, Any], user_id: int, known: OrderView | None = None) -> OrderView | None:
        """The order as the wire gives it; fields a fill event leaves out (price, qty, type) come from `known`."""
        inst = self._instruments.get(str(order.get("sym")))
        if inst is None:
            return None
        if "price" in order:
            price = inst.to_ticks(str(order["price"])) if order["price"] is not None else None
        else:
            price = known.price if known is not None else None
        filled = int(order.get("filled_qty", 0))
        if "qty" in order:
            qty = int(order["qty"])
        elif "leaves_qty" in order:
            qty = filled + int(order["leaves_qty"])
        else:
            qty = known.qty if known is not None else 0
        return OrderView(
            order_id=int(order["order_id"]),
            client_order_id=order.get("client_order_id"),
            user_id=user_id,
            sym=inst.sym,
            side=Side(order.get("side", "buy")),
            type=OrderType(order.get("type", known.type if known is not None else "limit")),
            price=price,
            qty=qty,
            filled_qty=filled,
            filled_cost=0,
            tif=Tif(order.get("tif", known.tif if known is not None else "GTC")),
            post_only=bool(order.get("post_only", known.post_only if known is not None else False)),
            status=OrderStatus(order.get("status", "new")),
            created_ts=int(order.get("created_ts", known.created_ts if known is not None else 0)),
            updated_ts=int(order.get("updated_ts", 0)),
        )

    # MarketView -----------------------------------------------------------------

    def _levels(self, sym: str, rows: list[list[Any]]) -> list[tuple[int, int]]:
        inst = self._instruments[sym]
        return [(inst.to_ticks(str(price)), int(qty)) for price, qty in rows]

    def book_levels(self, sym: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        if self._md.market.book(sym) is None:  # no MD for the symbol (yet)
            return [], []
        book = self._md.book_snapshot(sym, depth if depth is not None else 1000)
        return self._levels(sym, book.get("bids", [])), self._levels(sym, book.get("asks", []))

    def best_bid_ask(self, sym: str) -> tuple[int | None, int | None]:
        bids, asks = self.book_levels(sym, 1)
        return (bids[0][0] if bids else None), (asks[0][0] if asks else None)

    def last_price(self, sym: str) -> int | None:
        return self._last.get(sym)

    def set_last(self, sym: str, price: int | None) -> None:
        if price is not None:
            self._last.setdefault(sym, price)

    def open_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        orders = self.account(user_id).orders.values()
        return sorted((o for o in orders if sym is None or o.sym == sym), key=lambda o: o.order_id)

    def exposure(self, user_id: int, sym: str) -> tuple[int, int, int]:
        account = self.account(user_id)
        open_buy = open_sell = 0
        for order in account.orders.values():
            if order.sym == sym:
                if order.side is Side.BUY:
                    open_buy += order.leaves_qty
                else:
                    open_sell += order.leaves_qty
        return account.positions.get(sym, 0), open_buy, open_sell

    def instrument(self, sym: str) -> Instrument | None:
        return self._instruments.get(sym)


@dataclass
class RemoteStats:
    steps: int = 0
    """Passes of the agents' wake loop."""
    commands: int = 0
    trades_seen: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    errors: int = 0
    """Agents' exceptions (each logged; the agent looks again later)."""


async def _execute(client: Any, view: ClientMarketView, command: Command) -> Rejected | None:
    """Send one command through the client; a refusal comes back as a Rejected event."""
    from market_client import ServerError

    user_id = getattr(command, "user_id", None)
    try:
        if isinstance(command, PlaceOrder):
            inst = view.instrument(command.sym)
            assert inst is not None
            price = inst.to_price(command.price) if command.price is not None else None
            await client.place_order(
                command.sym, str(command.side), price, command.qty, str(command.tif),
                type=str(command.type), post_only=command.post_only, client_order_id=command.client_order_id,
            )  # fmt: skip
        elif isinstance(command, CancelOrder):
            await client.cancel_order(command.order_id, client_order_id=command.client_order_id)
        elif isinstance(command, AmendOrder):
            order = view.account(command.user_id).orders.get(command.order_id or -1)
            inst = view.instrument(order.sym) if order is not None else None
            price = inst.to_price(command.price) if inst is not None and command.price is not None else None
            await client.amend_order(
                command.order_id, price=price, qty=command.qty, client_order_id=command.client_order_id
            )
        else:
            return None
    except ServerError as exc:
        code = getattr(exc, "code", "INTERNAL")
        try:
            parsed = Code(code)
        except ValueError:
            parsed = Code.INVALID_FIELD
        sym = getattr(command, "sym", None)
        return Rejected(user_id, parsed, str(exc), sym, getattr(command, "client_order_id", None))
    return None


@dataclass(frozen=True)
class Credentials:
    """A username and password to log in with."""

    username: str
    password: str


class BotsRefused(Exception):
    """The server would not let the agents start; the message says which step failed, why, and what to do."""


GUEST_HINT = (
    "give admin credentials (hftsim bots --admin-user NAME, password in $HFTSIM_ADMIN_PASSWORD) "
    "so the agents trade as funded bot accounts instead of guests"
)


def _refusal(step: str, exc: Exception, hint: str | None = None) -> BotsRefused:
    code = getattr(exc, "code", None)
    reason = str(exc) or type(exc).__name__
    if code and str(code) not in reason:
        reason = f"{code}: {reason}"
    return BotsRefused(f"{step} was refused ({reason})" + (f"; {hint}" if hint else ""))


async def _connect_agents(
    url: str,
    names: list[str],
    watcher: Any,
    password: str | None,
    admin: bool,
    on_event: Callable[[str], Callable[[Any], None]],
) -> dict[str, Any]:
    """One logged-in CMD client per agent name (see the module docstring for where accounts come from)."""
    from market_client import MarketClient, MarketClientError

    clients: dict[str, Any] = {}
    try:
        if admin:
            try:
                granted = (await watcher.send("admin.bots", {"names": names}, timeout=30.0))["bots"]
            except MarketClientError as exc:
                raise _refusal("opening bot accounts (admin.bots)", exc) from exc
            for bot in granted:
                name = str(bot["username"])
                client = MarketClient(url, connect_md=False, on_cmd_event=on_event(name))
                clients[name] = client
                await client.handshake(token=str(bot["token"]))
                await client.__aenter__()
            return clients
        for number, name in enumerate(names, start=1):
            options: dict[str, Any] = {"username": name, "password": password} if password else {}
            try:
                hook = on_event(name)
                clients[name] = await MarketClient.connect(url, connect_md=False, on_cmd_event=hook, **options)
            except MarketClientError as exc:
                step = f"login of agent {name}" if password else f"guest login {number} of {len(names)}"
                raise _refusal(step, exc, None if password else GUEST_HINT) from exc
        return clients
    except BaseException:
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)
        raise


async def run_remote(
    url: str,
    settings: SimSettings,
    seed: int = 1,
    *,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    limits: Limits | None = None,
    admin: Credentials | None = None,
) -> RemoteStats:
    """Connect one client per agent and run the agents until `stop` is set or `duration_s` passes.

    `admin` lets the run open funded bot accounts for its agents (see the
    module docstring). `limits` are the server's risk limits if known (the
    protocol does not publish them); the agents stay well inside them.
    Agents' resting orders are canceled on the way out. Raises BotsRefused
    when the server will not let the agents start.
    """
    from market_client import MarketClient, MarketClientError

    stats = RemoteStats()
    md_target: list[Callable[[Any], None]] = []

    def md_hook(event: Any) -> None:  # forwards to the view once the symbols are known
        if md_target:
            md_target[0](event)

    login: dict[str, Any] = {"username": admin.username, "password": admin.password} if admin else {}
    try:
        md = await MarketClient.connect(url, connect_md=True, on_md_event=md_hook, **login)
    except MarketClientError as exc:
        step = f"the admin login as {admin.username}" if admin else "the market-data guest login"
        raise _refusal(step, exc, None if admin else GUEST_HINT) from exc
    clients: dict[str, Any] = {}
    try:
        if admin and not (md.user or {}).get("is_admin"):
            raise BotsRefused(f"{admin.username} is not an admin, so it cannot open bot accounts")
        symbols = await md.get_symbols(force_refresh=True)
        instruments = {s["sym"]: instrument_from_wire(s) for s in symbols}
        view = ClientMarketView(md, instruments)
        for s in symbols:
            inst = instruments[s["sym"]]
            if s.get("last") is not None:
                view.set_last(inst.sym, inst.to_ticks(str(s["last"])))
        md_target.append(view.on_md_event)
        sim = Simulation(settings, list(instruments.values()), seed, limits=limits)

        users: dict[str, int] = {}

        def on_event(name: str) -> Callable[[Any], None]:
            def hook(event: Any) -> None:
                if name in users:
                    view.on_cmd_event(users[name], event)

            return hook

        clients = await _connect_agents(url, sim.agent_names(), md, settings.password, admin is not None, on_event)
        for name, client in clients.items():
            users[name] = int((client.user or {})["user_id"])
        sim.bind_users(users, str(time.time_ns()))  # the wall clock at start: a later run has a larger id
        by_user = {users[name]: clients[name] for name in clients}

        async def resync() -> None:
            for name, client in clients.items():
                try:
                    view.load(users[name], await client.list_orders(), await client.get_account())
                except Exception:
                    log.exception("resync of %s failed", name)

        await resync()
        pending: set[asyncio.Task[Rejected | None]] = set()

        def learn() -> None:  # ahead of every wake-up: what MD showed since the last one
            trades, view.trades = view.trades, []
            if trades:
                stats.trades_seen += len(trades)
                sim.on_result(Result(0, list(trades)))
            moved, view.moved = view.moved, set()
            for sym in sorted(moved):
                sim.on_book(sym)

        def answered(task: asyncio.Task[Rejected | None]) -> None:
            pending.discard(task)
            if task.cancelled():
                return
            error = task.exception()
            if error is not None:
                stats.failures += 1
                log.warning("command failed: %s", error)
                return
            outcome = task.result()
            if outcome is not None:
                if outcome.code not in stats.rejections:
                    log.warning("the server refused an agent's order: %s (%s)", outcome.code, outcome.message)
                stats.rejections[outcome.code] = stats.rejections.get(outcome.code, 0) + 1
                sim.on_result(Result(0, [outcome]))

        def submit(command: Command) -> None:
            user_id = getattr(command, "user_id", None)
            client = by_user.get(user_id) if isinstance(user_id, int) else None
            if client is not None:
                task = asyncio.create_task(_execute(client, view, command))
                pending.add(task)
                task.add_done_callback(answered)

        runner = AgentRunner(sim, view, submit, ready=lambda: len(pending) < MAX_IN_FLIGHT, yield_every=1)
        runner.before_step = learn
        loop = asyncio.get_running_loop()
        deadline = math.inf if duration_s is None else loop.time() + duration_s
        halt = stop if stop is not None else asyncio.Event()
        runner.start()
        try:
            while not halt.is_set() and loop.time() < deadline:
                wait = min(RESYNC_EVERY_S, deadline - loop.time())
                try:
                    await asyncio.wait_for(halt.wait(), timeout=max(wait, 0.0))
                except TimeoutError:
                    if loop.time() < deadline:
                        await resync()
        finally:
            await runner.stop()
            await asyncio.gather(*pending, return_exceptions=True)
            stats.steps, stats.commands = runner.steps, runner.commands
            stats.failures += runner.failures
            stats.errors = sim.errors
    finally:
        for client in clients.values():
            try:
                await client.cancel_all()
            except Exception:
                log.warning("could not cancel an agent's orders on the way out", exc_info=True)
        for client in [*clients.values(), md]:
            try:
                await client.aclose()
            except Exception:
                log.warning("could not close a client", exc_info=True)
    return stats
