"""Cash moved between engines: a debit leaves every open order covered, a credit is taken once per `ref`.

Each user starts with 2,000,000 cash units (20,000.00): 200 ACME at 100.00.
"""

from __future__ import annotations

import pickle

import pytest

from hftsim.engine import Code, CreditCash, DebitCash, Engine, Limits, PlaceOrder, Result, Side
from hftsim.store.codec import decode, encode

CASH = 2_000_000


@pytest.fixture
def engine(engine: Engine) -> Engine:
    return type(engine)(engine.instruments, Limits(max_order_qty=1000, max_position=2000), CASH)


def run(engine: Engine, command: PlaceOrder | DebitCash | CreditCash) -> Result:
    return engine.apply(command, engine.seq + 1)


def code(result: Result) -> Code | None:
    return result.rejection.code if result.rejection is not None else None


def test_a_debit_takes_only_cash_no_open_buy_has_committed(engine: Engine) -> None:
    assert run(engine, PlaceOrder(1, "ACME", Side.BUY, 150, 10000)).rejection is None  # commits 1,500,000
    refused = run(engine, DebitCash(1, 500_001, "b"))
    assert code(refused) is Code.INSUFFICIENT_FUNDS and refused.rejection is not None
    assert "moving out 5000.01 needs that much free cash, but only 5000.00 is available" in refused.rejection.message
    assert engine.cash(1) == CASH
    assert run(engine, DebitCash(1, 500_000, "b")).events == []
    assert engine.cash(1) == engine.opening_cash(1) == 1_500_000 and engine.available(1) == 0
    assert code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9000))) is Code.INSUFFICIENT_FUNDS


def test_a_credit_is_taken_once_per_ref_and_source(engine: Engine) -> None:
    assert run(engine, CreditCash(2, 300_000, "a", 5)).rejection is None
    assert engine.cash(2) == engine.opening_cash(2) == CASH + 300_000 and engine.credited(2, "a") == 5
    again = run(engine, CreditCash(2, 300_000, "a", 5))
    assert (
        code(again) is Code.DUPLICATE_TRANSFER
        and code(run(engine, CreditCash(2, 1, "a", 4))) is Code.DUPLICATE_TRANSFER
    )
    assert run(engine, CreditCash(2, 1, "c", 1)).rejection is None  # another source counts on its own
    assert run(engine, CreditCash(2, 1, "a", 9)).rejection is None
    assert engine.cash(2) == CASH + 300_002
    assert run(engine, PlaceOrder(2, "ACME", Side.BUY, 230, 10000)).rejection is None  # spends the credit


@pytest.mark.parametrize(
    "command",
    [
        DebitCash(1, 0, "b"),
        DebitCash(1, -5, "b"),
        DebitCash(1, 10, ""),
        CreditCash(1, 10, "a", 0),
        CreditCash(1, 10, "", 3),
    ],
)
def test_malformed_transfers_are_refused_as_invalid(engine: Engine, command: DebitCash | CreditCash) -> None:
    before = engine.state()[1:]
    assert code(run(engine, command)) is Code.INVALID_FIELD
    assert engine.state()[1:] == before


def test_transfers_journal_replay_and_snapshot_to_the_same_state(engine: Engine) -> None:
    commands: list[PlaceOrder | DebitCash | CreditCash] = [
        DebitCash(1, 700_000, "b"), CreditCash(1, 250_000, "b", 3), PlaceOrder(1, "ACME", Side.BUY, 150, 10000)
    ]  # fmt: skip
    assert [decode(encode(c)) for c in commands] == commands
    for command in commands:
        assert run(engine, command).rejection is None
    replayed = type(engine)(engine.instruments, engine.limits, engine.initial_cash)
    for command in commands:
        run(replayed, command)
    assert replayed.state_hash() == engine.state_hash()
    restored = pickle.loads(pickle.dumps(engine))
    assert restored.state_hash() == engine.state_hash() and restored.credited(1, "b") == 3
