"""The socket's frame sorting, with picows' own frames and no connection: messages to the session, a close kept."""

from __future__ import annotations

from typing import Any

import pytest
from picows import WSCloseCode, WSMsgType
from picows.picows import _make_test_ws_frame
from websockets.exceptions import ConnectionClosed

from market_client._socket import Socket


class Transport:
    """What the socket calls on picows' transport when the peer closes."""

    def __init__(self) -> None:
        self.is_close_frame_sent = False
        self.closes: list[Any] = []
        self.disconnected = False

    def send_close(self, code: Any) -> None:
        self.is_close_frame_sent = True
        self.closes.append(code)

    def disconnect(self) -> None:
        self.disconnected = True


def pushed(frames: list[tuple[WSMsgType, bytes]]) -> tuple[list[bytes], Socket, Transport]:
    socket, transport = Socket(), Transport()
    got: list[bytes] = []
    socket.push_to(got.append)
    for kind, payload in frames:
        socket.on_ws_frame(transport, _make_test_ws_frame(kind, payload, True, False))  # type: ignore[arg-type]
    return got, socket, transport


@pytest.mark.parametrize("kind", [WSMsgType.TEXT, WSMsgType.BINARY])
def test_messages_reach_the_session_whatever_they_open_with(kind: WSMsgType) -> None:
    messages = [b'{"type":"event"}', b"[1,2]", b'"not an object"', b""]
    got, _, transport = pushed([(kind, m) for m in messages])
    assert got == messages and not transport.disconnected


def test_a_close_frame_is_kept_answered_and_ends_the_link_never_taken_for_a_message() -> None:
    got, socket, transport = pushed([(WSMsgType.CLOSE, (4001).to_bytes(2, "big") + b"token expired")])
    assert got == [] and transport.disconnected and transport.closes == [4001]
    socket.on_ws_disconnected(transport)  # type: ignore[arg-type]
    with pytest.raises(ConnectionClosed) as closed:
        socket.send_now(b"{}")
    received = closed.value.rcvd
    assert received is not None and (received.code, received.reason) == (4001, "token expired")


def test_a_close_without_a_code_is_answered_with_ok() -> None:
    _, _, transport = pushed([(WSMsgType.CLOSE, b"")])
    assert transport.closes == [WSCloseCode.OK] and transport.disconnected


def test_control_frames_that_are_no_close_are_no_messages() -> None:
    got, _, transport = pushed([(WSMsgType.PONG, b"hb"), (WSMsgType.PING, b""), (WSMsgType.CONTINUATION, b"}")])
    assert got == [] and not transport.disconnected
