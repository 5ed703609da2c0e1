"""A tiny run of every benchmark in bench/, so `make test` notices when one breaks.

Only sanity is asserted (things were counted, books agree); timings never
are: a loaded test machine must not fail the build. The full suite is
`make bench`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench import (
    agents,
    client_book,
    cluster,
    engine,
    fairness,
    fanout,
    journal,
    memory,
    peers,
    report,
    roundtrip,
    throughput,
    transport,
)
from bench.common import SMOKE, percentiles
from bench.mix import Floor, make_mix


def rows_ok(result: dict[str, Any]) -> None:
    assert result["rows"]
    for r in result["rows"]:
        assert r["value"] is None or r["value"] >= 0, r


def test_percentiles_nearest_rank() -> None:
    assert percentiles(list(range(1, 101))) == {"p50": 50, "p90": 90, "p99": 99, "p99.9": 100}
    assert percentiles([]) == {}


def test_mix_floor_and_engine_end_with_the_same_books() -> None:
    from hftsim.config import load

    mix = make_mix(3_000, load().instruments())
    counts = mix.counts()
    assert all(v > 0 for v in counts.values()) and sum(counts.values()) == 3_000
    floor = Floor(len(mix.instruments))
    floor.run(mix.floor_ops)
    assert floor.orders.keys() == mix.final.orders.keys()
    assert engine.check_books(mix)
    changes = engine.book_changes(mix)
    assert {c[0] for c in changes} == {"a", "u", "d"}


def test_engine() -> None:
    result = engine.run(SMOKE)
    assert result["rate_cmd_per_s"]["engine"] > 0 and result["rate_cmd_per_s"]["floor"] > 0
    assert result["latency_us"]["engine"]["all"]["p50"] > 0
    rows_ok(result)


def test_roundtrip() -> None:
    result = roundtrip.run(SMOKE)
    assert set(result["latency_us"]) == {"gateway ack", "echo ack", "gateway fill", "echo fill"}
    assert all(p["p50"] > 0 for p in result["latency_us"].values())
    assert len(result["frame_sizes"]["ack"]) == 1 and len(result["frame_sizes"]["fill"]) >= 3
    rows_ok(result)


def test_transport() -> None:
    result = transport.run(SMOKE)
    assert result["ack_frame_sizes"] and len(result["ack_frame_sizes"]) == 1
    for name in ("ack gateway", "ack sdk", "ack websockets", "ack picows", "ack tcp"):
        assert result["figures"][name]["p50"] > 0
    for name in ("pipelined gateway", "pipelined websockets", "pipelined picows", "pipelined tcp"):
        assert result["figures"][name]["per_s"] > 0
    rows_ok(result)


def test_throughput() -> None:
    result = throughput.run(SMOKE)
    for clients in result["clients"].values():
        assert clients["gateway"]["orders_per_s"] > 0 and clients["echo"]["orders_per_s"] > 0
    rows_ok(result)


def test_cluster() -> None:
    result = cluster.run(SMOKE)
    assert result["serve"]["orders_per_s"] > 0 and result["cluster"]["orders_per_s"] > 0
    rows_ok(result)


def test_fanout() -> None:
    result = fanout.run(SMOKE)
    for n, sweep in result["sweep"].items():
        assert sweep["default"]["delivered_per_s"] > 0
        assert sweep["complete_subscribers"] == int(n)
    assert result["slow_consumer"]["without"]["delivered_per_s"] > 0
    rows_ok(result)


def test_client_book() -> None:
    result = client_book.run(SMOKE)
    assert result["books_match_floor"]
    assert result["rate_deltas_per_s"]["market_client"] > 0
    rows_ok(result)


def test_memory() -> None:
    result = memory.run(SMOKE)
    assert result["server_rss_delta"]["engine"] > 0 and result["client_rss_delta"]["market_client"] > 0
    rows_ok(result)


def test_report_renders_every_benchmark(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "client_book.json").write_bytes(
        b'{"name":"client_book","scale":"smoke","reps":1,"started":"now","duration_s":1,"loadavg_1min_before":0,'
        b'"loadavg_1min_after":0,"peers":"none","machine":{"cores":2,"cpu":"x","os":"y","python":"z",'
        b'"libraries":{}},"deltas":1,"levels_per_delta":1,"books_match_floor":true,'
        b'"rate_deltas_per_s":{"market_client":1.0},"rows":[]}'
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\n\nhand-written\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n")
    report.render(results, readme)
    text = readme.read_text()
    assert "hand-written" in text and "after" in text and "old" not in text and "5. Client book" in text


@pytest.mark.skipif(not (peers.peers_dir() / "bin" / "python").exists(), reason="no peers venv (make bench makes it)")
def test_nautilus_worker() -> None:
    peers.setup(allow_install=False)
    naut = peers.nautilus()
    peers.PEERS.nautilus = None  # the other smoke tests stay without peers whatever the order
    assert naut is not None, peers.PEERS.note
    changes = [("a", 0, True, 100, 5, 1), ("u", 0, True, 100, 2, 1), ("d", 0, True, 100, 0, 1)]
    with peers.handover((changes, 1)) as path:
        assert naut.call("l3", path)["ops"] == 3


def test_fairness() -> None:
    result = fairness.run(SMOKE)
    for phase in result["phases"].values():
        assert phase["latency_us"]["ping"]["p50"] > 0 and phase["latency_us"]["order"]["p50"] > 0
    for name in ("ping flood", "order flood"):
        flooder = result["phases"][name]["flooder"]
        assert flooder["sent"] > 0 and flooder["ok"] > 0
        assert flooder["unanswered"] >= 0
    rows_ok(result)


def test_journal() -> None:
    result = journal.run(SMOKE)
    for mode in ("os", "fsync"):
        assert result["modes"][mode]["orders_per_s"] > 0 and result["modes"][mode]["server_cpu_us_per_order"] > 0
    for side in ("snapshot", "no snapshot"):
        stall = result["stall"][side]
        assert stall["longest_stall_ms"] >= stall["longest_stall_on_cpu_ms"] >= 0 and stall["orders_per_s"] > 0
        assert stall["longest_gc_ms"] >= 0 and stall["longest_gc_cpu_ms"] >= 0
    tails = result["tails"]
    assert tails["orders_per_s"] > 0 and tails["longest_stall_ms"] >= tails["longest_stall_on_cpu_ms"] >= 0
    assert tails["generator_cpu_share"] > 0 and tails["longest_gc_cpu_ms"] >= 0
    assert min(tails["rss_mb"]) > 0 and tails["frozen_count_stall_ms"] >= 0
    rows_ok(result)


def test_agents_cost_is_measured_beside_the_engine() -> None:
    result = agents.run(SMOKE)
    rows_ok(result)
    assert result["commands_per_hour"] > 0
    assert result["agents_s_per_hour"] > 0 and result["engine_s_per_hour"] > 0
    assert result["before"]["commands_per_hour"] == result["commands_per_hour"]  # the same seeds in either build
