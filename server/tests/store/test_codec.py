"""The journal codec: exact round trips for whatever the engine accepts, and nothing else gets through."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hftsim.config import load
from hftsim.engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreditCash,
    DebitCash,
    Engine,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from hftsim.engine.instruments import cash_decimals
from hftsim.store import codec
from hftsim.store.errors import CodecError, StoreError

INT64 = st.integers(-(2**63), 2**63 - 1)
SETTINGS = load()
SYMS = [s.sym for s in SETTINGS.instruments()]
# Mostly values that trade, sometimes anything a 64-bit field can hold, so rejections are journaled too.
INTS = st.one_of(st.integers(1, 30), st.integers(-3, 3), INT64)
PRICES = st.one_of(st.none(), st.integers(90, 110).map(lambda p: p * 100), INT64)
USERS = st.one_of(st.integers(1, 4), INT64)
SYM = st.one_of(st.sampled_from(SYMS), st.text(max_size=8))
COID = st.one_of(st.none(), st.sampled_from(["a", "b"]), st.text(max_size=70))
ORDER_IDS = st.one_of(st.none(), st.integers(1, 40), INT64)

COMMANDS: st.SearchStrategy[Command] = st.one_of(
    st.builds(
        PlaceOrder,
        user_id=USERS,
        sym=SYM,
        side=st.sampled_from(Side),
        qty=INTS,
        price=PRICES,
        type=st.sampled_from(OrderType),
        tif=st.sampled_from(Tif),
        post_only=st.booleans(),
        client_order_id=COID,
    ),
    st.builds(CancelOrder, user_id=USERS, order_id=ORDER_IDS, client_order_id=COID),
    st.builds(CancelAll, user_id=USERS, sym=st.one_of(st.none(), SYM)),
    st.builds(AmendOrder, user_id=USERS, order_id=ORDER_IDS, client_order_id=COID, price=PRICES, qty=st.none() | INTS),
    st.builds(SetSymbolStatus, sym=SYM, status=st.sampled_from(SymbolStatus)),
)


def new_engine() -> Engine:
    instruments = SETTINGS.instruments()
    cash = int(SETTINGS.accounts.initial_cash.scaleb(cash_decimals(instruments)))
    return Engine(instruments, SETTINGS.engine_limits(), initial_cash=cash)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(COMMANDS, min_size=1, max_size=60))
def test_journaled_commands_replay_into_the_same_state(commands: list[Command]) -> None:
    original = new_engine()
    journal: list[tuple[int, bytes]] = []
    results = []
    for ts, command in enumerate(commands, start=1):
        try:
            data = codec.encode(command)
        except CodecError:
            continue  # the sequencer refuses it before the engine sees it, as here
        journal.append((ts, data))
        results.append(original.apply(command, ts))
    replayed = new_engine()
    assert [replayed.apply(codec.decode(data), ts) for ts, data in journal] == results
    assert replayed.state_hash() == original.state_hash()


PINNED: list[tuple[Command, bytes]] = [
    (
        PlaceOrder(7, "ACME", Side.SELL, 5, 10150, OrderType.LIMIT, Tif.IOC, True, 'é"x\n'),
        b'{"k":"place","user_id":7,"sym":"ACME","side":"sell","qty":5,"price":10150,"type":"limit","tif":"IOC",'
        b'"post_only":true,"client_order_id":"\xc3\xa9\\"x\\n"}',
    ),
    (
        PlaceOrder(1, "CRUX", Side.BUY, 2, None, OrderType.MARKET),
        b'{"k":"place","user_id":1,"sym":"CRUX","side":"buy","qty":2,"price":null,"type":"market","tif":"GTC",'
        b'"post_only":false,"client_order_id":null}',
    ),
    (CancelOrder(3, 42), b'{"k":"cancel","user_id":3,"order_id":42,"client_order_id":null}'),
    (CancelAll(3), b'{"k":"cancel_all","user_id":3,"sym":null}'),
    (
        AmendOrder(3, None, "a", 9900, 4),
        b'{"k":"amend","user_id":3,"order_id":null,"client_order_id":"a","price":9900,"qty":4}',
    ),
    (SetSymbolStatus("ACME", SymbolStatus.AUCTION), b'{"k":"status","sym":"ACME","status":"auction"}'),
    (OpenAccount(9, 10**15), b'{"k":"open_account","user_id":9,"cash":1000000000000000}'),
    (DebitCash(2, 500, "shard-1"), b'{"k":"debit","user_id":2,"amount":500,"to":"shard-1"}'),
    (
        CreditCash(2, 500, "shard-0", 2**63 - 1),
        b'{"k":"credit","user_id":2,"amount":500,"source":"shard-0","ref":9223372036854775807}',
    ),
]
"""Journals written before stay readable and replicas read the same bytes: the encoding is a contract."""


@pytest.mark.parametrize(("command", "data"), PINNED)
def test_each_kind_encodes_to_the_bytes_journals_hold(command: Command, data: bytes) -> None:
    assert codec.encode(command) == data
    assert codec.decode(data) == command


KIND_OF = {cls: kind for kind, cls in codec.KINDS.items()}


@settings(max_examples=300)
@given(COMMANDS)
def test_the_encoding_is_the_kind_then_every_field_in_order(command: Command) -> None:
    mapping = {"k": KIND_OF[type(command)]} | {name: getattr(command, name) for name, _ in command.FIELDS}
    try:
        expected: bytes | None = orjson.dumps(mapping)
    except orjson.JSONEncodeError:
        expected = None  # an unpaired surrogate: encode refuses it too
    try:
        assert codec.encode(command) == expected
    except CodecError:
        assert expected is None


def test_an_int_beyond_64_bits_is_refused_on_encode() -> None:
    assert codec.decode(codec.encode(CancelOrder(user_id=2**63 - 1))) == CancelOrder(user_id=2**63 - 1)
    for command in (CancelOrder(user_id=2**63), PlaceOrder(1, "ACME", Side.BUY, qty=-(2**63) - 1)):
        with pytest.raises(CodecError, match="64 bits"):
            codec.encode(command)


def test_an_unpaired_surrogate_is_refused_on_encode() -> None:
    with pytest.raises(CodecError):
        codec.encode(CancelOrder(user_id=1, client_order_id="\ud800"))


def _place(**changes: object) -> bytes:
    fields = orjson.loads(codec.encode(PlaceOrder(1, "ACME", Side.BUY, 3, 10000)))
    fields.update(changes)
    return orjson.dumps({k: v for k, v in fields.items() if v != "<drop>"})


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not JSON"),
        (b'{"k": "place", "user_id"', "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'"place"', "not an object"),
        (b'{"user_id": 1}', "unknown kind"),
        (b'{"k": "open_sesame", "user_id": 1}', "unknown kind"),
        (b'{"k": 7}', "unknown kind"),
        (_place(qty="<drop>"), r"missing fields \['qty'\]"),
        (_place(colour="red"), r"unexpected fields \['colour'\]"),
        (_place(qty=3.0), "qty"),
        (_place(qty="3"), "qty"),
        (_place(qty=True), "qty"),
        (_place(qty=None), "qty"),
        (_place(qty=2**63), "qty"),
        (_place(side="up"), "side"),
        (_place(side=None), "side"),
        (_place(sym=5), "sym"),
        (_place(post_only=1), "post_only"),
        (_place(client_order_id=["a"]), "client_order_id"),
    ],
)
def test_decode_refuses_anything_but_a_well_formed_command(data: bytes, why: str) -> None:
    with pytest.raises(CodecError, match=why) as caught:
        codec.decode(data)
    assert isinstance(caught.value, StoreError)
