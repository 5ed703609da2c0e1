"""A segment's records as bytes: each command behind its header, a whole group at once.

segments.py describes the layout (a 24-byte header of big-endian length,
CRC-32, seq and ts, then the command) and reads it back (`HEADER`); this
module writes it. It is compiled with the order path (hftsim/compiled.py):
the sequencer writes one group per pass of the event loop, and framing each
record in plain Python cost about as much as encoding the command.

Compiled, `int.to_bytes` of a literal length and byte order is a C call
and a bytes `%` of a literal one build of its pieces, where a
`struct.Struct.pack` goes through a method lookup and the interpreter's
calling convention: a record is framed with three of the former (its ts's
made once for a group's run of one ts, its length and CRC written as one
integer), not two packs and a concatenation.
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
    """The (seq, ts, command) records of a group, framed one after the other: what one write appends.

    The sequencer stamps a group's records with one ts: its bytes are made once per run of equal ts, not per record.
    """
    if len(records) == 1:
        seq, ts, data = records[0]
        return record(seq, ts, data)
    stamp_ts = records[0][1]
    stamp = stamp_ts.to_bytes(8, "big", signed=True)
    framed: list[bytes] = []
    for seq, ts, data in records:
        if ts != stamp_ts:
            stamp_ts = ts
            stamp = ts.to_bytes(8, "big", signed=True)
        framed.append(_framed(seq, stamp, data))
    return b"".join(framed)


def record(seq: int, ts: int, data: bytes) -> bytes:
    """One record: `HEADER`'s fields, the CRC over seq, ts and the command, then the command."""
    return _framed(seq, ts.to_bytes(8, "big", signed=True), data)


def _framed(seq: int, stamp: bytes, data: bytes) -> bytes:
    """A record of the ts written as `stamp`. Its length and CRC, two 32-bit fields side by side, are written as one
    64-bit integer (a length below 2**31 keeps it a small int): one `to_bytes` for the two."""
    covered = b"%b%b%b" % (seq.to_bytes(8, "big", signed=True), stamp, data)
    return b"%b%b" % (((len(data) << 32) | _crc32(covered)).to_bytes(8, "big"), covered)
