"""The report's figures: one PNG per symbol, eight panels, market beside agents-only and fair value.

matplotlib is imported here only (and with the file-only Agg backend), so
the server never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .facts import BASE_S, SIGN_LAGS, SIGNATURE_S, Sample, sign_acf, signature
from .measures import Array, acf

COLOURS = {"market": "tab:blue", "agents only": "tab:orange", "fair value": "tab:gray"}


def _ccdf(ax: Any, values: Array, label: str, colour: str) -> None:
    v = np.sort(values[values > 0])
    if not len(v):
        return
    p = 1.0 - np.arange(len(v)) / len(v)
    ax.loglog(v, p, ".", markersize=2, label=label, color=colour)


def symbol_figure(sym: str, samples: dict[str, Sample], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(18, 8))
    flat = axes.ravel()
    market = samples["market"]
    tape = market.tapes[0]
    tick = tape.tick
    minutes = np.arange(1, tape.seconds + 1) / 60
    ax = flat[0]
    ax.plot(minutes, np.asarray(tape.mid) * tick, lw=0.6, label="mid", color=COLOURS["market"])
    ax.plot(minutes, np.asarray(tape.fair) * tick, lw=0.6, label="fair value", color=COLOURS["fair value"])
    ax.set(title=f"{sym}: first seed", xlabel="minutes", ylabel="price")
    ax.legend(fontsize=7)

    ax = flat[1]
    for name, sample in samples.items():
        r = sample.pooled(BASE_S)
        if len(r) and r.std() > 0:
            _ccdf(ax, np.abs(r) / r.std(), name, COLOURS[name])
    ax.set(title=f"|{BASE_S}-s return| / sd, CCDF", xlabel="|r| / sd", ylabel="P(> x)")
    ax.legend(fontsize=7)

    ax = flat[2]
    lags = list(range(1, 31))
    for name, sample in samples.items():
        ax.plot(lags, acf([np.abs(r) for r in sample.returns(BASE_S)], lags), label=name, color=COLOURS[name])
    ax.axhline(0, color="black", lw=0.5)
    ax.set(title=f"|r| autocorrelation ({BASE_S}-s returns)", xlabel="lag", ylabel="acf")
    ax.legend(fontsize=7)

    ax = flat[3]
    for name, sample in samples.items():
        sig = np.asarray(signature(sample))
        ax.semilogx(SIGNATURE_S, sig / sig[-1], "o-", label=name, color=COLOURS[name])
    ax.set(title="signature plot σ²(τ)/τ (over 60 s)", xlabel="τ (s)", ylim=(0, 2))
    ax.legend(fontsize=7)

    flows = {k: v for k, v in samples.items() if not v.fair}
    ax = flat[4]
    for name, sample in flows.items():
        c = sign_acf(sample)
        ok = c > 0
        ax.loglog(np.asarray(SIGN_LAGS)[ok], c[ok], "o-", label=name, color=COLOURS[name])
    ax.set(title="order-sign autocorrelation", xlabel="lag (orders)")
    ax.legend(fontsize=7)

    ax = flat[5]
    for name, sample in flows.items():
        d = np.concatenate([np.asarray(t.limit_depth, dtype=float) for t in sample.tapes])
        _ccdf(ax, d, name, COLOURS[name])
    ax.set(title="placement depth (ticks behind the best), CCDF", xlabel="ticks")
    ax.legend(fontsize=7)

    ax = flat[6]
    for name, sample in flows.items():
        q = np.concatenate([np.asarray(t.taker_qty, dtype=float) for t in sample.tapes]) / sample.round_lot
        _ccdf(ax, q, name, COLOURS[name])
    ax.set(title="aggressive order size, CCDF", xlabel="round lots")
    ax.legend(fontsize=7)

    ax = flat[7]
    for name, sample in flows.items():
        ages = np.sort(np.concatenate([np.asarray(t.cancel_age, dtype=float) for t in sample.tapes]))
        if len(ages):
            ax.semilogx(
                np.maximum(ages, 1e-3), np.arange(1, len(ages) + 1) / len(ages), label=name, color=COLOURS[name]
            )
    ax.axvline(2.0, color="black", lw=0.5, ls="--")
    ax.set(title="age of cancelled orders, CDF", xlabel="seconds")
    ax.legend(fontsize=7)

    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
