"""The read models in a snapshot: the same answers after a round trip, in either build and across them, and from a
snapshot saved before they were compiled."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from hftsim import compiled
from hftsim.engine import FillView, Trade
from hftsim.store.history import Bar, FillHistory, MarketHistory
from hftsim.testing import without_compiled_code

from .history_market import CROSSING, Market, answers, as_before, trade_in

TESTS = Path(__file__).resolve().parent.parent


def in_plain_build(snapshot: Path, site: Path) -> tuple[bool, list[str], Market]:
    """SNAPSHOT loaded by a child Python that runs the read models from their sources: whether it ran compiled, its
    answers, and the market as that build pickled it back."""
    done = subprocess.run(
        [sys.executable, "-m", "store.history_market", str(snapshot)],
        cwd=TESTS,
        env={**os.environ, **without_compiled_code(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ran_compiled, told = json.loads(done.stdout)
    again: Market = pickle.loads(snapshot.with_name(snapshot.name + ".again").read_bytes())
    return ran_compiled, told, again


def test_a_snapshot_crosses_between_the_builds(tmp_path: Path) -> None:
    """Written compiled, read plain, written plain, read compiled: the same answers at each step."""
    assert compiled.ORDER_PATH.compiled, compiled.ORDER_PATH.note
    market, records = trade_in(CROSSING)
    assert len(records) >= 10 and len({r.sym for r in records}) == 2
    snapshot = tmp_path / "market.pickle"
    snapshot.write_bytes(pickle.dumps(market, protocol=pickle.HIGHEST_PROTOCOL))
    ran_compiled, told, again = in_plain_build(snapshot, tmp_path / "site")
    assert not ran_compiled
    assert told == answers(market)
    assert answers(again) == answers(market)


def test_a_snapshot_holds_the_form_the_plain_classes_kept(tmp_path: Path) -> None:
    """What a snapshot holds per fill is a Trade on the tape and each user's FillView, as before the records were
    kept: as compact as it was, and readable by a server from before."""
    market, records = trade_in(CROSSING)
    history, fills = market
    assert pickle.dumps(market, protocol=pickle.HIGHEST_PROTOCOL) == as_before(records)
    tape = history.__getstate__()["_trades"]["ACME"]
    assert tape and all(type(t) is Trade for t in tape)
    kept = fills.__getstate__()["_fills"]
    assert all(type(f) is FillView for views in kept.values() for f in views)
    assert all(type(b) is Bar for b in history.__getstate__()["_seconds"]["ACME"])


def test_a_snapshot_saved_before_loads_in_either_build(tmp_path: Path) -> None:
    """A snapshot of the plain classes (FillViews per user, the bars a slotted dataclass) gives the answers the
    records give, compiled and plain; one saved before fees were split by symbol counts them from then on."""
    market, records = trade_in(CROSSING)
    snapshot = tmp_path / "before.pickle"
    snapshot.write_bytes(as_before(records))
    loaded: Market = pickle.loads(snapshot.read_bytes())
    assert isinstance(loaded[0], MarketHistory) and isinstance(loaded[1], FillHistory)
    assert answers(loaded) == answers(market)
    ran_compiled, told, _ = in_plain_build(snapshot, tmp_path / "site")
    assert not ran_compiled and told == answers(market)
    _, fills = pickle.loads(as_before(records, fees=False))
    assert fills.fills(1, None, 1000) == market[1].fills(1, None, 1000) and fills.fees(1) == {}
    fills.on_fill(records[0])
    assert fills.fees(records[0].maker_id) == {records[0].sym: records[0].maker_fee}
