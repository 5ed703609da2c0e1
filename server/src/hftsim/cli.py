"""The `hftsim` command: serve the exchange, manage users, run remote agents."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ConfigError, Settings, load

if TYPE_CHECKING:
    from .store.users import UserStore

DEFAULT_DATA_DIR = Path("data")


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load(args.config)
    except ConfigError as exc:
        sys.exit(f"hftsim: {exc}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .gateway.app import create_app
    from .gateway.request_deadline import deadline_protocol
    from .gateway.transport import WebSocketProtocol
    from .logs import server_log_config
    from .store.errors import StoreError

    settings = _settings(args)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        app = create_app(
            settings, args.data_dir, seed=args.seed, bots=not args.no_bots, reset=args.reset, bind_host=args.host
        )
    except (ConfigError, StoreError) as exc:
        sys.exit(f"hftsim: {exc}")
    hard_limit = max(1024 * 1024, settings.server.max_message_bytes * 2)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=deadline_protocol(settings.server.request_deadline_s),
        ws=WebSocketProtocol,
        ws_max_size=hard_limit,
        ws_per_message_deflate=False,
        access_log=False,
        log_config=server_log_config(),
    )


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
            sys.exit("hftsim: the passwords differ")
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
        print(f"{user.user_id:6d}  {user.username:24s} {user.role.label:8s} {kind}")


def journal_truncate(args: argparse.Namespace) -> None:
    """Move journal records from --from on to a quarantine file: the way past a damaged middle."""
    from .gateway.venue import MARKET_DB
    from .store.database import Database
    from .store.integrity import truncate
    from .store.journal import Journal

    settings = _settings(args)
    if args.from_seq < 1:
        sys.exit("hftsim: --from must be a command number, 1 or more")
    try:
        journal = Journal(Database.choose(settings.store.url, args.data_dir, MARKET_DB))
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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hftsim", description="HFT Simulator: a self-hosted exchange simulator.")
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="TOML file merged over the shipped defaults")

    def users_data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the server's data directory")
        p.add_argument("--create", action="store_true", help="create the data directory when it does not exist")

    s = sub.add_parser("serve", help="run the exchange, its agents and the website")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    s.add_argument("--seed", type=int, default=1, help="seed of the simulated participants")
    s.add_argument("--no-bots", action="store_true", help="run without simulated participants")
    s.add_argument(
        "--reset",
        action="store_true",
        help="open a new market: drop the books, orders and positions "
        "journaled in the data dir (user accounts are kept)",
    )
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    common(s)
    s.set_defaults(func=serve)

    u = sub.add_parser("users", help="manage user accounts")
    usub = u.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="add a user (prompts for the password when --password is omitted)")
    a.add_argument("name")
    a.add_argument("--role", default="trader", choices=["viewer", "trader", "admin"])
    a.add_argument("--password")
    users_data_dir(a)
    common(a)
    a.set_defaults(func=users_add)
    ls = usub.add_parser("list", help="list user accounts")
    users_data_dir(ls)
    common(ls)
    ls.set_defaults(func=users_list)

    j = sub.add_parser("journal", help="repair the market journal")
    jsub = j.add_subparsers(dest="journal_command", required=True)
    t = jsub.add_parser("truncate", help="move the records from a command on to a quarantine file in the data dir")
    t.add_argument("--from", dest="from_seq", type=int, required=True, help="the first command to remove")
    t.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    common(t)
    t.set_defaults(func=journal_truncate)

    b = sub.add_parser("bots", help="run the simulated participants against a remote server")
    b.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000")
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
    common(b)
    b.set_defaults(func=bots)
    return top


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
