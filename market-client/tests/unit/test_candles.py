import pytest

from market_client._candles import CandleSeries

SEQ = iter(range(1, 1_000_000))


def trade(series: CandleSeries, price: str, qty: int, ts: int, seq: int | None = None) -> None:
    series.add_trade(price, qty, ts, next(SEQ) if seq is None else seq)


def c(t: int, o: str, h: str, lo: str, cl: str, v: int) -> dict[str, object]:
    return {"t": t, "o": o, "h": h, "l": lo, "c": cl, "v": v}


def test_trades_aggregate_into_ohlcv() -> None:
    series = CandleSeries(1000, 10)
    trade(series, "100", 1, 5_100)
    trade(series, "101", 2, 5_200)
    trade(series, "99.5", 3, 5_900)
    trade(series, "100.5", 1, 5_999)
    assert series.entries() == [c(5000, "100", "101", "99.5", "100.5", 7)]


def test_skipped_intervals_become_flat_candles() -> None:
    series = CandleSeries(1000, 10)
    trade(series, "100", 1, 1_000)
    trade(series, "102", 1, 4_500)
    assert series.entries() == [
        c(1000, "100", "100", "100", "100", 1),
        c(2000, "100", "100", "100", "100", 0),
        c(3000, "100", "100", "100", "100", 0),
        c(4000, "102", "102", "102", "102", 1),
    ]


def test_window_keeps_the_newest_depth_candles_even_after_a_long_silence() -> None:
    series = CandleSeries(1000, 3)
    trade(series, "1", 1, 0)
    trade(series, "2", 1, 10_000_000_000)
    entries = series.entries()
    assert [e["t"] for e in entries] == [9_999_998_000, 9_999_999_000, 10_000_000_000]
    assert entries[0]["c"] == "1" and entries[-1]["c"] == "2"


def test_seed_replaces_the_window_and_a_seq_fence_drops_counted_trades() -> None:
    series = CandleSeries(1000, 5)
    trade(series, "1", 1, 500, seq=1)  # before the seed: replaced by it
    series.seed([c(2000, "10", "11", "9", "10", 4), c(1000, "9", "10", "9", "10", 2)], seq=5, ts=2_500)
    trade(series, "12", 1, 2_400, seq=5)  # already in the seed
    trade(series, "12", 1, 2_500, seq=6)  # after it, even in the seed's millisecond
    trade(series, "13", 1, 2_500, seq=3)  # older than the fence, but the fence is lifted by now
    assert series.entries() == [c(1000, "9", "10", "9", "10", 2), c(2000, "10", "13", "9", "13", 6)]


def test_without_seq_the_timestamp_is_the_fence() -> None:
    series = CandleSeries(1000, 5)
    series.seed([c(2000, "10", "10", "10", "10", 1)], ts=2_500)
    trade(series, "11", 1, 2_499)  # stamped before the answer: counted
    trade(series, "12", 1, 2_500)  # the answer's millisecond: taken as new
    assert series.entries() == [c(2000, "10", "12", "10", "12", 2)]


def test_trades_during_a_seed_are_held_then_replayed_past_the_fence() -> None:
    series = CandleSeries(1000, 5)
    series.begin_seed()
    trade(series, "10", 1, 2_100, seq=7)  # counted by the server
    trade(series, "11", 2, 2_300, seq=8)  # not counted
    assert series.entries() == []
    series.seed([c(2000, "10", "10", "10", "10", 1)], seq=7, ts=2_200)
    assert series.entries() == [c(2000, "10", "11", "10", "11", 3)]


def test_abort_seed_applies_held_trades() -> None:
    series = CandleSeries(1000, 5)
    series.begin_seed()
    trade(series, "10", 1, 2_100)
    series.abort_seed()
    assert series.entries() == [c(2000, "10", "10", "10", "10", 1)]


def test_seed_is_trimmed_to_depth_and_entries_are_copies() -> None:
    series = CandleSeries(1000, 2)
    series.seed([c(t, "1", "1", "1", "1", 1) for t in (1000, 2000, 3000)])
    entries = series.entries()
    assert [e["t"] for e in entries] == [2000, 3000]
    entries[0]["v"] = 99
    assert series.entries()[0]["v"] == 1


def test_old_trades_do_not_reopen_closed_intervals() -> None:
    series = CandleSeries(1000, 5)
    trade(series, "10", 1, 3_000)
    trade(series, "5", 1, 1_000)
    assert series.entries() == [c(3000, "10", "10", "10", "10", 1)]


@pytest.mark.parametrize(("interval", "depth"), [(0, 5), (1000, 0)])
def test_settings_must_be_positive(interval: int, depth: int) -> None:
    with pytest.raises(ValueError):
        CandleSeries(interval, depth)


def test_entries_extend_flat_candles_up_to_now() -> None:
    series = CandleSeries(1000, 3)
    assert series.entries(now_ms=9_999) == []
    trade(series, "10", 1, 1_500)
    assert series.entries(now_ms=1_700) == [c(1000, "10", "10", "10", "10", 1)]
    assert series.entries(now_ms=3_200) == [
        c(1000, "10", "10", "10", "10", 1),
        c(2000, "10", "10", "10", "10", 0),
        c(3000, "10", "10", "10", "10", 0),
    ]
    assert [e["t"] for e in series.entries(now_ms=1_000_000_500)] == [999_998_000, 999_999_000, 1_000_000_000]
    assert len(series.entries()) == 1  # reading never changes the window
