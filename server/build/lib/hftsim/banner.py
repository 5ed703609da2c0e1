"""What `hftsim serve` prints once it listens: everything a newcomer needs to start, in one screen.

The URL to open, the market (symbols with their tick and price), whether
the agents trade, where the data lives, whether guests may log in, how to
add an admin and where the docs are. It goes to stdout, apart from the log
lines on stderr, so it stays readable whatever the log format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .gateway.venue import Venue

DOCS = "README.md and docs/getting-started/ in the repository"
ANY_ADDRESS = {"0.0.0.0", "::", ""}


@dataclass(frozen=True, slots=True)
class Listening:
    """Where the server listens, as the command line asked."""

    host: str
    port: int
    data_dir: Path
    seed: int

    @property
    def url(self) -> str:
        """An address a browser on this machine can open (a wildcard bind is reachable on loopback)."""
        host = "127.0.0.1" if self.host in ANY_ADDRESS else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"


def hide_password(url: str) -> str:
    """A database URL fit for a screen: any password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def symbol_rows(venue: Venue) -> list[str]:
    rows = []
    for instrument in venue.engine.instruments:
        last = venue.engine.last_price(instrument.sym)
        price, label = (last, "last") if last is not None else (instrument.ref_price, "ref")
        lots = f", lot {instrument.lot}" if instrument.lot != 1 else ""
        rows.append(f"{instrument.sym} (tick {instrument.tick}{lots}) {label} {instrument.to_price(price)}")
    return rows


def banner(venue: Venue, where: Listening, version: str, *, reset: bool) -> str:
    settings = venue.settings
    if venue.agents is not None:
        agents = f"on: {len(venue.agents.sim.agent_names())} simulated participants (seed {where.seed})"
    else:
        agents = "off (start them with: hftsim serve without --no-bots, or hftsim bots --url URL)"
    store = (
        f"PostgreSQL {hide_password(settings.store.url)}"
        if settings.store.url
        else f"SQLite in {where.data_dir.resolve()}"
    )
    if venue.recovered_at:
        market = f"resumed: books, orders and positions as they were at command {venue.recovered_at}"
    else:
        market = "new (--reset)" if reset else "new"
    guests = (
        "allowed (turn off: HFTSIM_SESSION__ALLOW_GUESTS=false)"
        if settings.session.allow_guests
        else "off: log in with an account"
    )
    data_arg = f" --data-dir {where.data_dir}" if not settings.store.url else ""
    wildcard = "  (listening on every interface)" if where.host in ANY_ADDRESS else ""
    lines = [
        f"HFT Simulator {version} is ready: open {where.url}{wildcard}",
        "",
        *(f"  {'symbols' if i == 0 else '':9} {row}" for i, row in enumerate(symbol_rows(venue))),
        f"  {'agents':9} {agents}",
        f"  {'market':9} {market}",
        f"  {'data':9} {store}",
        f"  {'guests':9} {guests}",
        f"  {'admin':9} .venv/bin/hftsim users add NAME --role admin{data_arg}   (then log in on the website)",
        f"  {'api':9} {where.url}/api/docs; Python SDK and bots: market-client/README.md",
        f"  {'docs':9} {DOCS}",
        "",
        "  Ctrl-C stops the server; the market is kept for the next start (--reset opens a new one).",
    ]
    return "\n".join(lines)
