"""Read models fed from a real engine, their answers as text, and a snapshot as the plain classes wrote one.

Run as a module (`python -m store.history_market SNAPSHOT`, from tests/), it
loads the pickled `(MarketHistory, FillHistory)` in SNAPSHOT in the build
the environment selects, prints that build (compiled or not) and the
answers as JSON, and writes the pair back, pickled by that build, to
SNAPSHOT with `.again` appended: the history's tests run it with the
compiled build blocked, for snapshots crossing between the two builds.
"""

from __future__ import annotations

import copyreg
import io
import json
import pickle
import sys
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from hftsim import compiled
from hftsim.engine import Engine, Fees, Fill, FillView, Instrument, Limits, PlaceOrder, Side, Trade
from hftsim.gateway.readmodels import record
from hftsim.store.history import Bar, FillHistory, MarketHistory

ACME = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10), Fees(maker_bps=Decimal(-1), taker_bps=Decimal(3)))
BOLT = Instrument("BOLT", Decimal("0.05"), 10, 20, 1000, Decimal(20), Fees(taker_per_lot=Decimal("0.01")))
INSTRUMENTS = {i.sym: i for i in (ACME, BOLT)}
USERS = (1, 2, 3, 4)
Order = tuple[int, str, Side, int, int]
"""User, symbol, side, lots (above the symbol's least) and ticks from its reference price."""
Market = tuple[MarketHistory, FillHistory]
T = TypeVar("T")


def trade_in(orders: Iterable[Order], per_user: int = 1000, ms_apart: int = 400) -> tuple[Market, list[Fill]]:
    """The orders placed on a new engine, `ms_apart` between them, each result recorded as the venue records it;
    the read models and the engine's fill records."""
    engine = Engine(list(INSTRUMENTS.values()), Limits(max_order_qty=1000, max_position=5000), 100_000_000)
    history, fills = MarketHistory(list(INSTRUMENTS)), FillHistory(per_user)
    kept: list[Fill] = []
    for n, (user_id, sym, side, lots, ticks) in enumerate(orders):
        instrument = INSTRUMENTS[sym]
        qty = instrument.min_qty + lots * instrument.lot
        result = engine.apply(PlaceOrder(user_id, sym, side, qty, instrument.ref_price + ticks), n * ms_apart)
        record(result, (engine, history, fills, None))
        kept += [e for e in result.events if isinstance(e, Fill)]
    return (history, fills), kept


CROSSING: list[Order] = [
    (user_id, sym, Side.SELL if n % 2 else Side.BUY, n % 3, n % 5 - 2)
    for n, (user_id, sym) in enumerate((u, s) for s in INSTRUMENTS for u in (*USERS, *USERS, *USERS))
]
"""Orders that cross often: every user trades both symbols, as maker and as taker, over several seconds."""


def answers(market: Market) -> list[str]:
    """Every answer the read models give a query (trades, first prices, candles, fills, fees), as text."""
    history, fills = market
    out: list[str] = []
    for sym in INSTRUMENTS:
        tape = history.trades(sym, 10**6)
        now = tape[-1].ts if tape else 0
        bars = [(b.t, b.o, b.h, b.l, b.c, b.v) for b in history.candles(sym, 1000, 100, now)]
        out += [repr(tape), repr(history.trades(sym, 3)), repr(history.first_price(sym)), repr(bars)]
    for user_id in USERS:
        for sym_or_all in (None, *INSTRUMENTS):
            out += [repr(fills.fills(user_id, sym_or_all, 1000)), repr(fills.fills(user_id, sym_or_all, 2))]
        out.append(repr(sorted(fills.fees(user_id).items())))
    return out


class AsBefore(pickle.Pickler):
    """Pickles the instances given their states as instances of plain classes were: the class made bare
    (`copyreg.__newobj__`), then its state (a plain class's `__dict__`; a slotted class's `(None, slots by name)`)."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._states: dict[int, tuple[object, object]] = {}

    def bare(self, cls: type[T], state: object) -> T:
        """An instance of `cls` that is pickled as `cls` with `state`."""
        instance: T = cls.__new__(cls)
        self._states[id(instance)] = (instance, state)
        return instance

    def reducer_override(self, obj: object) -> Any:
        found = self._states.get(id(obj))
        newobj = copyreg.__newobj__  # type: ignore[attr-defined]  # what `object.__reduce_ex__` names; not in typeshed
        return NotImplemented if found is None else (newobj, (type(obj),), found[1])


def as_before(fills: list[Fill], per_user: int = 1000, fees: bool = True) -> bytes:
    """A snapshot of the read models as they were kept before they were compiled, fed `fills`: a Trade per fill on
    the tape, one-second `Bar`s (a slotted dataclass), each user's `FillView`s, the fees per symbol (absent from a
    market saved before they were split by symbol: `fees` False)."""
    trades: dict[str, deque[Trade]] = {sym: deque(maxlen=10_000) for sym in INSTRUMENTS}
    seconds: dict[str, deque[Bar]] = {sym: deque(maxlen=24 * 3600) for sym in INSTRUMENTS}
    first_price: dict[str, int] = {}
    views: dict[int, deque[FillView]] = {}
    by_user: dict[int, dict[str, int]] = {}
    bars: dict[str, list[list[int]]] = {sym: [] for sym in INSTRUMENTS}
    for fill in fills:
        trades[fill.sym].append(fill.trade())
        first_price.setdefault(fill.sym, fill.price)
        t, sym_bars = fill.ts - fill.ts % 1000, bars[fill.sym]
        if sym_bars and sym_bars[-1][0] == t:
            t, o, h, low, _, v = sym_bars[-1]
            sym_bars[-1] = [t, o, max(h, fill.price), min(low, fill.price), fill.price, v + fill.qty]
        else:
            sym_bars.append([t, fill.price, fill.price, fill.price, fill.price, fill.qty])
        for maker in (True, False):
            view = fill.fill(maker)
            views.setdefault(view.user_id, deque(maxlen=per_user)).append(view)
            paid = by_user.setdefault(view.user_id, {})
            paid[view.sym] = paid.get(view.sym, 0) + view.fee
    out = io.BytesIO()
    pickler = AsBefore(out)
    for sym, sym_bars in bars.items():
        seconds[sym].extend(pickler.bare(Bar, (None, dict(zip("tohlcv", bar, strict=True)))) for bar in sym_bars)
    history = pickler.bare(MarketHistory, {"_trades": trades, "_seconds": seconds, "_first_price": first_price})
    fill_state: dict[str, object] = {"_per_user": per_user, "_fills": views}
    if fees:
        fill_state["_fees"] = by_user
    pickler.dump((history, pickler.bare(FillHistory, fill_state)))
    return out.getvalue()


def main(snapshot: Path) -> None:
    market: Market = pickle.loads(snapshot.read_bytes())
    print(json.dumps([compiled.ORDER_PATH.compiled, answers(market)]))
    snapshot.with_name(snapshot.name + ".again").write_bytes(pickle.dumps(market, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
