"""Settings: a TOML file, overridden by HFTSIM_* environment variables.

Everything is validated when the server starts, so a typo in the config
stops it with a message naming the field instead of surfacing as a strange
rejection an hour later. Settings are never read at import time: `load()`
builds them once and the app receives them explicitly.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .config_names import model_at, nearest, unknown_variables
from .engine import Engine, Fees, Instrument, Limits, cash_decimals
from .sim.config import SimSettings
from .store.passwords import DEFAULT_MIN_LENGTH

DEFAULT_CONFIG = Path(__file__).with_name("default_config.toml")


class Table(BaseModel):
    """A settings table: a key it does not know is a mistake (a typo would otherwise be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class SymbolSettings(Table):
    sym: str = Field(pattern=r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
    tick: Decimal = Field(gt=0)
    lot: int = Field(default=1, ge=1)
    min_qty: int = Field(default=1, ge=1)
    ref_price: Decimal = Field(gt=0)
    band_pct: Decimal = Field(default=Decimal(25), gt=0, lt=100)
    maker_fee_bps: Decimal = Decimal(0)
    """Fee of the resting side of each fill, in basis points of its notional; negative is a rebate."""
    taker_fee_bps: Decimal = Decimal(0)
    maker_fee_per_lot: Decimal = Decimal(0)
    """Cash per lot filled, on top of the basis points; negative is a rebate."""
    taker_fee_per_lot: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _consistent(self) -> SymbolSettings:
        if self.ref_price % self.tick:
            raise ValueError(f"{self.sym}: ref_price {self.ref_price} is not a multiple of tick {self.tick}")
        if self.min_qty % self.lot:
            raise ValueError(f"{self.sym}: min_qty {self.min_qty} is not a multiple of lot {self.lot}")
        self.instrument()  # the fee rules (engine/instruments.py) raise ValueError, named like any other setting
        return self

    def instrument(self) -> Instrument:
        fees = Fees(self.maker_fee_bps, self.taker_fee_bps, self.maker_fee_per_lot, self.taker_fee_per_lot)
        return Instrument(
            sym=self.sym,
            tick=self.tick,
            lot=self.lot,
            min_qty=self.min_qty,
            ref_price=int(self.ref_price / self.tick),
            band_pct=self.band_pct,
            fees=fees,
        )


class ServerSettings(Table):
    allowed_origins: list[str] = []
    """Extra browser origins (exact `scheme://host[:port]`) allowed besides those naming an allowed host."""
    max_message_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    send_queue_limit: int = Field(default=200_000, ge=16)
    """Messages queued for one connection before it is cut off as a slow consumer (a memory bound)."""
    send_queue_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    """Bytes queued for one connection before it is cut off as a slow consumer (a memory bound)."""
    stall_s: float = Field(default=5.0, gt=0)
    """Seconds a connection's queue may stand still before it is cut off as a slow consumer."""
    heartbeat_ms: int = Field(default=1000, ge=50)
    allowed_hosts: list[str] = []
    """Extra host names the server answers to (Host header, and Origin for browsers); loopback names and the
    bind host always are. Anything else is refused, so a DNS-rebound name cannot reach the server."""
    login_deadline_s: float = Field(default=10.0, gt=0)
    """Seconds a new socket has to log in (CMD) or subscribe (MD) before it is closed with 4004."""
    request_deadline_s: float = Field(default=10.0, gt=0)
    """Seconds an HTTP request (headers and body) has to arrive in full before it is answered 408."""
    sockets_per_token: int = Field(default=8, ge=1)
    """Open sockets per session token; more are closed with 4005."""
    sockets_per_user: int = Field(default=32, ge=1)
    """Open sockets per logged-in user, over all their tokens; more are closed with 4005."""


class RateSettings(Table):
    burst: int = Field(ge=1)
    per_second: float = Field(gt=0)


class TrafficSettings(Table):
    """How many messages each connection and each user may send: the one engine is shared fairly."""

    per_connection: RateSettings = RateSettings(burst=200, per_second=100)
    per_user: RateSettings = RateSettings(burst=400, per_second=200)
    """Over all of a user's connections and HTTP requests."""
    breach_policy: Literal["reject", "throttle", "disconnect"] = "reject"
    """reject: answer RATE_LIMITED with retry_after_ms; throttle: stop reading the socket until a token
    is free; disconnect: reject, and close the socket (4029) after `disconnect_after` breaches in 10 s."""
    disconnect_after: int = Field(default=50, ge=1)
    queued_per_user: int = Field(default=64, ge=1)
    """Commands of one user waiting for the engine; more are refused with RATE_LIMITED."""


class SessionSettings(Table):
    token_ttl_s: float = Field(default=900, gt=0)
    allow_guests: bool = True
    handshake_per_ip: RateSettings = RateSettings(burst=60, per_second=5)
    login_per_user: RateSettings = RateSettings(burst=10, per_second=1)
    password_profile: Literal["RFC_9106_LOW_MEMORY", "CHEAPEST"] = "RFC_9106_LOW_MEMORY"
    """argon2 parameters; CHEAPEST is for tests only."""
    password_min_length: int = Field(default=DEFAULT_MIN_LENGTH, ge=1, le=128)
    """Shortest password `hftsim users add` accepts (common passwords and the user name are always refused)."""


class AccountSettings(Table):
    initial_cash: Decimal = Field(default=Decimal(1_000_000), ge=0)


class LimitSettings(Table):
    max_order_qty: int = Field(default=100_000, ge=1)
    max_position: int = Field(default=1_000_000, ge=1)
    max_open_orders: int = Field(default=500, ge=1)
    """Resting orders a user may have at once, over every symbol (the gateway counts those on their way too)."""
    max_active_volume: int = Field(default=10_000_000, ge=1)
    """Units a user may have resting at once (leaves quantity of open orders), over every symbol."""
    max_order_notional: Decimal = Field(default=Decimal(100_000_000), gt=0)
    """Cash value of one order: price (the reference price for a market order) times quantity."""


class StoreSettings(Table):
    url: str = Field(default="", pattern=r"^(|postgres(ql)?://.*)$")
    """Empty: SQLite files in the data directory. Or a PostgreSQL URL, e.g. postgresql://hftsim@db/hftsim."""


class JournalSettings(Table):
    store: Literal["files", "database"] = "files"
    """files: segment files in the data directory; database: the PostgreSQL database of `store.url`."""
    durability: Literal["os", "fsync"] = "os"
    """os: a command is in the operating system before its ack (survives a crash of the server); fsync: on disk
    (fdatasync, one per group of commands; survives a power loss)."""
    snapshot_every: int = Field(default=500_000, ge=1000)
    """Commands between engine snapshots; a restart replays at most this many."""
    segment_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    """Size at which the segment log starts a new file."""
    keep_segments: bool = False
    """Move segments a snapshot covers to journal/archive/ instead of deleting them."""

    sync: Literal["normal", "full"] | None = None
    """The name of `durability` before the segment log, still understood: "normal" is "os", "full" is "fsync"."""

    @model_validator(mode="after")
    def _sync_is_durability(self) -> JournalSettings:
        if self.sync is not None and "durability" not in self.model_fields_set:
            self.durability = "fsync" if self.sync == "full" else "os"
        return self


class ClusterSettings(Table):
    nats_url: str = Field(default="", pattern=r"^(|nats://.*)$")
    """Empty: the whole venue in this process. Set (`hftsim gateway`): follow the market's stream on NATS."""
    stream: str = Field(default="main", pattern=r"^[a-z0-9_-]{1,32}$")
    """The one shard's name when `shards` is empty: its stream is HFTSIM_CMD_<STREAM>."""
    shards: dict[str, list[str]] = {}
    """Shard name -> the symbols it owns, in order (a shard's place in it numbers its ids); empty: one shard,
    `stream`, with every symbol. Every process of a cluster must read the same (see cluster/layout.py)."""
    replicas: int = Field(default=1, ge=1, le=5)
    """Copies JetStream keeps of each command stream and of the snapshots: 3 on a three-node NATS cluster
    (an acknowledged command is then on a majority of nodes); 1 on a single nats-server."""
    gateways: list[Annotated[str, Field(pattern=r"^https?://[^/?#\s]+$")]] = []
    """The gateways' public addresses (`https://host:port`, no path), announced by `GET /api/info`: the website
    moves to the next one that answers when its own is unreachable. Empty: it only retries its own."""


class TestingSettings(Table):
    enable_hooks: bool = False
    """Enables the `test.*` ops (e.g. dropping one MD event to force a gap)."""


class RoundSettings(BaseModel):
    sample_s: float = Field(default=1.0, ge=0.05, le=3600)
    """Seconds between the PnL samples a round's drawdown and Sharpe are computed over."""


class ScenarioSettings(BaseModel):
    dir: str = "scenarios"
    """Where admins pick scenario files from (relative to the directory the server starts in)."""


class LatencySettings(BaseModel):
    default_ms: int = Field(default=0, ge=0, le=60_000)
    """Added delay on every user's order entry (place, amend, cancel)."""
    roles: dict[Literal["viewer", "trader", "admin"], int] = {}
    """Per role, instead of the default."""
    users: dict[str, int] = {}
    """Per username, instead of their role's."""

    @field_validator("roles", "users")
    @classmethod
    def _in_range(cls, delays: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in delays.items() if not 0 <= v <= 60_000]
        if bad:
            raise ValueError(f"delays are 0 to 60000 ms; check {bad}")
        return delays


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HFTSIM_", env_nested_delimiter="__", extra="forbid")

    server: ServerSettings = ServerSettings()
    session: SessionSettings = SessionSettings()
    traffic: TrafficSettings = TrafficSettings()
    accounts: AccountSettings = AccountSettings()
    limits: LimitSettings = LimitSettings()
    symbols: list[SymbolSettings] = []
    sim: SimSettings = SimSettings()
    store: StoreSettings = StoreSettings()
    journal: JournalSettings = JournalSettings()
    cluster: ClusterSettings = ClusterSettings()
    testing: TestingSettings = TestingSettings()
    rounds: RoundSettings = RoundSettings()
    scenarios: ScenarioSettings = ScenarioSettings()
    latency: LatencySettings = LatencySettings()

    @field_validator("symbols")
    @classmethod
    def _unique(cls, symbols: list[SymbolSettings]) -> list[SymbolSettings]:
        if not symbols:
            raise ValueError("at least one symbol must be configured")
        names = [s.sym for s in symbols]
        if len(set(names)) != len(names):
            raise ValueError(f"symbol names must be unique, got {names}")
        return symbols

    @model_validator(mode="after")
    def _journal_store(self) -> Settings:
        if self.journal.store == "database" and not self.store.url:
            raise ValueError('journal.store = "database" keeps the journal in PostgreSQL: set store.url too')
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, deep_merge=True))

    def instruments(self) -> list[Instrument]:
        return [s.instrument() for s in self.symbols]

    def engine_limits(self) -> Limits:
        return Limits(max_order_qty=self.limits.max_order_qty, max_position=self.limits.max_position)

    def new_engine(self, symbols: tuple[str, ...] | None = None) -> Engine:
        """An empty market with these settings: every symbol, or only `symbols` (a shard's)."""
        instruments = self.instruments()
        if symbols is not None:
            unknown = sorted(set(symbols) - {i.sym for i in instruments})
            if unknown:
                raise ConfigError(
                    f"unknown symbols: {', '.join(unknown)}; the configured ones are "
                    f"{', '.join(i.sym for i in instruments)}"
                )
            instruments = [i for i in instruments if i.sym in symbols]
        initial_cash = int(self.accounts.initial_cash.scaleb(cash_decimals(instruments)))
        return Engine(instruments, self.engine_limits(), initial_cash=initial_cash)


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem."""


def load(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the shipped defaults, `config_file`, the environment and `overrides`.

    A user's TOML file is merged over the shipped defaults key by key, in
    tables at any depth (a file that sets `[sim.defaults] impact` keeps the
    shipped `[sim.symbols.*]`), as the `HFTSIM_` variables are; lists such as
    `symbols` are replaced whole. A key or an `HFTSIM_` variable that names no
    setting is an error, like a bad value.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    unknown = unknown_variables(Settings, os.environ)
    if unknown:
        raise ConfigError("unknown environment variable(s):\n" + "\n".join(f"  {line}" for line in unknown))

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=[DEFAULT_CONFIG, *([config_file] if config_file else [])])

    try:
        return FileSettings(**overrides)
    except ValidationError as exc:
        problems = "\n".join(f"  {_problem(err)}" for err in exc.errors())
        raise ConfigError(f"invalid configuration:\n{problems}") from None


def _problem(err: ErrorDetails) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "(top)"
    if err["type"] != "extra_forbidden":
        return f"{where}: {err['msg']}"
    *table, key = err["loc"]
    model = model_at(Settings, table)
    hint = nearest(str(key), model.model_fields) if model is not None else None
    meant = f"; did you mean {'.'.join(str(p) for p in [*table, hint])}?" if hint else ""
    return f"{where}: unknown setting{meant}"
