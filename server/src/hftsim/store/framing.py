"""A segment's records as bytes: each command behind its header, a whole group at once.

segments.py describes the layout (a 24-byte header of big-endian length,
CRC-32, seq and ts, then the command) and reads it back (`HEADER`); this
module writes it. It is compiled with the order path (hftsim/compiled.py):
the sequencer writes one group per pass of the event loop, and framing each
record in plain Python cost about as much as encoding the command.

Compiled, `int.to_bytes` of a literal length and byte order is a C call
and a bytes `%` of a literal one build of its pieces, where a
`struct.Struct.pack` goes through a method lookup and the interpreter's
calling convention: a record is framed with two of the former, not two
packs and a concatenation.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

HEADER: Final = struct.Struct(">IIqq")
"""length (of the command), CRC-32, seq, ts."""
_crc32: Final = zlib.crc32
"""Read once: the compiled module would otherwise look it up on its module per record."""


def frames(records: list[tuple[int, int, bytes]]) -> bytes:
    """The (seq, ts, command) records of a group, framed one after the other: what one write appends."""
    if len(records) == 1:
        seq, ts, data = records[0]
        return record(seq, ts, data)
    return b"".join([record(seq, ts, data) for seq, ts, data in records])


def record(seq: int, ts: int, data: bytes) -> bytes:
    """One record: `HEADER`'s fields, the CRC over seq, ts and the command, then the command."""
    covered = b"%b%b%b" % (seq.to_bytes(8, "big", signed=True), ts.to_bytes(8, "big", signed=True), data)
    return b"%b%b%b" % (len(data).to_bytes(4, "big"), _crc32(covered).to_bytes(4, "big"), covered)
