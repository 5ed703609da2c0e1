"""The realism study on a short run of the default market: tapes, facts, the report and its command.

The full study (every symbol, 3 seeds x 60 simulated minutes) is `make
realism`; here ACME and BOLT run 3 seeds x 12 minutes, in both
configurations, once for the module.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from hftsim.cli import main
from hftsim.realism import FACTS, Options, Study, record, run
from hftsim.realism.facts import Sample, placement_depth
from hftsim.realism.report import RULE, verdicts, write
from hftsim.realism.study import total_seconds
from hftsim.sim import SimSettings, SymbolSimSettings

MINUTES = 12


@pytest.fixture(scope="module")
def study() -> Study:
    return run(Options(["ACME", "BOLT"], MINUTES, 3))


def test_same_seed_same_tape() -> None:
    from sim_data import ACME, INITIAL_CASH, LIMITS

    a, b = (record([ACME], SimSettings(), 5, 120, limits=LIMITS, initial_cash=INITIAL_CASH) for _ in range(2))
    ta, tb = a.tapes["ACME"], b.tapes["ACME"]
    assert ta.taker_t and ta.limit_depth and ta.cancel_age
    assert (ta.mid, ta.taker_qty, ta.limit_depth, ta.cancel_age) == (
        tb.mid,
        tb.taker_qty,
        tb.limit_depth,
        tb.cancel_age,
    )


def test_runs_spread_over_processes_give_the_same_tapes_and_report_all_progress() -> None:
    options = Options(["ACME"], 2, 2)
    advanced: list[float] = []
    alone = run(options)
    spread = run(replace(options, jobs=2), lambda done, label: advanced.append(done))
    assert spread.tapes.keys() == alone.tapes.keys() == {"market", "agents only"}
    for label, runs in alone.tapes.items():
        for a, b in zip(runs, spread.tapes[label], strict=True):
            assert a["ACME"].mid[5:] and a["ACME"].mid == b["ACME"].mid
            assert (a["ACME"].messages, a["ACME"].taker_qty) == (b["ACME"].messages, b["ACME"].taker_qty)
    assert sum(advanced) == total_seconds(options)


def test_a_copied_market_goes_on_as_the_original_would_and_apart_from_it() -> None:
    """Paired experiments start from one copy of a market: the copy must carry the book, the agents and their
    random generators, so it goes on exactly as a run never stopped, and running it leaves the original alone."""
    from sim_data import ACME, INITIAL_CASH, LIMITS

    whole = record([ACME], SimSettings(), 5, 120, limits=LIMITS, initial_cash=INITIAL_CASH)
    half = record([ACME], SimSettings(), 5, 60, limits=LIMITS, initial_cash=INITIAL_CASH)
    copy = half.copy()
    copy.run(120)
    assert half.seconds == 60 and len(half.tapes["ACME"].mid) == 60, "the original did not move"
    ta, tc = whole.tapes["ACME"], copy.tapes["ACME"]
    assert len(tc.mid) == 120 and tc.taker_t[-1] > 60
    assert (ta.mid, ta.taker_qty, ta.limit_depth, ta.cancel_age) == (
        tc.mid,
        tc.taker_qty,
        tc.limit_depth,
        tc.cancel_age,
    )
    half.run(120)
    assert half.tapes["ACME"].mid == ta.mid


def test_tape_sees_the_whole_order_flow(study: Study) -> None:
    for tapes in study.tapes["market"]:
        tape = tapes["ACME"]
        assert tape.seconds == MINUTES * 60 == len(tape.mid) == len(tape.volume)
        assert sum(tape.volume) >= sum(tape.taker_qty) * 0.5, "aggressive orders make the volume"
        assert len(tape.taker_t) == len(tape.taker_sign) == len(tape.taker_qty) == len(tape.taker_mid)
        assert 0 < tape.filled_resting < tape.resting
        assert len(tape.cancel_age) <= tape.resting
        assert min(tape.cancel_age) >= 0
        assert all(math.isfinite(m) for m in tape.mid[5:]), "the agents keep a two-sided book"


def test_every_fact_is_measured_with_a_source_and_the_fair_value_baseline(study: Study) -> None:
    for res in study.results.values():
        assert set(res.market) == {f.key for f in FACTS}
        assert res.agents_only is not None
        for fact in FACTS:
            assert fact.source and fact.real
            found = res.market[fact.key]
            assert found.shown not in ("", "-")
            assert (res.fair[fact.key].shown != "-") == fact.price
            checked = {c.key for c in found.checks}
            assert set(found.se) <= checked and (found.se or not checked), "standard errors over the three seeds"
        # The fair value alone has no microstructure: its clustering comes only from its regimes.
        assert res.fair["clustering"].numbers["absacf_1_10"] < res.market["clustering"].numbers["absacf_1_10"] + 0.3


def test_facts_the_market_shows(study: Study) -> None:
    """Facts the default market passes even on a short run (the report holds the rest)."""
    acme = study.results["ACME"].market
    assert acme["autocorrelation"].passed
    bolt = study.results["BOLT"].market
    assert bolt["spread"].passed, "a large-tick symbol sits at one tick"
    for res in study.results.values():
        assert res.market["spread"].numbers["crossed"] == 0
        assert res.market["cancellations"].passed, "the large-tick BOLT too: its providers post and withdraw more"
        assert res.market["sizes"].passed, "heavy-tailed taker sizes on round lots"
        assert res.market["depth"].passed, "placement depths with a power-law tail and no pile"


def test_a_symbol_whose_value_moves_many_ticks_a_second_gets_most_new_orders_at_the_best() -> None:
    """EMBR's value moves about 15 ticks a second: the makers' ladder must not chase every tick of it."""
    from sim_data import EMBR, INITIAL_CASH, LIMITS

    settings = SimSettings(symbols={"EMBR": SymbolSimSettings(volatility=0.6)})
    tape = record([EMBR], settings, 2, 300, limits=LIMITS, initial_cash=INITIAL_CASH).tapes["EMBR"]
    depth = placement_depth(Sample([tape]))
    assert depth.numbers["near"] >= 0.3, depth.shown
    assert 0.6 <= depth.numbers["alpha"] <= 2.0, depth.shown


def test_report_has_the_verdicts_every_fact_and_a_figure_per_symbol(study: Study, tmp_path: Path) -> None:
    page = write(study, tmp_path, command="hftsim realism --symbols ACME,BOLT")
    text = page.read_text()
    assert RULE in text and " ± " in text
    for fact in FACTS:
        assert fact.title in text and fact.source in text
    assert "## ACME" in text and "## BOLT" in text
    for sym in ("ACME", "BOLT"):
        png = tmp_path / f"{sym}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    table = verdicts(study)
    assert set(table) == {"ACME", "BOLT"}
    assert "clustering (agents only)" in table["ACME"]


def test_command_writes_the_report_and_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    main(["realism", "--symbols", "ACME", "--minutes", "2", "--seeds", "1", "--no-agents-only", "--out", str(out)])
    assert (out / "README.md").exists() and (out / "ACME.png").exists()
    captured = capsys.readouterr()
    assert "100%" in captured.err, "a progress bar while it runs"
    with pytest.raises(SystemExit, match="unknown symbol"):
        main(["realism", "--symbols", "NOPE", "--minutes", "2", "--seeds", "1", "--out", str(out)])
    with pytest.raises(SystemExit, match="--minutes"):
        main(["realism", "--minutes", "1", "--out", str(out)])
