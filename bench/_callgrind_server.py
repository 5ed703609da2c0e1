"""`hftsim` with its wall-clock timers slowed, for a server counted under callgrind (bench/instructions.py).

Under valgrind the server runs some fifty times slower, but the loop-lag
probe (every 5 ms) and the heap's settling (every 0.1 s) fire by the wall
clock: left as they are, they would run fifty times as often per order and
their instructions would count as the order's. At 30 s they fire a few
times in a whole run.
"""

from __future__ import annotations

from hftsim.cli import main
from hftsim.gateway import heap, looplag

TIMER_S = 30.0

looplag.INTERVAL_S = TIMER_S
heap.SETTLE_S = TIMER_S
main()
