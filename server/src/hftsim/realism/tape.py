"""Record what the market did, order by order, while the agents trade against a real Engine.

`record` drives a fresh `Engine` and `Simulation` in a plain loop (no
sockets, no clock: faster than real time), applying each agent's wake-up at
its own microsecond of simulated time (a `Recording` can be run on later,
or copied and run on differently), and keeps, per symbol, what an
outside observer of a full order-by-order feed would see: every new limit
order with its distance from the best price on its own side, every
cancellation with the order's age, every aggressive order with its size,
sign and the mid before it, every trade, and once per simulated second the
mid, the fair value, the spread and the quantities at the touch. The facts
(`facts`) and the distances (`lobbench`) are computed from these tapes only.

An amend that moves an order's price counts as a cancellation and a new
order, as order-by-order feeds of real exchanges report it.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..engine import Engine, Fill, Limits, OrderCanceled, OrderStatus, Result
from ..engine.commands import AmendOrder, CancelOrder, Command, OrderType, PlaceOrder, Side, Tif
from ..engine.instruments import Instrument
from ..sim.config import SimSettings
from ..sim.simulation import Simulation

TS0_MS = 1_764_000_000_000
"""Engine timestamp of the start of a recording (any fixed value: the runs are offline)."""

Progress = Callable[[float], None]
"""Called with the simulated seconds done so far in this recording."""

Inject = Callable[[float, Engine], list[Command]]
"""Extra commands sent at the end of every simulated second (simulated ms, the engine): how an experiment
adds its own trader."""


@dataclass
class Tape:
    """One symbol's record of one run. Times are simulated seconds from the start, to the microsecond."""

    sym: str
    tick: float
    """Tick size in price units (for the report)."""
    ref_ticks: int
    seconds: int = 0
    mid: list[float] = field(default_factory=list)
    """Mid (ticks) at the end of each simulated second; NaN while a side is empty."""
    fair: list[float] = field(default_factory=list)
    """Fair value (ticks) at the end of each simulated second."""
    spread: list[float] = field(default_factory=list)
    """Spread (ticks) at the end of each simulated second; NaN while a side is empty."""
    touch_bid: list[int] = field(default_factory=list)
    """Quantity at the best bid at the end of each simulated second."""
    touch_ask: list[int] = field(default_factory=list)
    volume: list[int] = field(default_factory=list)
    """Traded quantity during each simulated second."""
    # Order flow -----------------------------------------------------------------------------
    messages: list[float] = field(default_factory=list)
    """Time of every order message (new, cancel, amend)."""
    taker_t: list[float] = field(default_factory=list)
    """Aggressive orders (orders that traded on arrival): time, signed size (+ buy), mid before (ticks)."""
    taker_qty: list[int] = field(default_factory=list)
    taker_sign: list[int] = field(default_factory=list)
    taker_mid: list[float] = field(default_factory=list)
    limit_depth: list[int] = field(default_factory=list)
    """New resting limit orders: ticks behind the best price on their own side when placed (<0: inside)."""
    limit_qty: list[int] = field(default_factory=list)
    cancel_age: list[float] = field(default_factory=list)
    """Age (s) of every cancelled resting order."""
    resting: int = 0
    """Resting limit orders placed."""
    filled_resting: int = 0
    """Resting limit orders that were filled at least partly."""
    trades: int = 0
    lot: int = 1
    round_lot: int = 10
    """The agents' typical order size in lots: this market's round lot."""


class Recording:
    """A market taped as it runs: it can be run on, and copied to run on differently."""

    def __init__(self, tapes: dict[str, Tape], sim: Simulation, engine: Engine) -> None:
        self.tapes = tapes
        self.sim = sim
        self.engine = engine
        self.wall_s = 0.0
        self.commands = 0
        self.seconds = 0
        """Simulated seconds run so far."""
        self._flow = _Flow(engine, tapes)

    def run(self, seconds: float, *, progress: Progress | None = None, inject: Inject | None = None) -> None:
        """Run on to `seconds` of simulated time from the start (whole seconds), taping every symbol."""
        engine, sim, tapes, flow = self.engine, self.sim, self.tapes, self._flow
        started = time.perf_counter()
        commands = 0
        for second in range(self.seconds + 1, int(seconds + 1e-9) + 1):
            until_ms = second * 1000.0
            while (batch := sim.wake(engine, until_ms)) is not None:
                t_ms = sim.sim_time_ms
                for command in batch:
                    sim.on_result(flow.apply(command, t_ms / 1000.0, TS0_MS + int(t_ms)))
                commands += len(batch)
            if inject is not None:
                for command in inject(until_ms, engine):
                    sim.on_result(flow.apply(command, second, TS0_MS + int(until_ms)))
                    commands += 1
            _sample(engine, sim, tapes, flow)
            self.seconds = second
            if progress is not None:
                progress(float(second))
        self.wall_s += time.perf_counter() - started
        self.commands += commands

    def copy(self) -> Recording:
        """An independent copy of the market as it stands: its book, its agents with their random generators,
        its tapes. Paired runs of an experiment go on from one copied state, so they differ by the experiment
        only, not by a warm-up run twice."""
        copied: Recording = pickle.loads(pickle.dumps(self, pickle.HIGHEST_PROTOCOL))
        return copied


class _Flow:
    """Turns commands and their results into tape rows."""

    def __init__(self, engine: Engine, tapes: dict[str, Tape]) -> None:
        self.engine = engine
        self.tapes = tapes
        self.born: dict[int, tuple[str, float]] = {}
        """Resting order id -> (symbol, time placed)."""
        self.filled: set[int] = set()
        self.volume: dict[str, int] = dict.fromkeys(tapes, 0)

    def apply(self, command: Command, t_s: float, ts_ms: int) -> Result:
        engine = self.engine
        kind = type(command)
        if kind is PlaceOrder:
            assert isinstance(command, PlaceOrder)
            return self._place(command, t_s, ts_ms)
        result = engine.apply(command, ts_ms)
        for event in result.events:
            etype = type(event)
            if etype is OrderCanceled:
                assert isinstance(event, OrderCanceled)
                self._cancelled(event.order.order_id, t_s)
            elif etype is Fill:
                assert isinstance(event, Fill)
                self._fill(event)
        if kind is CancelOrder or kind is AmendOrder:
            order = result.order
            if order is not None and order.sym in self.tapes:
                self.tapes[order.sym].messages.append(t_s)
            if kind is AmendOrder and order is not None and result.rejection is None:
                assert isinstance(command, AmendOrder)
                if command.price is not None and order.leaves_qty and order.order_id in self.born:
                    self._cancelled(order.order_id, t_s)
                    self._rest(order.order_id, order.sym, order.side, order.price, order.leaves_qty, t_s, None)
        return result

    def _place(self, command: PlaceOrder, t_s: float, ts_ms: int) -> Result:
        engine = self.engine
        tape = self.tapes.get(command.sym)
        bid, ask = engine.best_bid_ask(command.sym)
        result = engine.apply(command, ts_ms)
        if tape is None:
            return result
        tape.messages.append(t_s)
        traded = 0
        for event in result.events:
            etype = type(event)
            if etype is Fill:
                assert isinstance(event, Fill)
                self._fill(event)
                traded += event.qty
            elif etype is OrderCanceled:
                assert isinstance(event, OrderCanceled)
                self._cancelled(event.order.order_id, t_s)
        if traded:
            tape.taker_t.append(t_s)
            tape.taker_qty.append(command.qty // tape.lot)
            tape.taker_sign.append(1 if command.side is Side.BUY else -1)
            tape.taker_mid.append((bid + ask) / 2 if bid is not None and ask is not None else float("nan"))
        order = result.order
        if (
            order is not None
            and command.type is OrderType.LIMIT
            and command.tif is Tif.GTC
            and order.leaves_qty
            and command.price is not None
        ):
            same = bid if command.side is Side.BUY else ask
            self._rest(order.order_id, command.sym, command.side, command.price, command.qty, t_s, same)
        return result

    def _rest(
        self, order_id: int, sym: str, side: Side, price: int | None, qty: int, t_s: float, same: int | None
    ) -> None:
        tape = self.tapes[sym]
        if same is None:
            bid, ask = self.engine.best_bid_ask(sym)
            same = bid if side is Side.BUY else ask
        if price is not None and same is not None:
            tape.limit_depth.append(same - price if side is Side.BUY else price - same)
        tape.limit_qty.append(qty // tape.lot)
        tape.resting += 1
        self.born[order_id] = (sym, t_s)

    def _cancelled(self, order_id: int, t_s: float) -> None:
        born = self.born.pop(order_id, None)
        if born is not None:
            self.tapes[born[0]].cancel_age.append(t_s - born[1])
        self.filled.discard(order_id)

    def _fill(self, fill: Fill) -> None:
        tape = self.tapes.get(fill.sym)
        if tape is not None:
            tape.trades += 1
            self.volume[fill.sym] += fill.qty // tape.lot
        maker_id = fill.maker_order_id
        if maker_id in self.born and maker_id not in self.filled:
            self.filled.add(maker_id)
            self.tapes[self.born[maker_id][0]].filled_resting += 1
        for order_id, status in ((maker_id, fill.maker_status), (fill.taker_order_id, fill.taker_status)):
            if status is OrderStatus.FILLED:
                self.born.pop(order_id, None)
                self.filled.discard(order_id)


def record(
    instruments: Sequence[Instrument],
    settings: SimSettings,
    seed: int,
    seconds: float,
    *,
    limits: Limits,
    initial_cash: int,
    progress: Progress | None = None,
    inject: Inject | None = None,
) -> Recording:
    """Run the agents for `seconds` of simulated time against a fresh Engine, taping every symbol."""
    rec = start(instruments, settings, seed, limits=limits, initial_cash=initial_cash)
    rec.run(seconds, progress=progress, inject=inject)
    return rec


def start(
    instruments: Sequence[Instrument], settings: SimSettings, seed: int, *, limits: Limits, initial_cash: int
) -> Recording:
    """A fresh Engine with the agents' accounts open, at simulated time 0, ready to `Recording.run`."""
    engine = Engine(instruments, limits, initial_cash)
    sim = Simulation(settings, instruments, seed, limits=limits)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, TS0_MS)
    tapes = {
        inst.sym: Tape(inst.sym, float(inst.tick), inst.ref_price, lot=inst.lot)
        for inst in instruments
        if inst.sym in sim.symbols
    }
    for sym, tape in tapes.items():
        tape.round_lot = max(1, sim.state(sym).order_size // tape.lot)
    return Recording(tapes, sim, engine)


def _sample(engine: Engine, sim: Simulation, tapes: dict[str, Tape], flow: _Flow) -> None:
    nan = float("nan")
    for sym, tape in tapes.items():
        bids, asks = engine.book_levels(sym, 1)
        if bids and asks:
            tape.mid.append((bids[0][0] + asks[0][0]) / 2)
            tape.spread.append(float(asks[0][0] - bids[0][0]))
        else:
            tape.mid.append(nan)
            tape.spread.append(nan)
        tape.touch_bid.append(bids[0][1] // tape.lot if bids else 0)
        tape.touch_ask.append(asks[0][1] // tape.lot if asks else 0)
        tape.fair.append(sim.fair_value(sym))
        tape.volume.append(flow.volume[sym])
        flow.volume[sym] = 0
        tape.seconds += 1
