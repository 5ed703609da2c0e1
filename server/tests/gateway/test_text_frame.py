"""The frames the server builds itself, read back by an independent parser (websockets').

An outbox writes `text_frame`'s bytes straight to the socket, so a wrong
length header would corrupt every later frame on that connection; the three
length forms of RFC 6455 are checked at their edges.
"""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from hftsim.gateway.outbox import text_frame


def parse(data: bytes) -> tuple[Frame, bytes]:
    """One frame as a client reads it (unmasked, from a server), and what is left after it."""
    reader = StreamReader()
    reader.feed_data(data + b"rest")
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
    else:
        raise AssertionError("the parser wanted more bytes than the frame holds")
    return frame, bytes(reader.buffer)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 255, 256, 511, 4000, 65535, 65536, 70000])
def test_text_frame_reads_back_whole(size: int) -> None:
    payload = bytes(range(48, 58)) * (size // 10) + b"x" * (size % 10)
    frame, rest = parse(text_frame(payload))
    assert frame.opcode is Opcode.TEXT
    assert frame.fin and not (frame.rsv1 or frame.rsv2 or frame.rsv3)
    assert frame.data == payload
    assert rest == b"rest"
