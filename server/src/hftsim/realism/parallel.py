"""The study's runs spread over processes.

Every run (a configuration and a seed, an impact seed, a trading day) is seeded
and independent of the others, so a report is the same bit for bit whatever
the number of jobs; only the wall time changes. The runs are pure Python, so
threads would share one core: each job is a process of its own, started with
`spawn` (forking after numpy's thread pools started is not safe).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

Progress = Callable[[float, str], None]
"""Called with simulated seconds just done and a label of the run."""

Task = TypeVar("Task")
Result = TypeVar("Result")

Run = Callable[[Task, Progress], Result]
"""One run: a module-level function (the worker processes import it by name)."""

POLL_S = 0.2
"""How often the parent looks at its workers while no progress arrives (the wait ends early on progress)."""

_reports: Any = None
"""A worker's queue to the parent's progress bar."""


def run_all(run: Run[Task, Result], tasks: Sequence[Task], jobs: int, progress: Progress | None) -> list[Result]:
    """`run` on every task, over `jobs` processes (1: here, in order); results in the tasks' order."""
    report = progress if progress is not None else _ignore
    if jobs <= 1 or len(tasks) <= 1:
        return [run(task, report) for task in tasks]
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    with ProcessPoolExecutor(
        min(jobs, len(tasks)), mp_context=context, initializer=_listen, initargs=(reports,)
    ) as pool:
        futures = [pool.submit(_in_worker, run, task) for task in tasks]
        pending: set[Future[Result]] = set(futures)
        while pending:
            _relay(reports, report)
            _, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
    # A worker's `put` hands its report to a feeder thread, which may not have written it when the task's
    # result arrives; a process flushes its feeder as it exits, so the last reports are read after the pool
    # has shut down.
    _relay(reports, report)
    return [f.result() for f in futures]


def _ignore(done: float, label: str) -> None:
    pass


def _listen(reports: Any) -> None:
    global _reports
    _reports = reports


def _in_worker(run: Run[Task, Result], task: Task) -> Result:
    return run(task, _send)


def _send(done: float, label: str) -> None:
    _reports.put((done, label))


def _relay(reports: Any, progress: Progress) -> None:
    while True:
        try:
            done, label = reports.get_nowait()
        except queue.Empty:
            return
        progress(done, label)
