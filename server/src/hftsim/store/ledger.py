"""A cluster's orders, fills and balances as SQL tables, for operators and reports (the persister's read model).

The engine shards keep the market in memory and their streams; this is a
copy an operator can query with SQL (SQLite on one machine, PostgreSQL for
several), written by `hftsim persister` (cluster/persister.py). Each write
is one transaction that also moves the shard's row in `shards` to the
last command it covers (`shards.seq`), so the tables always hold exactly the commands up
to that sequence: a persister that restarts resumes after it, and a fill is
never written twice (its id is the key) nor skipped. One writer per shard:
the ledger claims each of its shards in the database (`Database.claim`)
before it writes, and a second persister of the same shard and database
stops at once, saying so. Each shard's row is there from the first start,
before any command is read, so the tables can be read (a new user's cash)
from the start.

Amounts are the engine's integers, so sums stay exact: prices in ticks,
cash, costs and fees in cash units, read with the `instruments` table
(price x `tick`, cash / 10^`cash_decimals`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..engine import FillView, Instrument, OrderView, PositionView
from .database import Database
from .errors import DatabaseBusy

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS shards (shard TEXT PRIMARY KEY, seq BIGINT NOT NULL, initial_cash BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS instruments (sym TEXT PRIMARY KEY, tick TEXT NOT NULL, cash_decimals INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS orders (order_id BIGINT PRIMARY KEY, shard TEXT NOT NULL, user_id BIGINT NOT NULL, "
    "client_order_id TEXT, sym TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, price BIGINT, "
    "qty BIGINT NOT NULL, filled_qty BIGINT NOT NULL, filled_cost BIGINT NOT NULL, tif TEXT NOT NULL, "
    "post_only BOOLEAN NOT NULL, status TEXT NOT NULL, created_ts BIGINT NOT NULL, updated_ts BIGINT NOT NULL, "
    "seq BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id)",
    "CREATE TABLE IF NOT EXISTS fills (fill_id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, user_id BIGINT NOT NULL, "
    "client_order_id TEXT, sym TEXT NOT NULL, side TEXT NOT NULL, price BIGINT NOT NULL, qty BIGINT NOT NULL, "
    "fee BIGINT NOT NULL, is_maker BOOLEAN NOT NULL, trade_id BIGINT NOT NULL, ts BIGINT NOT NULL, "
    "seq BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS fills_user ON fills (user_id)",
    "CREATE TABLE IF NOT EXISTS balances (shard TEXT NOT NULL, user_id BIGINT NOT NULL, cash BIGINT NOT NULL, "
    "opening_cash BIGINT NOT NULL, fees BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (shard, user_id))",
    "CREATE TABLE IF NOT EXISTS positions (user_id BIGINT NOT NULL, sym TEXT NOT NULL, qty BIGINT NOT NULL, "
    "cost BIGINT NOT NULL, realized_pnl BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (user_id, sym))",
]

_UPSERT_ORDER = (
    "INSERT INTO orders (order_id, shard, user_id, client_order_id, sym, side, type, price, qty, filled_qty, "
    "filled_cost, tif, post_only, status, created_ts, updated_ts, seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
    "qty = excluded.qty, price = excluded.price, filled_qty = excluded.filled_qty, "
    "filled_cost = excluded.filled_cost, status = excluded.status, updated_ts = excluded.updated_ts, "
    "seq = excluded.seq"
)
_INSERT_FILL = (
    "INSERT INTO fills (fill_id, order_id, user_id, client_order_id, sym, side, price, qty, fee, is_maker, trade_id, "
    "ts, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_BALANCE = (
    "INSERT INTO balances (shard, user_id, cash, opening_cash, fees, seq) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (shard, user_id) DO UPDATE SET cash = excluded.cash, opening_cash = excluded.opening_cash, "
    "fees = excluded.fees, seq = excluded.seq"
)
_UPSERT_POSITION = (
    "INSERT INTO positions (user_id, sym, qty, cost, realized_pnl, seq) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (user_id, sym) DO UPDATE SET qty = excluded.qty, cost = excluded.cost, "
    "realized_pnl = excluded.realized_pnl, seq = excluded.seq"
)
_ADVANCE = "UPDATE shards SET seq = ? WHERE shard = ?"
_END_ORDERS = (
    "UPDATE orders SET status = 'canceled', updated_ts = ?, seq = ? "
    "WHERE shard = ? AND status IN ('new', 'partially_filled')"
)
_CLEAR_BALANCES = "DELETE FROM balances WHERE shard = ?"
_CLEAR_POSITION = "DELETE FROM positions WHERE sym = ?"
_UPSERT_SHARD = (
    "INSERT INTO shards (shard, seq, initial_cash) VALUES (?, 0, ?) "
    "ON CONFLICT (shard) DO UPDATE SET initial_cash = excluded.initial_cash"
)
_UPSERT_INSTRUMENT = (
    "INSERT INTO instruments (sym, tick, cash_decimals) VALUES (?, ?, ?) "
    "ON CONFLICT (sym) DO UPDATE SET tick = excluded.tick, cash_decimals = excluded.cash_decimals"
)


@dataclass(frozen=True, slots=True)
class Balance:
    user_id: int
    cash: int
    opening_cash: int
    fees: int
    seq: int
    """The last command that changed the account."""


@dataclass(slots=True)
class Batch:
    """What a run of one shard's commands changed, as of its last command `seq`."""

    shard: str
    seq: int = 0
    orders: dict[int, tuple[OrderView, int]] = field(default_factory=dict)
    """order id -> the order's latest state and the command that set it."""
    fills: list[tuple[FillView, int]] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    positions: list[tuple[PositionView, int]] = field(default_factory=list)
    """Each changed position and the last command that changed it."""
    restate: tuple[int, tuple[str, ...]] | None = None
    """(time, the shard's symbols) when `seq` replaced the shard's market (a round start, a restore): the batch
    holds all of it, so the shard's open orders end as canceled at that time and its balances and positions
    go, before the batch's rows are written."""


class Ledger:
    """The tables in one database, written from one thread of their own.

    Writes are blocking DB-API calls; running them on a dedicated thread
    keeps the persister reading its streams while a transaction commits,
    and gives SQLite's connection the single thread it requires.
    """

    def __init__(self, db: Database, shards: Iterable[str]) -> None:
        """Open the tables and claim `shards`: DatabaseBusy if another process writes one of them here."""
        self.db = db
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hftsim-ledger")
        self._releases: list[Callable[[], None]] = []
        try:
            self._conn: Any = self.thread.submit(self._open, list(shards)).result()
        except BaseException:
            self.thread.shutdown()
            raise

    def _open(self, shards: list[str]) -> Any:
        conn = self.db.connect()
        try:
            for shard in shards:
                release = self.db.claim(conn, f"hftsim-ledger-{shard}")
                if release is None:
                    raise DatabaseBusy(
                        f"another hftsim persister is writing shard {shard} to {self.db.shown}: one writer per "
                        "shard and database (stop the other, or give this one another --database or --shards)"
                    )
                self._releases.append(release)
            with self.db.transaction(conn):
                for statement in SCHEMA:
                    conn.execute(statement)
        except BaseException:
            for release in self._releases:
                release()
            conn.close()
            raise
        return conn

    def persisted(self) -> dict[str, int]:
        """Each shard's last command the tables hold (a shard never written is absent)."""
        return self.thread.submit(self._persisted).result()

    def _persisted(self) -> dict[str, int]:
        return {str(shard): int(seq) for shard, seq in self._conn.execute("SELECT shard, seq FROM shards")}

    def describe(self, instruments: Iterable[Instrument], cash_decimals: int, initial_cash: dict[str, int]) -> None:
        """Record how to read the tables: each symbol's tick, the cash unit's decimals, and each shard's share of
        a new user's cash (what a user holds on a shard where no command opened their account yet)."""
        rows = [(i.sym, str(i.tick), cash_decimals) for i in instruments]
        self.thread.submit(self._describe, rows, list(initial_cash.items())).result()

    def _describe(self, instruments: list[tuple[str, str, int]], shards: list[tuple[str, int]]) -> None:
        with self.db.transaction(self._conn):
            self._conn.cursor().executemany(self.db.sql(_UPSERT_INSTRUMENT), instruments)
            self._conn.cursor().executemany(self.db.sql(_UPSERT_SHARD), shards)

    def write(self, batch: Batch) -> None:
        """Commit `batch` with its shard's new position, all or nothing (blocking: call it on `thread`)."""
        sql, shard = self.db.sql, batch.shard
        orders = [
            (o.order_id, shard, o.user_id, o.client_order_id, o.sym, o.side.value, o.type.value, o.price, o.qty,
             o.filled_qty, o.filled_cost, o.tif.value, o.post_only, o.status.value, o.created_ts, o.updated_ts, seq)
            for o, seq in batch.orders.values()
        ]  # fmt: skip
        fills = [
            (f.fill_id, f.order_id, f.user_id, f.client_order_id, f.sym, f.side.value, f.price, f.qty, f.fee,
             f.is_maker, f.trade_id, f.ts, seq)
            for f, seq in batch.fills
        ]  # fmt: skip
        balances = [(shard, b.user_id, b.cash, b.opening_cash, b.fees, b.seq) for b in batch.balances]
        positions = [(p.user_id, p.sym, p.qty, p.cost, p.realized_pnl, seq) for p, seq in batch.positions]
        with self.db.transaction(self._conn):
            cursor = self._conn.cursor()
            if batch.restate is not None:
                ts, symbols = batch.restate
                cursor.execute(sql(_END_ORDERS), (ts, batch.seq, shard))
                cursor.execute(sql(_CLEAR_BALANCES), (shard,))
                cursor.executemany(sql(_CLEAR_POSITION), [(sym,) for sym in symbols])
            for statement, rows in (
                (_UPSERT_ORDER, orders),
                (_INSERT_FILL, fills),
                (_UPSERT_BALANCE, balances),
                (_UPSERT_POSITION, positions),
            ):
                if rows:
                    cursor.executemany(sql(statement), rows)
            cursor.execute(sql(_ADVANCE), (batch.seq, shard))

    def close(self) -> None:
        self.thread.submit(self._close).result()
        self.thread.shutdown()

    def _close(self) -> None:
        for release in self._releases:
            release()
        self._conn.close()
