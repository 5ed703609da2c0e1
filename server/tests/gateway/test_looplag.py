"""The loop-lag monitor says what kind of stall it saw: work on the loop, or time off the CPU.

Each stall is made on purpose inside a running loop: one callback that
burns CPU, one that blocks in a sleep. The figures must tell them apart,
as they tell a long batch from a write held by the kernel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hftsim.gateway.looplag import INTERVAL_S, LoopLag, Stall

STALL_S = 0.03


def burn() -> None:
    """Hold the loop with `STALL_S` of the thread's own CPU time, however busy the machine is."""
    until = time.thread_time() + STALL_S
    while time.thread_time() < until:
        pass


async def stall_with(hold: Callable[[], None]) -> tuple[LoopLag, Stall]:
    """The monitor's figures for one `hold` of the loop.

    The monitor's timer is due during the hold, ours after it, and the loop
    runs due timers in deadline order: when ours fires, the monitor has woken
    late and measured the stall.
    """
    lag = LoopLag()
    watching = asyncio.create_task(lag.watch())
    try:
        await asyncio.sleep(0)  # the monitor reads its usage and starts its timer
        hold()
        await asyncio.sleep(INTERVAL_S)
    finally:
        watching.cancel()
    assert lag.longest is not None
    return lag, lag.longest


async def test_a_stall_of_work_on_the_loop_is_counted_as_cpu_time() -> None:
    lag, stall = await stall_with(burn)
    assert stall.user_ms + stall.system_ms >= STALL_S * 1000 * 0.9, stall
    assert lag.over >= 1
    assert stall.figures()["ms"] == round(stall.ms, 3)


async def test_a_stall_blocked_in_the_kernel_is_counted_off_the_cpu() -> None:
    _, stall = await stall_with(lambda: time.sleep(STALL_S))
    assert stall.off_cpu_ms >= STALL_S * 1000 * 0.9, stall
    assert stall.blocked >= 1, stall


async def test_a_stall_is_told_apart_by_its_part_on_the_cpu() -> None:
    """The hold starts as the monitor's interval does: on a core of its own the monitor would wake
    `STALL_S - INTERVAL_S` late, however long other work kept the burning thread off the CPU."""
    own = STALL_S - INTERVAL_S
    lag, _ = await stall_with(burn)
    assert lag.longest_on_cpu_s >= own * 0.9, lag
    assert lag.longest_on_cpu is not None and lag.longest_on_cpu.on_cpu_ms == lag.longest_on_cpu_s * 1000, lag
    lag, stall = await stall_with(lambda: time.sleep(STALL_S))
    assert lag.longest_s >= own * 0.9 and lag.longest_on_cpu_s < own / 3, lag
    assert stall.on_cpu_ms < own * 1000 / 3, stall
