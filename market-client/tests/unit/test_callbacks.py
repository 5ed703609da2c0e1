import asyncio
import logging

import pytest

from market_client._callbacks import CallbackRunner


async def test_sync_callbacks_run_at_once_and_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    runner = CallbackRunner()
    seen: list[int] = []

    def bad(x: int) -> None:
        raise RuntimeError("boom")

    runner.call("bad", bad, 1)
    runner.call("good", seen.append, 2)
    runner.call("none", None, 3)
    assert seen == [2]
    assert "bad raised" in caplog.text
    await runner.aclose()


async def test_async_callbacks_run_in_order_and_errors_do_not_stop_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    runner = CallbackRunner()
    seen: list[int] = []

    async def hook(x: int) -> None:
        await asyncio.sleep(0.01 if x == 1 else 0)
        if x == 2:
            raise ValueError("two")
        seen.append(x)

    for x in (1, 2, 3):
        runner.call("hook", hook, x)
    await asyncio.sleep(0.1)
    assert seen == [1, 3]
    assert "hook raised" in caplog.text
    await runner.aclose()


async def test_aclose_closes_coroutines_that_never_ran() -> None:
    runner = CallbackRunner()
    started = asyncio.Event()

    async def slow(x: int) -> None:
        started.set()
        await asyncio.sleep(10)

    runner.call("slow", slow, 1)
    runner.call("slow", slow, 2)  # queued behind the first: never runs
    await started.wait()
    await runner.aclose(grace=0.05)
    runner.call("slow", slow, 3)  # after close: ignored, nothing created
    assert asyncio.all_tasks() == {asyncio.current_task()}
