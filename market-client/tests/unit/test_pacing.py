"""The pacer keeps to the announced rate and burst, with its safety margin."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from market_client._pacing import MARGIN, Pacer, Turns


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_limits_no_pause() -> None:
    pacer = Pacer(Clock())
    pacer.configure(None)
    assert all(pacer.delay() == 0 for _ in range(1000))


def test_burst_then_the_lower_of_the_two_rates() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    limits = {"messages_per_second": 100, "message_burst": 10, "user_messages_per_second": 20, "user_message_burst": 50}
    pacer.configure(limits)
    rate = 20 * MARGIN
    assert pacer.delay() == 1 / rate  # starts empty: the login drew on the bucket
    clock.now += 10.0
    burst = int(10 * MARGIN)
    assert [pacer.delay() for _ in range(burst)] == [0.0] * burst
    assert pacer.delay() == (1 - (10 * MARGIN - burst)) / rate
    assert pacer.delay() == (2 - (10 * MARGIN - burst)) / rate  # already reserved: the next waits behind it
    clock.now += 10.0
    assert pacer.delay() == 0.0


def test_sent_over_a_second_never_exceeds_rate_plus_burst() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    pacer.configure({"messages_per_second": 50, "message_burst": 20})
    sent_at = []
    for _ in range(500):
        clock.now += pacer.delay()
        sent_at.append(clock.now)
    for start in sent_at:
        in_window = sum(1 for t in sent_at if start <= t < start + 1.0)
        assert in_window <= 50 + 20


def test_the_users_limits_are_taken_once_per_login_answer() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    assert pacer.delay_under(None) == 0.0  # not logged in yet: no pacing
    user: dict[str, Any] = {"user_id": 7, "limits": {"messages_per_second": 10, "message_burst": 2}}
    assert pacer.delay_under(user) == 1 / (10 * MARGIN)  # starts empty
    assert pacer.delay_under(user) == 2 / (10 * MARGIN)  # the same answer: the bucket goes on, not reset
    again = {**user, "limits": dict(user["limits"])}  # a reconnect's whoami: new limits, a fresh (empty) bucket
    clock.now += 100.0
    assert pacer.delay_under(again) == 1 / (10 * MARGIN)
    assert pacer.delay_under({"user_id": 7}) == 0.0  # a server that announces no limits


async def test_a_request_paced_later_never_leaves_before_an_earlier_one() -> None:
    turns = Turns()
    sent: list[str] = []

    async def send(name: str, pause: float) -> None:
        await turns.take(pause)
        sent.append(name)

    place = asyncio.create_task(send("place", 0.01))
    await asyncio.sleep(0)  # the place has taken its turn and sleeps out its pause
    assert turns.queued
    time.sleep(0.02)  # noqa: ASYNC251 -- the loop stalls past the place's pause; the amend then finds a token
    amend = asyncio.create_task(send("amend", 0.0))
    cancel = asyncio.create_task(send("cancel", 0.0))
    await asyncio.gather(place, amend, cancel)
    assert sent == ["place", "amend", "cancel"]
    assert not turns.queued


async def test_a_cancelled_request_gives_up_its_turn_to_the_next() -> None:
    turns = Turns()
    sent: list[str] = []

    async def send(name: str, pause: float) -> None:
        await turns.take(pause)
        sent.append(name)

    slow = asyncio.create_task(send("slow", 60.0))
    await asyncio.sleep(0)
    behind = asyncio.create_task(send("behind", 0.0))
    await asyncio.sleep(0)
    slow.cancel()
    await behind
    assert sent == ["behind"] and slow.cancelled()
