"""`hftsim realism`: run the study with a progress bar and write the report (the options are in `hftsim.cli`)."""

from __future__ import annotations

import argparse
import sys

from ..config import ConfigError
from . import slow
from .lobbench import load_reference, save_reference, section
from .progress import ProgressBar
from .report import write
from .study import Options, run, total_seconds


def main(args: argparse.Namespace) -> None:
    if args.minutes < 2 or args.seeds < 1 or args.jobs < 1:
        sys.exit("hftsim: --minutes must be at least 2, --seeds and --jobs at least 1")
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    options = Options(symbols, args.minutes, args.seeds, args.seed, args.config, not args.no_agents_only, args.jobs)
    bar = ProgressBar(total_seconds(options) + (slow.total_seconds(options.seeds) if args.slow else 0))
    try:
        study = run(options, bar.advance)
        extra = []
        if args.slow:
            inst = study.instruments[0]
            impact = slow.square_root_impact(
                inst,
                study.settings.sim,
                study.limits,
                study.cash,
                options.seeds * slow.IMPACT_SEEDS_PER_SEED,
                bar.advance,
                jobs=args.jobs,
            )
            day = slow.intraday(
                inst, study.settings.sim, study.limits, study.cash, options.seeds, bar.advance, jobs=args.jobs
            )
            extra = slow.section(inst.sym, impact, day)
    except (ConfigError, ValueError) as exc:
        sys.exit(f"hftsim: {exc}")
    finally:
        bar.close()
    command = "hftsim realism " + " ".join(_shown_args(args))
    markets = {sym: res.samples["market"] for sym, res in study.results.items()}
    if args.save_reference is not None:
        save_reference(markets, args.save_reference, made_by=f"`{command}`")
        print(f"wrote {args.save_reference}")
    page = write(study, args.out, command=command, extra=[*extra, *section(markets, load_reference())])
    print(f"wrote {page}")


def _shown_args(args: argparse.Namespace) -> list[str]:
    """The options as given, without paths of this machine (the report names how it was made)."""
    shown = []
    if args.symbols:
        shown.append(f"--symbols {args.symbols}")
    shown.append(f"--minutes {args.minutes:g} --seeds {args.seeds}")
    if args.seed != 1:
        shown.append(f"--seed {args.seed}")
    if args.no_agents_only:
        shown.append("--no-agents-only")
    if args.slow:
        shown.append("--slow")
    if args.config:
        shown.append(f"--config {args.config.name}")
    return shown
