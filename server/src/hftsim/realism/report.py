"""Write the realism report: docs/realism/README.md and one figure per symbol.

The page opens with a pass/fail table (facts down, symbols across), then
gives per symbol every fact's numbers beside the agents-only market, the
fair value alone, and what real markets show with the source. Sections
written by other parts of the study (distances, slow facts) are appended as
given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .facts import FACTS, SCORED_ON_AGENTS_ONLY
from .findings import SETTLED_SE, Finding, mark
from .plots import symbol_figure
from .study import Study

RULE = (
    "Each verdict is taken on the estimate pooled over the seeds; ± is its standard error, by the jackknife"
    " over the seeds (the estimate again with each seed's run left out). A verdict followed by (k SE) is"
    f" unsettled: its deciding number lies only k standard errors from its threshold (fewer than {SETTLED_SE:g}),"
    " so other seeds may turn it."
)


def verdicts(study: Study) -> dict[str, dict[str, Finding]]:
    """symbol -> row name -> finding: every fact on the market, and the agents-only ones."""
    out: dict[str, dict[str, Finding]] = {}
    for sym, res in study.results.items():
        row: dict[str, Finding] = {fact.key: res.market[fact.key] for fact in FACTS}
        if res.agents_only is not None:
            for key in SCORED_ON_AGENTS_ONLY:
                row[f"{key} (agents only)"] = res.agents_only[key]
        out[sym] = row
    return out


def summary_table(study: Study) -> list[str]:
    syms = list(study.results)
    titles = {fact.key: fact.title for fact in FACTS}
    table = verdicts(study)
    rows = list(next(iter(table.values()))) if table else []
    lines = ["| fact | " + " | ".join(syms) + " |", "|---|" + "---|" * len(syms)]
    for row in rows:
        key, _, suffix = row.partition(" ")
        title = titles[key] + (f" {suffix}" if suffix else "")
        lines.append(f"| {title} | " + " | ".join(mark(table[s][row]) for s in syms) + " |")
    counts = []
    for sym in syms:
        scored = [f for f in table[sym].values() if f.passed is not None]
        unsettled = sum(not f.settled for f in scored)
        count = f"{sum(bool(f.passed) for f in scored)}/{len(scored)}"
        counts.append(count + (f" ({unsettled} unsettled)" if unsettled else ""))
    lines.append("| **passed** | " + " | ".join(counts) + " |")
    return lines


def _cell(text: str) -> str:
    """A table cell: pipes inside (|r|) escaped."""
    return text.replace("|", "\\|")


def symbol_section(study: Study, sym: str) -> list[str]:
    res = study.results[sym]
    lines = [
        f"## {sym} (tick {res.tick})",
        "",
        f"![{sym}]({sym}.png)",
        "",
        "| fact | market | agents only (GBM fair value) | fair value alone | real markets | source | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for fact in FACTS:
        only = res.agents_only[fact.key] if res.agents_only is not None else None
        verdict = mark(res.market[fact.key])
        if fact.key in SCORED_ON_AGENTS_ONLY and only is not None:
            verdict += f" / agents only {mark(only)}"
        cells = [res.market[fact.key].shown, only.shown if only else "-", res.fair[fact.key].shown, fact.real]
        lines.append(f"| {fact.title} | " + " | ".join(_cell(c) for c in cells) + f" | {fact.source} | {verdict} |")
    lines.append("")
    return lines


def write(study: Study, out: Path, *, command: str, extra: Sequence[str] = ()) -> Path:
    """Write the page and the figures into `out`; returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    opts = study.options
    names = ", ".join(study.results)
    lines = [
        "# Market realism report",
        "",
        f"Written by `{command}`: {names}; {opts.seeds} seeds × {opts.minutes:g} simulated minutes"
        f" per configuration, pooled ({study.sim_seconds / 60:.0f} simulated minutes in {study.wall_s:.0f} s).",
        "Measured from outside, on the order-by-order flow and the mid-price, like an observer of a real"
        " exchange's full feed. *market*: the market as configured; *agents only*: the same agents on a plain"
        " GBM fair value (no volatility regimes, no jumps), so whatever shows there and not in its fair value"
        " the agents make; *fair value alone*: the price facts of the fair value's own path.",
        "",
        RULE,
        "",
        "## Verdicts",
        "",
        *summary_table(study),
        "",
        *extra,
    ]
    for sym, res in study.results.items():
        symbol_figure(sym, res.samples, out / f"{sym}.png")
        lines += symbol_section(study, sym)
    page = out / "README.md"
    page.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return page
