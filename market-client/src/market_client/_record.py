"""Recordings: every frame of a client's two sockets, timestamped, in a gzip file of JSON lines.

`client.record(path)` starts one (`Recording.close()` or `with` ends it).
The first line is a header `{"recording": 1, "started": ms, "base_url"}`;
then one line per frame: `{"t": ms since the epoch (float), "sock": "cmd" or
"md", "dir": "in" or "out", "frame": the envelope}` (requests the client
sent are "out", responses and events it received are "in"). `market-client
replay FILE --strategy bot.py` feeds a recording to a strategy.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

FORMAT = 1


class Recording:
    """An open recording; write() is the sessions' tap."""

    def __init__(self, path: str | Path, base_url: str) -> None:
        self.path = Path(path)
        self.frames = 0
        self._file: gzip.GzipFile | None = gzip.GzipFile(self.path, "wb")
        self._line({"recording": FORMAT, "started": time.time() * 1000, "base_url": base_url})

    def write(self, sock: str, direction: str, frame: str | bytes) -> None:
        """Record one frame (the tap's signature)."""
        if self._file is None:
            return
        try:
            message: Any = orjson.loads(frame)
        except orjson.JSONDecodeError:
            message = frame if isinstance(frame, str) else frame.decode(errors="replace")
        self._line({"t": time.time() * 1000, "sock": sock, "dir": direction, "frame": message})
        self.frames += 1

    def _line(self, entry: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(orjson.dumps(entry) + b"\n")

    @property
    def closed(self) -> bool:
        """True once close() ran: nothing more is written."""
        return self._file is None

    def close(self) -> None:
        """Flush and close the file; later frames are not recorded. Idempotent."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_recording(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, frames) of a recording; ValueError when the file is not one."""
    lines: Iterator[bytes]
    with gzip.open(Path(path), "rb") as file:
        lines = iter(file.read().splitlines())
    try:
        header = orjson.loads(next(lines))
    except (StopIteration, orjson.JSONDecodeError, gzip.BadGzipFile, OSError) as exc:
        raise ValueError(f"{path} is not a market-client recording ({exc})") from None
    if not isinstance(header, dict) or header.get("recording") != FORMAT:
        raise ValueError(f"{path} is not a market-client recording (format {FORMAT})")
    return header, [orjson.loads(line) for line in lines if line]
