"""One log line format: JSON objects for collectors, and the per-WebSocket lines only at debug level."""

from __future__ import annotations

import json
import logging
import sys

from hftsim.logs import JsonLines, SocketsAtDebug, log_config


def record(msg: str, level: int = logging.INFO, name: str = "uvicorn.error") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


def test_json_lines_carry_time_level_logger_and_message() -> None:
    line = json.loads(JsonLines().format(record("recovered the market at command 7", name="hftsim.gateway.venue")))
    assert line["level"] == "INFO" and line["logger"] == "hftsim.gateway.venue"
    assert line["msg"] == "recovered the market at command 7"
    assert line["ts"].endswith("+00:00") and "T" in line["ts"]


def test_json_lines_keep_a_traceback_in_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord("hftsim", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = JsonLines().format(rec)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exc"]


def test_websocket_lines_are_debug_lines() -> None:
    opened = '127.0.0.1:5000 - "WebSocket /ws/md" [accepted]'
    at_info, at_debug = SocketsAtDebug(logging.INFO), SocketsAtDebug(logging.DEBUG)
    assert at_info.filter(record(opened)) is False
    shown = record(opened)
    assert at_debug.filter(shown) is True and shown.levelname == "DEBUG"
    assert at_info.filter(record('127.0.0.1:5000 - "WebSocket /ws/md" 403')) is True
    assert at_info.filter(record("Uvicorn running on http://127.0.0.1:8000")) is True


def test_the_project_and_uvicorn_share_one_handler() -> None:
    config = log_config("info", "json")
    for name in ("hftsim", "uvicorn", "uvicorn.error"):
        assert config["loggers"][name]["handlers"] == ["default"]
    assert config["handlers"]["default"]["filters"] == ["redact_tokens", "sockets_at_debug"]
    assert config["formatters"]["line"] == {"()": JsonLines}
