"""msg_id answers kept per session, without sockets."""

from __future__ import annotations

import gc

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


def test_what_is_kept_leaves_no_object_for_the_collector() -> None:
    """A kept answer and its op hold no container: the venue's settles walk what the last 0.1 s kept, and this
    is kept for every order."""
    replies = Replies(window=1000)
    ids = [f"m{i}" for i in range(500)]
    answers = [b'{"ok":true,"n":%d}' % i for i in range(500)]
    tracked = len(gc.get_objects())
    for msg_id, answer in zip(ids, answers, strict=True):
        replies.begin(msg_id, "order.place")
        replies.finish(msg_id, answer)
    assert len(gc.get_objects()) - tracked < 50
    assert replies.begin("m7", "order.place") == answers[7]


def test_a_forgotten_msg_id_leaves_the_window_to_the_others() -> None:
    replies = Replies(window=2)
    for msg_id in ("a", "b"):
        assert replies.begin(msg_id, "order.place") is None
    replies.forget("a")
    replies.forget("a")  # twice: nothing left to forget
    assert replies.begin("c", "order.place") is None
    replies.finish("b", b"kept")
    assert replies.begin("b", "order.place") == b"kept"
