"""A segment's records as bytes: each command behind its header, a whole group at once.

segments.py describes the layout (a 24-byte header of big-endian length,
CRC-32, seq and ts, then the command) and reads it back; this module writes
it. It is compiled with the order path (hftsim/compiled.py): the sequencer
writes one group per pass of the event loop, and framing each record in
plain Python cost about as much as encoding the command.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

HEADER: Final = struct.Struct(">IIqq")
"""length (of the command), CRC-32, seq, ts."""
_SEQ_TS: Final = struct.Struct(">qq")
_LENGTH_CRC: Final = struct.Struct(">II")
_crc32: Final = zlib.crc32
"""Read once: the compiled module would otherwise look them up on their modules per record."""


def frames(records: list[tuple[int, int, bytes]]) -> bytes:
    """The (seq, ts, command) records of a group, framed one after the other: what one write appends."""
    parts: list[bytes] = []
    for seq, ts, data in records:
        head = _SEQ_TS.pack(seq, ts)
        parts.append(_LENGTH_CRC.pack(len(data), _crc32(head + data)))
        parts.append(head)
        parts.append(data)
    return b"".join(parts)
