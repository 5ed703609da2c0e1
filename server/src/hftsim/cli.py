"""The `hftsim` command: serve the exchange, manage users, repair the journal, run remote agents, measure realism.

Each subcommand is declared by one `add_<name>(commands)` function: its
arguments, a one-line summary, an example for `--help`, and its handler.
A new subcommand is one more such function, listed in `COMMANDS`.

A user's mistake (a bad setting, a taken port, a missing data directory, a
weak password) ends the command with one line on stderr that says what to
do, `hftsim: ...`, and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ConfigError, Settings, load
from .logs import PLAIN

if TYPE_CHECKING:
    from .store.users import UserStore

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

DEFAULT_DATA_DIR = Path("data")


def version() -> str:
    try:
        return package_version("hftsim")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _settings(args: argparse.Namespace) -> Settings:
    return load(args.config)


def command(
    commands: Commands,
    name: str,
    summary: str,
    examples: list[str],
    handler: Callable[[argparse.Namespace], None] | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose `--help` ends with examples; `handler` runs it (None for a group of subcommands)."""
    sub = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog="example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(f"  {e}" for e in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        sub.set_defaults(func=handler)
    return sub


def port_number(text: str) -> int:
    """A TCP port: argparse names the option and shows this message when it is not one."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return int(text)


def with_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file merged over the shipped defaults")


def with_data_dir(p: argparse.ArgumentParser, *, creatable: bool = False) -> None:
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the server's data directory (default: data)"
    )
    if creatable:
        p.add_argument("--create", action="store_true", help="create the data directory when it does not exist")


def with_address(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="port to listen on (default: 8000)")


def with_logging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--log-format", default="plain", choices=["plain", "json"], help="json: one JSON object per log line"
    )


# serve -----------------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    from .banner import Listening
    from .serving import UserError, serve

    try:
        serve(
            _settings(args),
            Listening(args.host, args.port, args.data_dir, args.seed),
            bots=not args.no_bots,
            reset=args.reset,
            log_level=args.log_level,
            log_format=args.log_format,
            version=version(),
            scenario=args.scenario,
            paused=args.paused,
        )
    except UserError as exc:
        sys.exit(f"hftsim: {exc}")


def add_serve(commands: Commands) -> None:
    s = command(
        commands,
        "serve",
        "run the exchange, its simulated participants and the website",
        [
            "hftsim serve                                  # http://127.0.0.1:8000, data in ./data",
            "hftsim serve --port 9000 --no-bots --reset    # a new, quiet market on another port",
            "hftsim serve --host 0.0.0.0 --config class.toml --log-format json",
            "hftsim serve --scenario scenarios/news_shock.toml --seed 7",
        ],
        serve,
    )
    with_address(s)
    with_data_dir(s)
    s.add_argument("--seed", type=int, default=1, help="seed of the simulated participants")
    s.add_argument("--no-bots", action="store_true", help="run without simulated participants")
    s.add_argument(
        "--reset",
        action="store_true",
        help="open a new market: drop the books, orders and positions "
        "journaled in the data dir (user accounts are kept)",
    )
    s.add_argument("--scenario", type=Path, help="a scenario file (scenarios/*.toml) to play from the start")
    s.add_argument("--paused", action="store_true", help="start with the market paused (an admin resumes or steps it)")
    with_logging(s)
    with_config(s)


def gateway(args: argparse.Namespace) -> None:
    from .banner import Listening
    from .serving import UserError, serve

    settings = _settings(args)
    cluster = settings.cluster.model_copy(update={"nats_url": args.nats, "stream": args.stream})
    try:
        serve(
            settings.model_copy(update={"cluster": cluster}),
            Listening(args.host, args.port, args.data_dir, 1),
            bots=False,
            reset=False,
            log_level=args.log_level,
            log_format=args.log_format,
            version=version(),
        )
    except UserError as exc:
        sys.exit(f"hftsim: {exc}")


def add_gateway(commands: Commands) -> None:
    g = command(
        commands,
        "gateway",
        "serve clients and the website from a replica of the market's NATS stream (a cluster gateway)",
        [
            "hftsim gateway --nats nats://127.0.0.1:4222 --port 8001 --data-dir data",
            "hftsim gateway --nats nats://10.0.0.5:4222 --host 0.0.0.0 --config cluster.toml",
        ],
        gateway,
    )
    g.add_argument("--nats", required=True, metavar="URL", help="the NATS server, e.g. nats://127.0.0.1:4222")
    g.add_argument(
        "--stream",
        default="main",
        help="the one shard's name when the config has no cluster.shards (default: main); "
        "with cluster.shards the gateway serves every shard listed there",
    )
    with_address(g)
    with_data_dir(g)
    with_logging(g)
    with_config(g)


def cluster(args: argparse.Namespace) -> None:
    import signal

    from .cluster.launcher import Cluster

    settings = _settings(args)
    venue = Cluster(
        args.data_dir,
        args.gateways,
        args.port,
        args.seed,
        args.config,
        bots=not args.no_bots,
        shards=args.shards,
        database=args.database,
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops the children too, as Ctrl-C does
    try:
        venue.start(settings)
        print(f"NATS      {venue.nats.url}")
        for spec in venue.layout.shards:
            print(f"shard {spec.name}   {','.join(spec.symbols)}")
        print(f"persister {venue.ledger(settings)}")
        for i, url in enumerate(venue.urls, 1):
            print(f"gateway {i} {url}")
        print(f"agents    {'off' if args.no_bots else 'on, through gateway 1'}")
        print(f"logs      {args.data_dir}/*.log    Ctrl-C stops them all", flush=True)
        ended = venue.wait()
        sys.exit(f"hftsim cluster: {ended} stopped (see its log); stopping the others")
    except KeyboardInterrupt:
        pass
    except (RuntimeError, ConfigError) as exc:
        sys.exit(f"hftsim cluster: {exc}")
    finally:
        venue.stop()


def add_cluster(commands: Commands) -> None:
    c = command(
        commands,
        "cluster",
        "run NATS, the engine shards, several gateways and the agents on this machine, to try the scale-out",
        ["hftsim cluster --gateways 2 --shards 2 --data-dir data/cluster --port 8000"],
        cluster,
    )
    c.add_argument("--gateways", type=int, default=2, help="how many gateways (default: 2)")
    c.add_argument(
        "--shards",
        type=int,
        help="deal the symbols to this many shards a, b, … in turn (default: the config's cluster.shards, else one)",
    )
    c.add_argument("--port", type=int, default=8000, help="the first gateway's port; the others follow (default: 8000)")
    c.add_argument("--data-dir", type=Path, default=Path("data/cluster"), help="default: data/cluster")
    c.add_argument("--seed", type=int, default=1, help="seed of the simulated participants")
    c.add_argument("--no-bots", action="store_true", help="run without simulated participants")
    c.add_argument(
        "--database",
        metavar="URL",
        help="where the persister writes orders, fills and balances: postgresql://… "
        "(default: the config's store.url, else ledger.db in the data dir)",
    )
    with_config(c)


# users -----------------------------------------------------------------------


def user_store(settings: Settings, args: argparse.Namespace) -> UserStore:
    """The user accounts of `--data-dir`, which must exist unless `--create` asks for it (a typo would
    otherwise open an empty database and report no users)."""
    from .gateway.venue import USERS_DB
    from .store.database import Database
    from .store.users import UserStore

    data_dir: Path = args.data_dir
    if not settings.store.url and not data_dir.is_dir():
        if not args.create:
            sys.exit(
                f"hftsim: data directory {data_dir} does not exist; check --data-dir, "
                "or add --create to start a new one"
            )
        data_dir.mkdir(parents=True)
    session = settings.session
    return UserStore(
        Database.choose(settings.store.url, data_dir, USERS_DB), session.password_profile, session.password_min_length
    )


def users_add(args: argparse.Namespace) -> None:
    from .protocol.roles import Role
    from .store.users import UserExists

    settings = _settings(args)
    password = args.password
    if password is None:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            sys.exit("hftsim: the passwords differ; run the command again")
    store = user_store(settings, args)
    try:
        user = store.add(args.name, password, Role.parse(args.role))
    except (UserExists, ValueError) as exc:
        sys.exit(f"hftsim: {exc}")
    print(f"added {user.username} (user_id {user.user_id}, role {user.role.label})")


def users_list(args: argparse.Namespace) -> None:
    settings = _settings(args)
    for user in user_store(settings, args).all():
        kind = "guest" if user.is_guest else "bot" if user.is_bot else "user"
        state = "  disabled" if user.disabled else ""
        print(f"{user.user_id:6d}  {user.username:24s} {user.role.label:8s} {kind}{state}")


def users_change(args: argparse.Namespace) -> None:
    """`users role|disable|enable|password`: one change to one existing account."""
    from .classroom.roster import generate_password
    from .protocol.roles import Role
    from .store.users import UnknownUser

    store = user_store(_settings(args), args)
    generated = None
    try:
        if args.users_command == "role":
            user = store.set_role(args.name, Role.parse(args.role))
        elif args.users_command in ("disable", "enable"):
            user = store.set_disabled(args.name, args.users_command == "disable")
        else:
            password: str = args.password or generate_password()
            generated = None if args.password else password
            user = store.set_password(args.name, password)
    except (UnknownUser, ValueError) as exc:
        sys.exit(f"hftsim: {exc}")
    state = "disabled" if user.disabled else "enabled"
    print(f"{user.username}: role {user.role.label}, {state}" + (f", new password {generated}" if generated else ""))


def users_import(args: argparse.Namespace) -> None:
    """Add a class from a CSV list; print the credentials as CSV and write the printable sheet."""
    import csv

    from .classroom.roster import RosterError, enrol, parse
    from .classroom.sheet import credentials_sheet
    from .protocol.roles import Role
    from .store.users import UserExists

    store = user_store(_settings(args), args)
    try:
        entries = parse(args.csv.read_text(encoding="utf-8-sig"), Role.parse(args.role))
        enrol(store, entries)
    except (OSError, RosterError, UserExists, ValueError) as exc:
        sys.exit(f"hftsim: {exc}")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["username", "password", "role"])
    for e in entries:
        out.writerow([e.username, e.password, e.role.label])
    if args.sheet is not None:
        args.sheet.write_text(credentials_sheet(entries, args.address), encoding="utf-8")
        print(f"wrote the credentials sheet for {len(entries)} account(s) to {args.sheet}", file=sys.stderr)


def add_users(commands: Commands) -> None:
    u = command(
        commands,
        "users",
        "manage user accounts",
        ["hftsim users add teacher --role admin", "hftsim users list --data-dir data"],
    )
    accounts = u.add_subparsers(
        dest="users_command", required=True, metavar="{add,list,role,disable,enable,password,import}"
    )
    a = command(
        accounts,
        "add",
        "add a user (prompts for the password when --password is omitted)",
        [
            "hftsim users add alice                         # a trader; asks for the password twice",
            "hftsim users add teacher --role admin --create # before the server's first start",
        ],
        users_add,
    )
    a.add_argument("name", help="1-32 letters, digits, '.', '_' or '-'")
    a.add_argument("--role", default="trader", choices=["viewer", "trader", "admin"])
    a.add_argument("--password", help="the password (visible in your shell history: prefer the prompt)")
    with_data_dir(a, creatable=True)
    with_config(a)
    ls = command(accounts, "list", "list user accounts", ["hftsim users list --data-dir data"], users_list)
    with_data_dir(ls, creatable=True)
    with_config(ls)
    r = command(accounts, "role", "change a user's role", ["hftsim users role alice viewer"], users_change)
    r.add_argument("name")
    r.add_argument("role", choices=["viewer", "trader", "admin"])
    dis = command(
        accounts,
        "disable",
        "refuse a user's logins (a running server: from their next login)",
        ["hftsim users disable alice"],
        users_change,
    )
    dis.add_argument("name")
    en = command(accounts, "enable", "let a disabled user log in again", ["hftsim users enable alice"], users_change)
    en.add_argument("name")
    pw = command(
        accounts,
        "password",
        "set a user's password (generated and printed when --password is omitted)",
        ["hftsim users password alice"],
        users_change,
    )
    pw.add_argument("name")
    pw.add_argument("--password", help="the password (visible in your shell history: prefer a generated one)")
    im = command(
        accounts,
        "import",
        "add a class from a CSV file of username[,password[,role]] rows (empty passwords are generated); "
        "prints the credentials as CSV",
        ["hftsim users import class.csv --sheet sheet.html --address http://HOST:8000"],
        users_import,
    )
    im.add_argument("csv", type=Path)
    im.add_argument("--role", default="trader", choices=["viewer", "trader", "admin"], help="role of rows naming none")
    im.add_argument("--sheet", type=Path, help="also write a printable HTML sheet of the credentials here")
    im.add_argument("--address", default="", help="the website's address, printed on every card of the sheet")
    for change in (r, dis, en, pw, im):
        with_data_dir(change, creatable=True)
        with_config(change)


# journal ---------------------------------------------------------------------


def journal_truncate(args: argparse.Namespace) -> None:
    """Move journal records from --from on to a quarantine file: the way past a damaged middle."""
    from .gateway.venue import market_journal
    from .store.integrity import truncate
    from .store.migrate import LEGACY

    settings = _settings(args)
    if args.from_seq < 1:
        sys.exit("hftsim: --from must be a command number, 1 or more")
    files = (args.data_dir / "journal").is_dir() or (args.data_dir / LEGACY).is_file()
    if settings.journal.store == "files" and not files:
        sys.exit(f"hftsim: there is no journal in {args.data_dir}; check --data-dir")
    try:
        journal = market_journal(settings, args.data_dir, migrate_legacy=False)
        try:
            count, path = truncate(journal, args.from_seq, args.data_dir)
        finally:
            journal.close()
    except Exception as exc:
        sys.exit(f"hftsim: cannot truncate the journal ({exc}); stop the server that uses this data dir first")
    if path is None:
        print(f"the journal holds no command from {args.from_seq} on; nothing changed")
    else:
        print(f"moved {count} journal record(s) from command {args.from_seq} on to {path}")


def add_journal(commands: Commands) -> None:
    j = command(commands, "journal", "repair the market journal", ["hftsim journal truncate --from 1234"])
    repairs = j.add_subparsers(dest="journal_command", required=True, metavar="{truncate}")
    t = command(
        repairs,
        "truncate",
        "move the records from a command on to a quarantine file in the data dir",
        ["hftsim journal truncate --from 1234 --data-dir data   # the server named 1234 as damaged"],
        journal_truncate,
    )
    t.add_argument("--from", dest="from_seq", type=int, required=True, help="the first command to remove")
    with_data_dir(t)
    with_config(t)


# bots ------------------------------------------------------------------------


def bots(args: argparse.Namespace) -> None:
    import os

    from .sim.remote import BotsRefused, Credentials, run_remote

    settings = _settings(args)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns what matters
    admin = None
    if args.admin_user is not None:
        password = os.environ.get(args.admin_password_env)
        if not password:
            sys.exit(f"hftsim bots: set ${args.admin_password_env} to the password of {args.admin_user}")
        admin = Credentials(args.admin_user, password)
    sim = settings.sim.model_copy(update={"name_prefix": args.prefix})
    try:
        stats = asyncio.run(
            run_remote(
                args.url, sim, seed=args.seed, duration_s=args.duration, limits=settings.engine_limits(), admin=admin
            )
        )
    except BotsRefused as exc:
        sys.exit(f"hftsim bots: {exc}")
    except KeyboardInterrupt:
        return
    refused = ", ".join(f"{code} x{n}" for code, n in sorted(stats.rejections.items())) or "none"
    print(f"{stats.steps} steps, {stats.commands} commands, {stats.trades_seen} trades seen; refused: {refused}")


def add_bots(commands: Commands) -> None:
    b = command(
        commands,
        "bots",
        "run the simulated participants against a remote server",
        [
            "hftsim bots --url http://127.0.0.1:8000 --seed 7 --duration 600",
            "HFTSIM_ADMIN_PASSWORD=... hftsim bots --url http://host:8000 --admin-user teacher",
        ],
        bots,
    )
    b.add_argument("--url", required=True, help="the server's address, e.g. http://127.0.0.1:8000")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--duration", type=float, help="stop after this many seconds (default: run until interrupted)")
    b.add_argument("--admin-user", help="an admin account: the agents then trade as funded bot accounts it opens")
    b.add_argument(
        "--admin-password-env",
        default="HFTSIM_ADMIN_PASSWORD",
        metavar="VAR",
        help="environment variable holding the admin's password (default: HFTSIM_ADMIN_PASSWORD)",
    )
    b.add_argument(
        "--prefix",
        default="remote_",
        help="prefix of the agents' account names (default: remote_; the server's own agents use sim.name_prefix)",
    )
    with_config(b)


# engine ----------------------------------------------------------------------


def engine(args: argparse.Namespace) -> None:
    from .cluster.layout import Layout
    from .cluster.shard import ShardDiverged, run_shard

    settings = _settings(args)
    symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip()) if args.symbols else None
    try:
        if settings.cluster.shards:
            layout = Layout.of(settings)
            owned = layout.shards[layout.index(args.shard)].symbols
            if symbols is not None and set(symbols) != set(owned):
                raise ConfigError(f"--symbols {args.symbols} disagrees with cluster.shards ({','.join(owned)})")
        else:
            layout = Layout.single(settings, args.shard, symbols)
    except ConfigError as exc:
        sys.exit(f"hftsim engine: {exc}")
    try:
        asyncio.run(run_shard(layout, args.shard, settings, args.nats, args.data_dir, args.snapshot_every))
    except ShardDiverged as exc:
        sys.exit(f"hftsim engine: {exc}")


def add_engine(commands: Commands) -> None:
    e = command(
        commands,
        "engine",
        "run one engine shard on a NATS JetStream command stream",
        [
            "hftsim engine --shard a --symbols ACME,BOLT --nats nats://127.0.0.1:4222 --data-dir data/shard-a",
            "hftsim engine --shard b --nats nats://10.0.0.5:4222 --data-dir data/shard-b --config cluster.toml",
        ],
        engine,
    )
    e.add_argument("--shard", required=True, help="the shard's name: its stream is HFTSIM_CMD_<NAME>")
    e.add_argument(
        "--symbols",
        help="comma-separated symbols this shard trades (default: the shard's in the config's cluster.shards, "
        "else every symbol)",
    )
    e.add_argument("--nats", required=True, metavar="URL", help="the NATS server, e.g. nats://127.0.0.1:4222")
    with_data_dir(e)
    e.add_argument("--snapshot-every", type=int, default=50_000, help="commands between snapshots (default: 50000)")
    with_config(e)


# persister -------------------------------------------------------------------


def persister(args: argparse.Namespace) -> None:
    from .cluster.layout import Layout
    from .cluster.persister import PersisterError, ledger_database, run_persister

    settings = _settings(args)
    cluster = settings.cluster.model_copy(update={"stream": args.stream})
    settings = settings.model_copy(update={"cluster": cluster})
    names = [s.strip() for s in args.shards.split(",") if s.strip()] if args.shards else None
    db = ledger_database(settings, args.database, args.data_dir)
    try:
        asyncio.run(run_persister(Layout.of(settings), settings, args.nats, db, names))
    except PersisterError as exc:
        sys.exit(f"hftsim persister: {exc}")


def add_persister(commands: Commands) -> None:
    p = command(
        commands,
        "persister",
        "write every shard's orders, fills and balances to SQL tables as its stream goes (a cluster's ledger)",
        [
            "hftsim persister --nats nats://127.0.0.1:4222 --data-dir data/cluster     # SQLite: ledger.db",
            "hftsim persister --nats nats://10.0.0.5:4222 --database postgresql://hftsim@db/hftsim "
            "--config cluster.toml",
        ],
        persister,
    )
    p.add_argument("--nats", required=True, metavar="URL", help="the NATS server, e.g. nats://127.0.0.1:4222")
    p.add_argument(
        "--database",
        metavar="URL",
        help="postgresql://… or a SQLite file (default: the config's store.url, else ledger.db in the data dir)",
    )
    p.add_argument("--shards", help="comma-separated shards to persist (default: every shard of the layout)")
    p.add_argument(
        "--stream",
        default="main",
        help="the one shard's name when the config has no cluster.shards (default: main)",
    )
    with_data_dir(p)
    with_config(p)


# realism ---------------------------------------------------------------------


def realism(args: argparse.Namespace) -> None:
    try:
        from .realism.command import main as run_study
    except ImportError as exc:
        sys.exit(f"hftsim: the realism report needs numpy and matplotlib ({exc}); pip install 'hftsim[realism]'")
    run_study(args)


def add_realism(commands: Commands) -> None:
    r = command(
        commands,
        "realism",
        "run the market offline over several seeds, measure the stylised facts of real markets on it"
        " and write the realism report (Markdown and figures)",
        [
            "hftsim realism",
            "hftsim realism --symbols ACME --minutes 30 --seeds 2 --out /tmp/realism",
            "hftsim realism --slow",
        ],
        realism,
    )
    r.add_argument("--symbols", help="comma-separated symbols (default: every symbol of the market)")
    r.add_argument("--minutes", type=float, default=60.0, help="simulated minutes per run (default 60)")
    r.add_argument(
        "--seeds",
        type=int,
        default=6,
        help="runs per configuration, pooled; standard errors over them (default 6; the slow facts' days too, and four"
        " times as many seeds of impact pairs)",
    )
    r.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    r.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes to spread the runs over (default: one per CPU; the report is the same for any number)",
    )
    r.add_argument("--out", type=Path, default=Path("docs/realism"), help="report folder (default docs/realism)")
    r.add_argument("--no-agents-only", action="store_true", help="skip the agents-only market (plain GBM fair value)")
    r.add_argument(
        "--slow",
        action="store_true",
        help="also measure the slow facts on the first symbol: square-root impact, intraday U-shape",
    )
    r.add_argument(
        "--save-reference", type=Path, help="also store this run's histograms as a reference for the distances"
    )
    with_config(r)


# the command -----------------------------------------------------------------

COMMANDS: list[Callable[[Commands], None]] = [
    add_serve,
    add_users,
    add_journal,
    add_bots,
    add_engine,
    add_gateway,
    add_persister,
    add_cluster,
    add_realism,
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="hftsim",
        description="HFT Simulator: a self-hosted exchange simulator.",
        epilog="examples:\n  hftsim serve\n  hftsim users add teacher --role admin\n  hftsim serve --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"hftsim {version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return top


def main(argv: list[str] | None = None) -> None:
    from .store.errors import StoreError

    logging.basicConfig(level=logging.INFO, format=PLAIN)  # `serve` sets up its own, uvicorn's lines included
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, StoreError) as exc:
        sys.exit(f"hftsim: {exc}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
