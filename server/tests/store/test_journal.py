"""Journal and snapshot recovery rebuild the exact engine state."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from hftsim.config import ConfigError, load
from hftsim.engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from hftsim.gateway.sequencer import Sequencer
from hftsim.gateway.venue import recover
from hftsim.store import codec
from hftsim.store.database import Database
from hftsim.store.dbjournal import DatabaseJournal
from hftsim.store.errors import StoreUnavailable
from hftsim.store.segments import SegmentJournal

from .conftest import Backend


def random_commands(n: int, seed: int) -> list[Command]:
    rng = random.Random(seed)
    out: list[Command] = []
    for _ in range(n):
        user = rng.randint(1, 4)
        roll = rng.random()
        if roll < 0.6:
            market = rng.random() < 0.1
            out.append(
                PlaceOrder(
                    user_id=user,
                    sym=rng.choice(["ACME", "BOLT"]),
                    side=rng.choice(list(Side)),
                    qty=rng.randint(1, 20),
                    price=None if market else rng.randint(840, 860) * 5,
                    type=OrderType.MARKET if market else OrderType.LIMIT,
                    tif=Tif.IOC if market else rng.choice(list(Tif)),
                    client_order_id=f"c{rng.randint(1, 50)}" if rng.random() < 0.3 else None,
                )
            )
        elif roll < 0.85:
            out.append(CancelOrder(user_id=user, order_id=rng.randint(1, n)))
        elif roll < 0.95:
            out.append(AmendOrder(user_id=user, order_id=rng.randint(1, n), qty=rng.randint(1, 20)))
        elif roll < 0.98:
            out.append(CancelAll(user_id=user, sym=rng.choice([None, "ACME"])))
        else:
            out.append(SetSymbolStatus(sym="BOLT", status=rng.choice(list(SymbolStatus))))
    return out


def test_codec_round_trips_every_command_kind() -> None:
    commands = random_commands(500, seed=3)
    assert {type(c) for c in commands} == {PlaceOrder, CancelOrder, AmendOrder, CancelAll, SetSymbolStatus}
    assert [codec.decode(codec.encode(c)) for c in commands] == commands


@pytest.mark.parametrize("snapshot_at", [None, 700])
def test_recovery_reproduces_the_state_hash(backend: Backend, snapshot_at: int | None, tmp_path: Path) -> None:
    settings = load()
    journal = backend.open()
    engine, history, fills, _ = recover(settings, journal, tmp_path)
    sequencer = Sequencer(engine, journal)
    for i, command in enumerate(random_commands(2000, seed=11), start=1):
        sequencer.submit_now(command)
        if i == snapshot_at:
            journal.roll()
            journal.save_snapshot(engine.seq, (engine, history, fills))
    journal.close()
    again, *_ = recover(settings, backend.open(), tmp_path)
    assert again.seq == engine.seq == 2000
    assert again.state_hash() == engine.state_hash()


def test_a_market_with_other_symbols_is_refused(backend: Backend, tmp_path: Path) -> None:
    settings = load()
    journal = backend.open()
    engine, history, fills, _ = recover(settings, journal, tmp_path)
    journal.save_snapshot(engine.seq, (engine, history, fills))
    fewer = load(symbols=[s.model_dump() for s in settings.symbols[:2]])
    with pytest.raises(ConfigError, match="--reset"):
        recover(fewer, journal, tmp_path)
    journal.reset()
    engine, *_ = recover(fewer, journal, tmp_path)
    assert [i.sym for i in engine.instruments] == ["ACME", "BOLT"]


def test_one_process_at_a_time_holds_a_postgresql_journal(new_postgres_db: Callable[[], str]) -> None:
    database = Database(new_postgres_db())
    first = DatabaseJournal(database)
    with pytest.raises(StoreUnavailable, match="another hftsim process holds this database's journal"):
        DatabaseJournal(database)
    first.close()
    DatabaseJournal(database).close()


def test_one_process_at_a_time_holds_a_segment_journal(tmp_path: Path) -> None:
    first = SegmentJournal(tmp_path)
    with pytest.raises(StoreUnavailable, match="another hftsim process holds the journal in"):
        SegmentJournal(tmp_path)
    first.close()
    SegmentJournal(tmp_path).close()
