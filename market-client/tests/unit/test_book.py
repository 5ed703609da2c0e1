from market_client._book import OrderBook


def make_book() -> OrderBook:
    book = OrderBook("ACME")
    book.load(7, [["99.99", 5], ["100.00", 3]], [["100.02", 1], ["100.01", 4]], "trading")
    return book


def test_levels_come_best_first() -> None:
    book = make_book()
    assert book.bids() == [["100.00", 3], ["99.99", 5]]
    assert book.asks() == [["100.01", 4], ["100.02", 1]]
    assert book.best_bid() == ["100.00", 3] and book.best_ask() == ["100.01", 4]


def test_update_sets_totals_and_zero_removes() -> None:
    book = make_book()
    book.update([["100.00", 0], ["99.98", 2]], [["100.01", 9]])
    assert book.bids() == [["99.99", 5], ["99.98", 2]]
    assert book.asks(1) == [["100.01", 9]]


def test_same_price_in_another_spelling_is_the_same_level() -> None:
    book = make_book()
    book.update([["100.0", 8]], [])
    assert book.bids() == [["100.00", 8], ["99.99", 5]]


def test_load_replaces_everything_and_snapshot_has_the_wire_shape() -> None:
    book = make_book()
    book.load(9, [], [["101.00", 1]], None)
    assert book.snapshot() == {"sym": "ACME", "seq": 9, "status": "trading", "bids": [], "asks": [["101.00", 1]]}
    assert book.best_bid() is None


def test_depth_limits_levels() -> None:
    book = OrderBook("X")
    book.load(1, [[str(p), 1] for p in range(1, 31)], [], "trading")
    assert len(book.snapshot(depth=20)["bids"]) == 20
    assert book.snapshot(depth=None)["bids"][0] == ["30", 1]
