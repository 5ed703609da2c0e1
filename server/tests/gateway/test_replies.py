"""msg_id answers kept per session, without sockets."""

from __future__ import annotations

import pytest

from hftsim.gateway.replies import Replies
from hftsim.protocol.errors import ProtocolError


def test_a_repeated_state_changing_msg_id_gets_the_first_answer() -> None:
    replies = Replies(window=3)
    assert replies.begin("m1", "order.place") is None
    with pytest.raises(ProtocolError, match="still being processed") as running:
        replies.begin("m1", "order.place")
    assert running.value.code == "DUPLICATE_MSG"
    replies.finish("m1", b'{"ok":true}')
    assert replies.begin("m1", "order.place") == b'{"ok":true}'
    with pytest.raises(ProtocolError, match=r"already used for order\.place"):
        replies.begin("m1", "order.cancel")  # not a copy: another op under the same msg_id


def test_a_repeated_read_is_refused_and_transient_refusals_are_forgotten() -> None:
    replies = Replies(window=3)
    assert replies.begin("read", "order.place") is None
    replies.finish("read", None)
    with pytest.raises(ProtocolError, match="already used"):
        replies.begin("read", "order.place")
    assert replies.begin("limited", "order.place") is None
    replies.forget("limited")
    assert replies.begin("limited", "order.place") is None


def test_the_window_is_bounded() -> None:
    replies = Replies(window=2)
    for msg_id in ("a", "b", "c"):
        assert replies.begin(msg_id, "order.place") is None
        replies.finish(msg_id, None)
    assert replies.begin("a", "order.place") is None  # fell out of the window
