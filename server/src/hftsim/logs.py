"""Logging set-up for the server: uvicorn's format, with session tokens redacted.

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

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

from uvicorn.config import LOGGING_CONFIG

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


def server_log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens"]
    config["loggers"]["hftsim"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
