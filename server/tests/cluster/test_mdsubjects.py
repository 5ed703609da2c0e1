"""The market-data messages a shard publishes, read back as a gateway reads them (in process, no NATS).

A book kept from the decoded events must be the engine's book at every
step, and each event must come back as the engine emitted it, with its
place in the venue's order: the gateway renders these for its clients.
"""

from __future__ import annotations

import orjson
import pytest

from hftsim.cluster.layout import Layout
from hftsim.cluster.mdsubjects import Book, MalformedMarketData, book_message, by_symbol, decode, events_message
from hftsim.config import load
from hftsim.engine import BookDelta, Command, PlaceOrder, PublicEvent, SetSymbolStatus, Side, SymbolStatus, Trade

SETTINGS = load(cluster={"shards": {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}})
GSEQ_BASE = 1000


def place(user: int, sym: str, side: Side, price: int, qty: int) -> PlaceOrder:
    return PlaceOrder(user_id=user, sym=sym, side=side, qty=qty, price=price)


def test_a_book_kept_from_the_messages_is_the_engines_at_every_step() -> None:
    engine = Layout.of(SETTINGS).engine(SETTINGS, 0)
    books = {sym: Book.of(engine, sym) for sym in ("ACME", "BOLT")}
    heard: list[PublicEvent] = []
    commands: list[Command] = [
        place(1, "ACME", Side.BUY, 9_900, 5),
        place(1, "ACME", Side.BUY, 9_950, 3),
        place(2, "ACME", Side.SELL, 10_100, 4),
        place(3, "BOLT", Side.BUY, 800, 2),
        place(2, "ACME", Side.SELL, 9_900, 6),  # takes 9,950 whole and 3 of 9,900
        SetSymbolStatus("ACME", SymbolStatus.HALTED),
    ]
    for ts, command in enumerate(commands, start=1):
        result = engine.apply(command, ts)
        for sym, rows in by_symbol(result, result.seq + GSEQ_BASE).items():
            decoded = decode(events_message(rows), sym)
            assert isinstance(decoded, list)
            for ev, (gseq, gidx) in decoded:
                assert ev.seq == books[sym].seq + 1 and gseq == result.seq + GSEQ_BASE
                assert ev == result.wire_events()[gidx]  # the event as the engine emitted it
                books[sym].apply(ev)
                heard.append(ev)
        for sym, book in books.items():
            assert book.encode() == Book.of(engine, sym).encode()
    assert any(isinstance(ev, Trade) for ev in heard) and any(isinstance(ev, BookDelta) for ev in heard)
    assert books["ACME"].status is SymbolStatus.HALTED
    assert books["ACME"].levels() == ([(9_900, 2)], [(10_100, 4)])


def test_a_book_message_carries_the_whole_book() -> None:
    engine = Layout.of(SETTINGS).engine(SETTINGS, 1)
    engine.apply(place(1, "CRUX", Side.BUY, 17_000, 2), 1)
    engine.apply(place(2, "CRUX", Side.SELL, 18_000, 1), 2)
    book = decode(book_message(Book.of(engine, "CRUX")), "CRUX")
    assert isinstance(book, Book)
    assert (book.seq, book.levels()) == (engine.md_seq("CRUX"), engine.book_levels("CRUX"))


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        orjson.dumps({"events": [["x", 1, 1, 0]]}),
        orjson.dumps({"events": [["d", "1", 1, 0, [], []]]}),
        orjson.dumps({"events": [["t", 1, 1, 0]]}),
        orjson.dumps({"book": {"sym": "ACME", "seq": 1, "status": "closed", "bids": [], "asks": []}}),
        orjson.dumps({"book": {"sym": "ACME", "seq": 1, "status": "trading", "bids": [[1.5, 1]], "asks": []}}),
    ],
)
def test_anything_else_on_a_market_data_subject_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedMarketData):
        decode(data, "ACME")
