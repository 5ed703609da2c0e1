from dataclasses import fields

import orjson
import pytest

from market_client import AuthenticationError, Event, OrderRejected, Response, ServerError
from market_client._envelope import EnvelopeError, Envelopes, envelope_of, error_for, parse, restated, restates


def test_request_fills_in_the_envelope() -> None:
    envelopes = Envelopes("c", clock_ns=lambda: 1_234_999_999)
    msg_id, frame = envelopes.request("order.place", {"sym": "ACME"})
    assert orjson.loads(frame) == {
        "type": "request",
        "ver": 1,
        "msg_id": msg_id,
        "ts": 1234,
        "op": "order.place",
        "payload": {"sym": "ACME"},
    }


def test_request_ids_are_unique_and_as_is_optional() -> None:
    envelopes = Envelopes("c")
    ids = {envelopes.request("ping")[0] for _ in range(100)}
    assert len(ids) == 100
    _, frame = envelopes.request("book.get", None, as_role="viewer")
    message = orjson.loads(frame)
    assert message["as"] == "viewer" and message["payload"] == {}


def test_a_copy_reuses_the_msg_id_and_new_ids_never_collide_with_it() -> None:
    envelopes = Envelopes("c")
    first = envelopes.next_id()
    copy_id, frame = envelopes.request("order.place", {"sym": "ACME"}, msg_id=first)
    assert copy_id == first and orjson.loads(frame)["msg_id"] == first
    assert envelopes.request("ping")[0] != first


def test_each_client_has_its_own_msg_id_prefix() -> None:
    from market_client import MarketClient

    ids = {MarketClient("http://127.0.0.1:1")._keeper.envelopes.next_id() for _ in range(20)}
    assert len(ids) == 20  # two clients sharing a session never reuse each other's msg_ids


def test_parse_ok_response() -> None:
    frame = (
        b'{"type":"response","ver":1,"msg_id":"s-1","ts":5,"op":"ping","corr_id":"c-1","ok":true,"payload":{"ts":5}}'
    )
    response = parse(frame)
    assert isinstance(response, Response)
    assert (response.corr_id, response.ok, response.payload, response.ts) == ("c-1", True, {"ts": 5}, 5)
    # made without its __init__: every field set, as the constructor would (a field added later must be too)
    made = Response("c-1", "ping", True, {"ts": 5}, 5, raw=orjson.loads(frame), frame=frame)
    assert [getattr(response, f.name) for f in fields(Response)] == [getattr(made, f.name) for f in fields(Response)]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('{"type":"response","op":"ping","corr_id":"c-1","ok":true}', ("c-1", "ping", {}, None)),
        ('{"type":"response","op":"ping","corr_id":"c-1","ok":true,"payload":{"a":1},"ts":"5"}',
         ("c-1", "ping", {"a": 1}, None)),
        ('{"type":"response","op":"ping","corr_id":7,"ok":true,"payload":{},"ts":5}', (None, "ping", {}, 5)),
        ('{"type":"response","op":"ping","corr_id":"c-1","ok":true,"payload":null,"ts":5}', ("c-1", "ping", {}, 5)),
    ],
)  # fmt: skip
def test_an_accepted_answer_without_every_field_of_its_type_is_still_an_answer(
    frame: str, expected: tuple[object, ...]
) -> None:
    response = parse(frame)
    assert isinstance(response, Response) and response.ok and response.error_code is None
    assert (response.corr_id, response.op, response.payload, response.ts) == expected
    assert response.raw == orjson.loads(frame) and response.frame == frame


def test_parse_error_response_maps_to_exception() -> None:
    frame = (
        '{"type":"response","ver":1,"msg_id":"s-2","ts":5,"op":"order.place","corr_id":"c-2","ok":false,'
        '"error":{"code":"PRICE_NOT_ON_TICK","message":"bad tick"}}'
    )
    response = parse(frame)
    assert isinstance(response, Response) and not response.ok
    error = response.error()
    assert isinstance(error, OrderRejected)
    assert (error.code, error.message, error.op) == ("PRICE_NOT_ON_TICK", "bad tick", "order.place")


def test_parse_event() -> None:
    event = parse('{"type":"event","ver":1,"msg_id":"s-3","ts":7,"op":"md.trade","payload":{"sym":"ACME"}}')
    assert isinstance(event, Event)
    assert event.op == "md.trade" and event.payload == {"sym": "ACME"} and event.raw["msg_id"] == "s-3"


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"type":"event","payload":{}}',
        '{"type":"request","op":"x","payload":{}}',
        '{"type":"event","op":"x","payload":[]}',
    ],
)
def test_parse_refuses_non_envelopes(frame: str) -> None:
    with pytest.raises(EnvelopeError):
        parse(frame)


def test_response_with_null_corr_id() -> None:
    response = parse('{"type":"response","op":"x","corr_id":null,"ok":false,"error":{"code":"BAD_ENVELOPE"}}')
    assert isinstance(response, Response) and response.corr_id is None and response.error_code == "BAD_ENVELOPE"


def test_a_refusal_sent_before_the_op_was_read_still_answers_its_request() -> None:
    frame = (
        '{"type":"response","op":null,"payload":{},"corr_id":"c-9","ok":false,'
        '"error":{"code":"RATE_LIMITED","message":"slow down","retry_after_ms":12}}'
    )
    response = parse(frame)
    assert isinstance(response, Response)
    assert (response.corr_id, response.error_code) == ("c-9", "RATE_LIMITED")


def test_error_for_picks_the_class() -> None:
    assert type(error_for("auth.login", "INVALID_CREDENTIALS", "")) is AuthenticationError
    assert type(error_for("orders.list", "UNAUTHENTICATED", "")) is AuthenticationError
    assert type(error_for("order.amend", "SYMBOL_HALTED", "")) is OrderRejected
    assert type(error_for("order.cancel", "UNKNOWN_ORDER", "")) is ServerError
    assert type(error_for("nope", "UNKNOWN_OP", "")) is ServerError
    assert issubclass(OrderRejected, ServerError) and issubclass(AuthenticationError, ServerError)


def test_a_kept_frame_is_made_its_event_again() -> None:
    event = b'{"type":"event","ver":1,"msg_id":"s-3","ts":9,"op":"order.filled","payload":{"fill":{"qty":1}}}'
    assert envelope_of(event) == parse(event).raw
    answer = orjson.dumps(
        {"type": "response", "ver": 1, "msg_id": "s-4", "ts": 10, "op": "order.place", "corr_id": "c-1", "ok": True,
         "payload": {"order": {"order_id": 4}, "gseq": 8}}
    )  # fmt: skip
    response = parse(answer)
    assert isinstance(response, Response) and response.frame == answer and restates(response)
    made = restated(response)
    assert made is not None and made.frame == answer
    assert envelope_of(answer) == made.raw == {
        "type": "event", "ver": 1, "msg_id": "s-4", "ts": 10, "op": "order.accepted",
        "payload": {"order": {"order_id": 4}, "gseq": 8, "gidx": 0},
    }  # fmt: skip
    kept = {"type": "event", "op": "order.canceled", "payload": {}}
    assert envelope_of(kept) is kept
    with pytest.raises(EnvelopeError):
        envelope_of(b'{"type":"response","ver":1,"op":"book.get","corr_id":"c-2","ok":true,"payload":{}}')
