"""The sans-I/O protocol pieces, without sockets: envelope codec, roles, payload parsing, rendering."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from market_client._envelope import Envelopes

from hftsim.config import load
from hftsim.engine import Engine, Limits, OrderType, PlaceOrder, Side, Tif
from hftsim.protocol import envelope, payloads
from hftsim.protocol.errors import ProtocolError
from hftsim.protocol.render import Renderer
from hftsim.protocol.roles import Role, acting_role

from .drawn import INT64


def engine() -> Engine:
    return Engine(load().instruments(), Limits(max_order_qty=1000, max_position=10_000), initial_cash=10**9)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{", "BAD_ENVELOPE"),
        (b"[]", "BAD_ENVELOPE"),
        (b'{"type":"event","msg_id":"1","op":"ping"}', "BAD_ENVELOPE"),
        (b'{"type":"request","msg_id":"","op":"ping"}', "BAD_ENVELOPE"),
        (b'{"type":"request","msg_id":"1","op":""}', "BAD_ENVELOPE"),
        (b'{"type":"request","msg_id":"1","op":"ping","payload":[1]}', "BAD_ENVELOPE"),
        (b'{"type":"request","msg_id":"1","op":"ping","ver":2}', "UNSUPPORTED_VERSION"),
        (b'{"type":"request","msg_id":"1","op":"ping","as":5}', "BAD_ENVELOPE"),
        (b'{"type":"request","msg_id":"1","op":"ping","pad":"' + b"x" * 2000 + b'"}', "MESSAGE_TOO_LARGE"),
    ],
)
def test_malformed_requests_name_their_fault(raw: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        envelope.parse_request(raw, max_bytes=1024)
    assert info.value.code == code and info.value.message


def test_request_round_trip_and_responses() -> None:
    req = envelope.parse_request(b'{"type":"request","msg_id":"a1","op":"book.get","payload":{"sym":"ACME"}}', 1024)
    assert (req.msg_id, req.op, req.payload, req.as_role) == ("a1", "book.get", {"sym": "ACME"}, None)
    ok = orjson.loads(envelope.response("a1", "book.get", {"x": 1}, ts=5))
    assert ok["corr_id"] == "a1" and ok["ok"] is True and ok["payload"] == {"x": 1} and ok["type"] == "response"
    err = orjson.loads(envelope.error_response("a1", "book.get", "UNKNOWN_SYMBOL", "no such symbol", ts=5))
    assert err["ok"] is False and err["error"] == {"code": "UNKNOWN_SYMBOL", "message": "no such symbol"}
    assert envelope.salvage_msg_id(b'{"msg_id":"z9","type":"nope"}') == "z9"
    assert envelope.salvage_msg_id(b"not json") is None


@pytest.mark.parametrize(
    ("corr_id", "op"), [("a1", "order.place"), (None, "order.place"), ('q"uo\\te\n', 'we"ird'), ("ünï ☃", "md.delta")]
)
def test_responses_and_events_are_their_envelope_as_orjson_writes_it(corr_id: str | None, op: str) -> None:
    """The envelope is written around the payload's own bytes: byte for byte what orjson makes of the whole mapping."""
    payload: dict[str, Any] = {"order": {"order_id": 7, "price": "100.25", "post_only": False, "avg": None}, "gseq": 3}
    ts = 1_700_000_000_123
    frame = envelope.response(corr_id, op, payload, ts)
    msg_id = orjson.loads(frame)["msg_id"]
    envelope_of = {"type": "response", "ver": envelope.VERSION, "msg_id": msg_id, "ts": ts, "op": op}
    assert frame == orjson.dumps({**envelope_of, "payload": payload, "corr_id": corr_id, "ok": True})
    written = envelope.response(corr_id, op, orjson.dumps(payload), ts)  # a payload written already goes as it is
    answer = {**envelope_of, "msg_id": orjson.loads(written)["msg_id"], "payload": payload, "corr_id": corr_id}
    assert written == orjson.dumps({**answer, "ok": True})
    event = envelope.event(op, payload, ts)
    msg_id = orjson.loads(event)["msg_id"]
    assert event == orjson.dumps({**envelope_of, "type": "event", "msg_id": msg_id, "payload": payload})


PAYLOADS = st.one_of(
    st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.booleans(), INT64, st.text(max_size=12)), max_size=6),
    st.none(),
    st.lists(INT64, max_size=3),
    st.text(max_size=8),
    INT64,
)
BYTES = st.sampled_from([b" ", b"}", b",", b'"', b"\\", b"0", b"-", b"\x7f", b"\xff", b"\x01", b"\t", "é".encode()])
"""What a near miss puts in: JSON's own characters, bytes that are not UTF-8, control characters, UTF-8 beyond ASCII."""
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=70)
"""Text the short way reads: printable ASCII (a quote or a backslash in it is escaped, which it does not read)."""
TEXTS = st.one_of(
    PLAIN, st.sampled_from(["", 'q"uo\\te', "tab\there", "back\\slash", "\x00\x1f\x7f", "ünï ☃"]), st.text()
)


@st.composite
def written_requests(draw: st.DrawFn) -> bytes:
    """Requests as the clients write them (keys in their order, no spaces), and near misses: a field's other
    value, a key moved, dropped or added, a byte put in anywhere, the message cut short, a ts of other digits."""
    if draw(st.booleans()):  # as a client writes it
        msg_id, op = draw(PLAIN.filter(bool)), draw(PLAIN.filter(bool))
        ts: Any = draw(st.integers(0, 2**63))
        payload = draw(PAYLOADS.filter(lambda p: isinstance(p, dict)))
    else:
        msg_id, op, payload = draw(TEXTS), draw(TEXTS), draw(PAYLOADS)
        ts = draw(st.one_of(INT64, st.floats(allow_nan=False), st.none(), st.text(max_size=4)))
    message: dict[str, Any] = {"type": "request", "ver": 1, "msg_id": msg_id, "ts": ts, "op": op, "payload": payload}
    change = draw(st.integers(0, 9))
    if change == 0:
        message[draw(st.sampled_from(sorted(message)))] = draw(st.one_of(st.none(), INT64, st.sampled_from(["event"])))
    elif change == 1:
        key = draw(st.sampled_from(sorted(message)))
        value = message.pop(key)
        if draw(st.booleans()):
            message[key] = value  # moved to the end
    elif change == 2:
        message["as"] = draw(st.one_of(st.none(), st.text(max_size=8), INT64))
    data = orjson.dumps(message)
    if change == 3:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(BYTES) + data[at:]
    elif change == 6:  # into the msg_id's or the op's text
        text = draw(st.sampled_from([b'"msg_id":"', b'"op":"']))
        data = data.replace(text, text + draw(BYTES), 1)
    elif change == 4:
        data = data[: draw(st.integers(0, len(data)))]
    elif change == 5:
        data = data.replace(b'"ts":', b'"ts":' + draw(st.sampled_from([b"0", b"-", b"9" * 20, b"9" * 330])), 1)
    return data


def outcome(data: str | bytes, max_bytes: int = 4096) -> tuple[str, str, dict[str, Any], str | None] | str:
    """What `parse_request` makes of `data`: the request's fields, or the error's code."""
    try:
        req = envelope.parse_request(data, max_bytes)
    except ProtocolError as exc:
        return exc.code
    return req.msg_id, req.op, req.payload, req.as_role


@given(written_requests())
@example(b'{"type":"request","ver":1,"msg_id":"\xffa","ts":1,"op":"ping","payload":{}}')
@example(b'{"type":"request","ver":1,"msg_id":"a","ts":1,"op":"pi\x01ng","payload":{}}')
@example(b'{"type":"request","ver":1,"msg_id":"a","ts":01,"op":"ping","payload":{}}')
@settings(max_examples=2000)
def test_a_request_as_the_clients_write_it_is_read_as_its_json_is(data: bytes) -> None:
    """Read from bytes, a request written as the clients write one skips the envelope's mapping: it must mean
    exactly what its JSON means, read whole (a str skips the short way), and so must every near miss."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        assert outcome(data) == "BAD_ENVELOPE"
        return
    assert outcome(data) == outcome(text)


@pytest.mark.parametrize("depth", [1023, 1024])
def test_a_payload_nested_to_orjsons_depth_limit_means_what_it_means_inside_its_envelope(depth: int) -> None:
    """orjson reads at most 1024 levels: a payload 1024 deep (2,052 bytes at least) is read alone, not inside its
    envelope. (What is read is too deep to compare: only whether it was.)"""
    payload = b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    data = b'{"type":"request","ver":1,"msg_id":"d","ts":1,"op":"ping","payload":%s}' % payload
    read = [isinstance(outcome(data, 10**6), tuple), isinstance(outcome(data.decode(), 10**6), tuple)]
    assert read == [depth < 1024] * 2
    assert isinstance(orjson.loads(payload), dict)


def test_the_sdks_requests_take_the_short_way() -> None:
    """The short way is taken by what the SDK writes (the website and the benchmarks' clients write the same
    shape): a change to the SDK's envelope would otherwise make every order pay for the envelope's mapping."""
    sdk = Envelopes()
    requests: list[tuple[str, dict[str, Any] | None]] = [
        ("order.place", {"sym": "ACME", "side": "buy", "type": "limit", "price": "100.25", "qty": 3}),
        ("order.cancel", {"client_order_id": "c-9"}),
        ("ping", None),
    ]
    for op, payload in requests:
        msg_id, frame = sdk.request(op, payload)
        req = envelope._as_written(frame)
        assert req is not None
        assert (req.msg_id, req.op, req.payload, req.as_role) == (msg_id, op, payload or {}, None)
    assert envelope._as_written(sdk.request("ping", None, as_role="admin")[1]) is None


def test_roles_are_ordered_and_as_is_checked() -> None:
    assert acting_role(Role.ADMIN, "trader") is Role.TRADER
    assert acting_role(Role.TRADER, None) is Role.TRADER
    for user_role, wanted in [(Role.VIEWER, "trader"), (Role.TRADER, "admin"), (Role.TRADER, "root")]:
        with pytest.raises(ProtocolError) as info:
            acting_role(user_role, wanted)
        assert info.value.code == "ROLE_NOT_HELD"


def test_place_payload_becomes_a_command_in_ticks() -> None:
    e = engine()
    cmd = payloads.place_order({"sym": "BOLT", "side": "sell", "price": "42.55", "qty": 3, "tif": "IOC"}, 7, e)
    assert cmd == PlaceOrder(user_id=7, sym="BOLT", side=Side.SELL, qty=3, price=851, tif=Tif.IOC)
    market = payloads.place_order({"sym": "ACME", "side": "buy", "type": "market", "qty": 1}, 7, e)
    assert market.type is OrderType.MARKET and market.price is None


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"sym": "ACME", "side": "buy", "price": 100.5, "qty": 1}, "INVALID_FIELD", "price"),
        ({"sym": "ACME", "side": "buy", "price": "1e400x", "qty": 1}, "INVALID_FIELD", "price"),
        ({"sym": "ACME", "side": "buy", "price": "100.001", "qty": 1}, "PRICE_NOT_ON_TICK", "price"),
        ({"sym": "ACME", "side": "buy", "price": "-1", "qty": 1}, "INVALID_FIELD", "price"),
        ({"sym": "ACME", "side": "buy", "qty": 1}, "INVALID_FIELD", "price"),
        ({"sym": "ACME", "side": "buy", "type": "market", "price": "1", "qty": 1}, "INVALID_FIELD", "price"),
        ({"sym": "ACME", "side": "buy", "price": "100", "qty": True}, "INVALID_FIELD", "qty"),
        ({"sym": "ACME", "side": "buy", "price": "100", "qty": 0}, "INVALID_FIELD", "qty"),
        ({"sym": "ACME", "side": "hold", "price": "100", "qty": 1}, "INVALID_FIELD", "side"),
        ({"sym": "ACME", "side": "buy", "price": "100", "qty": 1, "tif": "DAY"}, "INVALID_FIELD", "tif"),
        ({"sym": "ACME", "side": "buy", "price": "100", "qty": 1, "post_only": "yes"}, "INVALID_FIELD", "post_only"),
        ({"sym": "ZZZ", "side": "buy", "price": "100", "qty": 1}, "UNKNOWN_SYMBOL", "ZZZ"),
    ],
)
def test_bad_place_payloads(payload: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(ProtocolError) as info:
        payloads.place_order(payload, 1, engine())
    assert info.value.code == code and field in info.value.message


def test_order_references_need_exactly_one_id() -> None:
    refused: list[dict[str, Any]] = [{}, {"order_id": 1, "client_order_id": "a"}, {"order_id": "1"}]
    for payload in refused:
        with pytest.raises(ProtocolError):
            payloads.cancel_order(payload, 1)
    assert payloads.cancel_order({"client_order_id": "a"}, 1).client_order_id == "a"


def test_render_prices_cash_and_averages() -> None:
    e = engine()
    render = Renderer(e)
    assert render.price("DUNE", 1250) == "1.250" and render.price("EMBR", 60001) == "30000.5"
    assert render.cash(123456) == "123.456"  # cash decimals: the finest tick (DUNE, 0.001)
    e.apply(PlaceOrder(user_id=1, sym="ACME", side=Side.SELL, qty=1, price=9999), ts=1)
    e.apply(PlaceOrder(user_id=1, sym="ACME", side=Side.SELL, qty=1, price=9998), ts=2)
    result = e.apply(PlaceOrder(user_id=2, sym="ACME", side=Side.BUY, qty=2, price=9999), ts=3)
    assert result.order is not None
    assert render.order(result.order)["avg_fill_price"] == "99.985"
    position = render.position(e.position(2, "ACME"))
    assert position["avg_price"] == "99.985" and position["unrealized_pnl"] == "0.010" and position["last"] == "99.99"
