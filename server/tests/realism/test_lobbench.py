"""LOB-Bench-style distances: the two distances, the stored reference and the report's section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.realism import Sample, record
from hftsim.realism.lobbench import (
    METRICS,
    REFERENCE,
    distances,
    l1,
    load_reference,
    response,
    save_reference,
    section,
    wasserstein,
)
from hftsim.sim import SimSettings


def test_l1_and_wasserstein_of_known_histograms() -> None:
    p = np.asarray([0.0, 10.0, 0.0, 0.0])
    q = np.asarray([0.0, 0.0, 0.0, 5.0])
    centres = np.asarray([0.0, 1.0, 2.0, 3.0])
    assert l1(p, p) == 0 and wasserstein(p, p, centres) == 0
    assert l1(p, q) == pytest.approx(2.0), "disjoint"
    assert wasserstein(p, q, centres) == pytest.approx(2.0), "all the mass moved two bins"
    half = np.asarray([0.0, 5.0, 5.0, 0.0])
    assert l1(p, half) == pytest.approx(1.0)
    assert wasserstein(p, half, centres) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def samples() -> tuple[Sample, Sample]:
    runs = [record([ACME], SimSettings(), seed, 180, limits=LIMITS, initial_cash=INITIAL_CASH) for seed in (1, 2, 3)]
    return Sample([runs[0].tapes["ACME"], runs[1].tapes["ACME"]]), Sample([runs[2].tapes["ACME"]])


def test_reference_round_trip_and_distances(samples: tuple[Sample, Sample], tmp_path: Path) -> None:
    mine, other = samples
    path = tmp_path / "reference.json"
    save_reference({"ACME": mine}, path, made_by="a test run")
    ref = load_reference(path)
    assert ref is not None and ref.made_by == "a test run"
    assert set(ref.symbols["ACME"]) == {m.key for m in METRICS}
    to_self = distances(mine, ref.symbols["ACME"])
    assert all(d == (0.0, 0.0) for d in to_self.values())
    to_other = distances(other, ref.symbols["ACME"])
    assert all(0 < d[0] < 2 for d in to_other.values()), "another seed of the same market differs, never disjoint"
    assert sum(d[0] for d in to_other.values()) / len(to_other) < 0.8, "and is near on the whole"
    text = "\n".join(section({"ACME": other}, ref))
    for metric in METRICS:
        assert metric.title in text
    assert "mean L1" in text


def test_reference_on_other_bins_is_left_out(samples: tuple[Sample, Sample], tmp_path: Path) -> None:
    path = tmp_path / "reference.json"
    save_reference({"ACME": samples[0]}, path, made_by="x")
    data = json.loads(path.read_text())
    data["edges"]["spread"] = [1.0, 2.0]
    path.write_text(json.dumps(data))
    ref = load_reference(path)
    assert ref is not None and "spread" not in ref.symbols["ACME"]
    assert load_reference(tmp_path / "missing.json") is None


def test_aggressive_orders_move_the_price_their_way(samples: tuple[Sample, Sample]) -> None:
    moves = np.concatenate([response(t) for t in samples[0].tapes])
    assert len(moves) > 100
    assert moves.mean() > 0


def test_the_frozen_reference_covers_every_shipped_symbol() -> None:
    ref = load_reference(REFERENCE)
    assert ref is not None
    assert set(ref.symbols) == {"ACME", "BOLT", "CRUX", "DUNE", "EMBR"}
    for hists in ref.symbols.values():
        assert set(hists) == {m.key for m in METRICS}
        assert all(h.sum() > 100 for h in hists.values())
