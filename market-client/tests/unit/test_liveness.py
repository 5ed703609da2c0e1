"""The session watchdog over a fake connection: idle links are pinged, silent ones aborted."""

import asyncio
import time

import pytest

from market_client import ConnectionLost, RequestSession

from .fakes import FakeConnection


async def test_a_silent_link_is_aborted_and_reported_as_a_drop() -> None:
    closes: list[tuple[int | None, str]] = []
    dropped = asyncio.Event()

    def on_close(code: int | None, reason: str) -> None:
        closes.append((code, reason))
        dropped.set()

    conn = FakeConnection()
    session = RequestSession(conn, on_close=on_close, liveness_timeout=0.3)
    pending = asyncio.create_task(session.request("ping", timeout=30))
    await asyncio.wait_for(dropped.wait(), 5)
    [(code, reason)] = closes
    assert code == 1006 and "no frame" in reason
    assert session.closed
    try:
        await pending
    except ConnectionLost as exc:
        assert "no frame" in str(exc)
    else:
        raise AssertionError("the request in flight should have failed")
    assert any(m["op"] == "ping" for m in conn.sent[1:])  # the watchdog probed before giving up


async def test_a_stall_of_the_clients_own_loop_is_not_taken_for_a_silent_server() -> None:
    conn = FakeConnection()
    session = RequestSession(conn, liveness_timeout=0.3)
    await asyncio.sleep(0)  # the watchdog has started
    time.sleep(0.4)  # noqa: ASYNC251 -- this client's loop stalls past the timeout: the server said nothing meanwhile
    [probe] = await asyncio.wait_for(conn.next_sent(1), 5)  # it asks first, rather than drop the link at once
    assert probe["op"] == "ping" and not session.closed
    conn.respond(probe, {"ts": 1})
    [_, again] = await asyncio.wait_for(conn.next_sent(2), 5)  # the answer kept the link: it probes on, idle
    assert again["op"] == "ping" and not session.closed
    await session.close()


async def test_answered_pings_keep_an_idle_link_alive(caplog: pytest.LogCaptureFixture) -> None:
    closes: list[tuple[int | None, str]] = []
    conn = FakeConnection()
    session = RequestSession(conn, on_close=lambda c, r: closes.append((c, r)), liveness_timeout=0.3)
    for n in range(1, 6):  # five probes answered: well past the timeout, and never aborted
        [*_, probe] = await asyncio.wait_for(conn.next_sent(n), 5)
        assert probe["op"] == "ping"
        conn.respond(probe, {"ts": 1})
    assert not session.closed and closes == []
    assert "no pending request" not in caplog.text  # a probe's answer is expected, not a stray
    await session.close()


async def test_without_a_timeout_there_is_no_watchdog() -> None:
    session = RequestSession(FakeConnection())
    assert session._watchdog is None
    await session.close()
