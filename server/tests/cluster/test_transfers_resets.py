"""A credit taken before a round start or a restore stays taken, on a shard and after its restart.

JetStream drops a copy of a credit only within its two-minute window; a
copy appended later (a source shard restarted from an older snapshot
appends the credits of the debits it replays) reaches the destination's
engine, which must refuse it however the market was reset in between, or
it would create cash. Run in process on the shard's own code: the markers
as the shard and every replica apply them, its snapshot file as a restart
loads it.
"""

from __future__ import annotations

from pathlib import Path

from hftsim.cluster.layout import Layout
from hftsim.cluster.markers import Marker, apply_marker, fresh, replace
from hftsim.cluster.shard import restore
from hftsim.cluster.snapshots import Snapshot, SnapshotFile
from hftsim.config import load
from hftsim.engine import Code, CreditCash, Engine, Result
from hftsim.store.history import FillHistory, MarketHistory

SETTINGS = load(cluster={"shards": {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}})
LAYOUT = Layout.of(SETTINGS)
B = 1
"""The destination: shard b, credited by shard a."""
CREDIT = CreditCash(7, 100_000, "a", 5)


def refused(result: Result) -> bool:
    return result.rejection is not None and result.rejection.code is Code.DUPLICATE_TRANSFER


def credited_then_reset(kind: str) -> Engine:
    """Shard b's engine after taking `CREDIT` and then a round start or a restore of a market saved before it."""
    engine = LAYOUT.engine(SETTINGS, B)
    saved = fresh(engine)
    assert engine.apply(CREDIT, 1).rejection is None and engine.cash(7) == engine.initial_cash + 100_000
    if kind == "round_start":
        data = {"round_id": 1, "name": "r", "started_ts": 2, "ends_at": None}
        apply_marker(engine, None, Marker("round_start", data), 2)
    else:
        replace(engine, saved, 2)
    assert engine.cash(7) == engine.initial_cash  # the reset: the credit's cash is gone with the old market
    return engine


def test_a_credit_taken_before_a_round_start_or_a_restore_is_refused_after_it() -> None:
    for kind in ("round_start", "restore"):
        engine = credited_then_reset(kind)
        assert refused(engine.apply(CREDIT, 3)), kind
        assert engine.cash(7) == engine.initial_cash
        assert engine.apply(CreditCash(7, 1, "a", 6), 4).rejection is None  # a later transfer is taken


def test_the_credits_taken_survive_the_shards_snapshot_and_restart(tmp_path: Path) -> None:
    engine = credited_then_reset("round_start")
    snapshot = Snapshot(engine, 2, MarketHistory(list(LAYOUT.shards[B].symbols)), FillHistory())
    SnapshotFile(tmp_path, "b").save(snapshot.dumps())
    restarted, _ = restore(LAYOUT, B, SETTINGS, tmp_path)
    assert restarted.seq == 2 and restarted.engine.state_hash() == engine.state_hash()
    assert refused(restarted.engine.apply(CREDIT, 3))
    assert restarted.engine.cash(7) == engine.initial_cash
