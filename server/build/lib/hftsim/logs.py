"""Logging set-up: one format for the project's lines and uvicorn's, session tokens redacted.

Every line goes through one handler on stderr, as plain text
(`2026-01-02 10:00:00,123 INFO hftsim.gateway.venue: ...`) or as one JSON
object per line (`--log-format json`: `ts`, `level`, `logger`, `msg`, and
`exc` for a traceback) for log collectors. A WebSocket opening and closing
is logged at debug level: at info, a class of browsers would bury
everything else.

Tokens reach log lines in many shapes: a WebSocket path's query string
(`?token=...`, or percent-encoded as `?%74oken=...`), and at debug level
the handshake headers (`Authorization: Bearer ...`, the `bearer.<token>`
subprotocol) and the frames themselves (auth.renew, md.renew). The filter
sits on every handler, so no logger at any level can write one: each
message is percent-decoded until it is stable and every token-shaped value
is replaced. Frame contents are dropped whole: the debug log shortens them
in the middle, which can leave a token's tail with no name in front of it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote

LogFormat = Literal["plain", "json"]
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SOCKET_LINE = re.compile(r'^\S+ - "WebSocket [^"]*" (\[accepted\]|closed)')
"""uvicorn's line for an accepted WebSocket, and the transport's for a closed one."""

TOKEN_SHAPES = (
    re.compile(r"""(token\s*=\s*)[^&\s"'\\,;}\]]+""", re.IGNORECASE),
    re.compile(r"""(token\\?["']\s*:\s*\\?["'])[^"'\\]+""", re.IGNORECASE),
    re.compile(r"""(bearer[\s.]+)[^\s"'\\,;}\]]+""", re.IGNORECASE),
)
REDACTED = r"\1[redacted]"
FRAME = re.compile(r"^([<>] (?:TEXT|BINARY|CONT)) .*?(\[\d+ bytes\])$", re.DOTALL)


def redact(text: str) -> str:
    """`text` with every token value replaced, in its percent-decoded form if that is where a token was found."""
    text = FRAME.sub(r"\1 [contents not logged] \2", text)
    decoded = text
    for _ in range(5):  # each pass undoes one layer of percent-encoding
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    clean = decoded
    for shape in TOKEN_SHAPES:
        clean = shape.sub(REDACTED, clean)
    return text if clean == decoded else clean


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class SocketsAtDebug(logging.Filter):
    """Demote the per-WebSocket open and close lines to debug, and drop them below it."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self._shown = level <= logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and SOCKET_LINE.match(record.getMessage()):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self._shown
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: `ts` (ISO 8601, UTC), `level`, `logger`, `msg`, and `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def log_config(level: str = "info", fmt: LogFormat = "plain") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the CLI and for uvicorn (which applies it again as it starts)."""
    numeric = logging.getLevelName(level.upper())
    formatter = {"()": JsonLines} if fmt == "json" else {"format": PLAIN}
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "line",
        "filters": ["redact_tokens", "sockets_at_debug"],
    }
    project = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": formatter},
        "filters": {
            "redact_tokens": {"()": RedactTokens},
            "sockets_at_debug": {"()": SocketsAtDebug, "level": numeric},
        },
        "handlers": {"default": handler},
        "loggers": {
            name: dict(project) for name in ("hftsim", "market_client", "uvicorn", "uvicorn.error", "uvicorn.access")
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
