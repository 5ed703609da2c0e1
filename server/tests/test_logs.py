"""Token redaction on its own: every shape a token can take in a log line."""

from __future__ import annotations

import pytest

from hftsim.logs import redact

TOKEN = "Zk3_q-9aB7xYtT2mN0pLrS5vW8cD1eFgH4iJ6kL"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1:5000 - "WebSocket /ws/md?token={TOKEN}" [accepted]',
        f"< GET /ws/md?x=1&%74oken={TOKEN} HTTP/1.1",
        f"< GET /ws/md?%2574%256F%256B%2565%256E%253D{TOKEN} HTTP/1.1",
        f"< authorization: Bearer {TOKEN}",
        f"< sec-websocket-protocol: hftsim.v1, bearer.{TOKEN}",
        f'handshake body {{"token": "{TOKEN}"}}',
        f'< TEXT \'{{"op":"md.renew","payload":{{"token":"{TOKEN[:9]}...{TOKEN[-20:]}"}}}}\' [120 bytes]',
    ],
)
def test_no_token_survives(line: str) -> None:
    out = redact(line)
    assert TOKEN not in out and TOKEN[-20:] not in out
    assert "[redacted]" in out or "[contents not logged]" in out


def test_lines_without_tokens_are_left_alone() -> None:
    for line in ("no session token: call /auth/handshake first", "GET /healthz?x=%41 HTTP/1.1"):
        assert redact(line) == line
