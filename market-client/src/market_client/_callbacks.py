"""Run user callbacks without letting them stop, or stall, the stream.

A callback may be sync or async. Sync ones run at once in the reader; the
awaitable an async one returns is queued and awaited, in arrival order, by
one dispatcher task, so a hook that itself awaits a request on the same
connection cannot deadlock the reader that must deliver the response.
Whatever a callback raises is logged and swallowed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("market_client")

Callback = Callable[..., Awaitable[None] | None]


class CallbackRunner:
    """Calls callbacks safely; owns the dispatcher task for async ones."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[str, Awaitable[Any]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def call(self, name: str, callback: Callback | None, *args: Any) -> None:
        """Call `callback(*args)`; queue its awaitable if it returns one."""
        if callback is None or self._closed:
            return
        try:
            result = callback(*args)
        except Exception:
            logger.exception("%s raised; the stream goes on", name)
            return
        if inspect.isawaitable(result):
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._dispatch(), name="market_client.callbacks")
            self._queue.put_nowait((name, result))

    async def _dispatch(self) -> None:
        while (item := await self._queue.get()) is not None:
            name, awaitable = item
            try:
                await awaitable
            except Exception:
                logger.exception("%s raised; the stream goes on", name)

    async def aclose(self, grace: float = 1.0) -> None:
        """Let queued callbacks finish for up to `grace` seconds, then stop the dispatcher.

        Called from inside a callback, it only asks the dispatcher to stop
        after the current one. Queued coroutines that never ran are closed
        so none is reported as never awaited.
        """
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)
        if task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and inspect.iscoroutine(item[1]):
                item[1].close()
