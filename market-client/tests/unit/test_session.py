"""RequestSession over a fake connection: matching, events, timeouts, drops."""

import asyncio
from typing import Any

import pytest

from market_client import (
    ClientClosed,
    ConnectionLost,
    Event,
    OrderRejected,
    RequestSession,
    RequestTimeout,
    Response,
    ServerError,
)

from .fakes import DirectConnection, FakeConnection


def open_session(**kwargs: Any) -> tuple[RequestSession, FakeConnection]:
    conn = FakeConnection()
    return RequestSession(conn, **kwargs), conn


async def test_many_requests_in_flight_are_matched_by_corr_id() -> None:
    session, conn = open_session()
    tasks = [asyncio.create_task(session.request("ping", {"n": n})) for n in range(5)]
    requests = await conn.next_sent(5)
    assert session.in_flight == 5
    for request in reversed(requests):  # answered in the opposite order
        conn.respond(request, {"n": request["payload"]["n"]})
    results = await asyncio.gather(*tasks)
    assert [r.payload["n"] for r in results] == [0, 1, 2, 3, 4]
    assert all(r["type"] == "request" and r["ver"] == 1 and isinstance(r["ts"], int) for r in requests)
    assert session.in_flight == 0
    await session.close()


async def test_events_go_to_the_handler_before_the_response_resolves() -> None:
    seen: list[Event] = []
    session, conn = open_session(on_event=seen.append)
    task = asyncio.create_task(session.request("order.place"))
    [request] = await conn.next_sent()
    conn.push({"type": "event", "ver": 1, "msg_id": "s-1", "ts": 1, "op": "order.filled", "payload": {}})
    conn.respond(request, {"order": {"order_id": 7, "status": "filled"}})
    await task
    # The server acknowledges with the response alone: the session makes its order.accepted from it.
    assert [e.op for e in seen] == ["order.filled", "order.accepted"]
    assert seen[1].payload == {"order": {"order_id": 7, "status": "filled"}} and seen[1].raw["type"] == "event"
    await session.close()


@pytest.mark.parametrize(
    ("op", "event", "extra"),
    [("order.amend", "order.amended", {}), ("order.cancel", "order.canceled", {"reason": "user"})],
)
async def test_an_amend_or_cancel_answer_stands_for_its_event(op: str, event: str, extra: dict[str, str]) -> None:
    seen: list[Event] = []
    session, conn = open_session(on_event=seen.append)
    task = asyncio.create_task(session.request(op))
    [request] = await conn.next_sent()
    conn.respond(request, {"order": {"order_id": 7}})
    await task
    assert [(e.op, e.payload) for e in seen] == [(event, {"order": {"order_id": 7}, **extra})]
    task = asyncio.create_task(session.request(op))
    request = (await conn.next_sent(2))[1]
    conn.respond(request, error="UNKNOWN_ORDER")
    with pytest.raises(ServerError):
        await task
    assert len(seen) == 1  # a refusal stands for no event
    await session.close()


async def test_refusals_raise_the_mapped_server_error() -> None:
    session, conn = open_session()
    task = asyncio.create_task(session.request("order.place"))
    [request] = await conn.next_sent()
    conn.respond(request, error="PRICE_OUT_OF_BAND")
    with pytest.raises(OrderRejected) as info:
        await task
    assert info.value.code == "PRICE_OUT_OF_BAND" and info.value.message == "PRICE_OUT_OF_BAND message"
    task = asyncio.create_task(session.request("bogus"))
    [_, request] = await conn.next_sent(2)
    conn.respond(request, error="UNKNOWN_OP")
    with pytest.raises(ServerError, match="UNKNOWN_OP"):
        await task
    await session.close()


async def test_timeout_raises_and_a_late_response_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    session, conn = open_session()
    with pytest.raises(RequestTimeout, match=r"ping got no response within 0\.05s"):
        await session.request("ping", timeout=0.05)
    assert isinstance(RequestTimeout("x"), TimeoutError)
    conn.respond(conn.sent[0], {})
    task = asyncio.create_task(session.request("ping"))
    [_, request] = await conn.next_sent(2)
    conn.respond(request, {"ok": 1})
    assert (await task).payload == {"ok": 1}
    assert "response to no pending request" in caplog.text
    await session.close()


async def test_one_timer_keeps_every_deadline_a_shorter_one_sent_later_included() -> None:
    session, conn = open_session()
    patient = asyncio.create_task(session.request("ping", {"n": 1}, timeout=30))
    await conn.next_sent()
    with pytest.raises(RequestTimeout, match=r"within 0\.05s"):
        await session.request("ping", {"n": 2}, timeout=0.05)  # its deadline comes before the armed one
    assert not patient.done() and session.in_flight == 1
    conn.respond(conn.sent[0], {"n": 1})
    assert (await patient).payload == {"n": 1}
    with pytest.raises(RequestTimeout):
        await session.request("ping", {"n": 3}, timeout=0.05)  # after the sweep: armed again for the next one
    await session.close()


async def test_a_closed_session_leaves_no_deadline_timer_behind() -> None:
    session, conn = open_session()
    task = asyncio.create_task(session.request("ping", timeout=30))
    await conn.next_sent()
    conn.drop(1000)
    with pytest.raises(ConnectionLost):
        await task
    assert session._deadlines._timer is None and session.in_flight == 0
    await session.close()


async def test_a_drop_fails_requests_in_flight_at_once_and_reports_the_code() -> None:
    closes: list[tuple[int | None, str]] = []
    session, conn = open_session(on_close=lambda code, reason: closes.append((code, reason)))
    task = asyncio.create_task(session.request("ping", timeout=30))
    await conn.next_sent()
    conn.drop(1012, "server shutting down")
    with pytest.raises(ConnectionLost, match="1012"):
        await asyncio.wait_for(task, 1)
    assert closes == [(1012, "server shutting down")]
    assert session.closed and session.close_code == 1012
    with pytest.raises(ConnectionLost):
        await session.request("ping")


async def test_close_by_the_owner_raises_client_closed_without_on_close() -> None:
    closes: list[Any] = []
    session, conn = open_session(on_close=lambda *a: closes.append(a))
    task = asyncio.create_task(session.request("ping", timeout=30))
    await conn.next_sent()
    await session.close()
    with pytest.raises(ClientClosed):
        await task
    await session.close()  # idempotent
    assert closes == []


async def test_junk_frames_and_failing_handlers_do_not_stop_reading(caplog: pytest.LogCaptureFixture) -> None:
    def handler(event: Event) -> None:
        raise RuntimeError("handler bug")

    session, conn = open_session(on_event=handler)
    conn.push("not json")
    conn.push({"type": "event", "op": "x", "payload": {}})
    task = asyncio.create_task(session.request("ping"))
    [request] = await conn.next_sent()
    conn.respond(request, {"pong": True})
    assert (await task).payload == {"pong": True}
    assert "not an envelope" in caplog.text and "event handler failed" in caplog.text
    await session.close()


async def test_a_drop_during_send_raises_connection_lost_and_leaves_no_unretrieved_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.frames import Close

    class DyingConnection(FakeConnection):
        async def send(self, message: str | bytes) -> None:
            self.drop(1006, "gone")
            await asyncio.sleep(0.01)  # the reader sees the close and fails what is pending
            raise ConnectionClosed(Close(1006, "gone"), None)

    session = RequestSession(DyingConnection())
    with pytest.raises(ConnectionLost, match="while sending ping"):
        await session.request("ping")
    import gc

    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
    assert session.closed


async def test_an_order_answer_goes_to_on_restated_first_and_to_on_event_as_nothing() -> None:
    seen: list[Event] = []
    session, conn = open_session(on_event=seen.append)
    answers: list[tuple[Response, bool]] = []
    task = asyncio.create_task(session.request("order.place"))
    session.on_restated = lambda response: answers.append((response, task.done()))
    [request] = await conn.next_sent()
    conn.respond(request, {"order": {"order_id": 7}})
    response = await task
    assert answers == [(response, False)] and seen == []  # handed over before its request had it; no event made
    task = asyncio.create_task(session.request("book.get"))
    conn.respond((await conn.next_sent(2))[1], {"sym": "ACME"})
    await task
    assert len(answers) == 1  # an answer that stands for no event is not handed over
    await session.close()


async def test_submit_over_a_direct_socket_sends_at_once_and_its_future_is_the_answer() -> None:
    conn = DirectConnection()
    session = RequestSession(conn)
    pending = session.submit("book.get", {"sym": "ACME"})
    assert isinstance(pending, asyncio.Future) and len(conn.sent) == 1  # sent before submit returned
    conn.respond(conn.sent[0], {"sym": "ACME"})
    assert (await pending).payload == {"sym": "ACME"} and session.in_flight == 0
    refused = session.submit("order.place")
    conn.respond(conn.sent[1], error="PRICE_OUT_OF_BAND")
    with pytest.raises(OrderRejected, match="PRICE_OUT_OF_BAND"):
        await refused
    with pytest.raises(RequestTimeout, match=r"ping got no response within 0\.05s"):
        await session.submit("ping", timeout=0.05)
    assert session.in_flight == 0 and session._deadlines._timer is None
    await session.close()


async def test_a_request_given_up_stays_in_flight_until_its_answer_which_still_goes_to_on_restated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = DirectConnection()
    session = RequestSession(conn)
    answered = asyncio.get_running_loop().create_future()
    session.on_restated = answered.set_result
    task = asyncio.create_task(session.request("order.place", timeout=30))
    await conn.next_sent()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.in_flight == 1  # sent and not answered: the order may well be placed
    conn.respond(conn.sent[0], {"order": {"order_id": 7}})
    response = await asyncio.wait_for(answered, 5)
    assert response.payload == {"order": {"order_id": 7}} and session.in_flight == 0
    assert "no pending request" not in caplog.text
    await session.close()
