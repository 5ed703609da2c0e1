"""market_client: an async Python SDK for the HFT Simulator exchange.

The public API is what this module exports; the underscore modules are
implementation and may change.
"""

from ._admin import Admin
from ._backtest import BacktestResult, run_backtest
from ._book import OrderBook
from ._client import MarketClient
from ._envelope import Event, Response
from ._exceptions import (
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    InvalidPrice,
    MarketClientError,
    MarketConnectionError,
    OrderRejected,
    OutcomeUnknown,
    RequestTimeout,
    ServerError,
    StaleBook,
)
from ._live import LiveBroker, RunSummary, run_live
from ._market import MarketState
from ._orders import Order
from ._prices import to_wire_price
from ._record import Recording, read_recording
from ._recovery import STATES, State
from ._replay import ReplayResult, run_replay
from ._session import RequestSession
from ._strategy import Broker, Strategy, StrategyRunner
from ._timeline import Timeline, TimelineEvent

__all__ = [
    "STATES",
    "Admin",
    "AuthenticationError",
    "BacktestResult",
    "Broker",
    "ClientClosed",
    "ConnectionLost",
    "Event",
    "InvalidPrice",
    "LiveBroker",
    "MarketClient",
    "MarketClientError",
    "MarketConnectionError",
    "MarketState",
    "Order",
    "OrderBook",
    "OrderRejected",
    "OutcomeUnknown",
    "Recording",
    "ReplayResult",
    "RequestSession",
    "RequestTimeout",
    "Response",
    "RunSummary",
    "ServerError",
    "StaleBook",
    "State",
    "Strategy",
    "StrategyRunner",
    "Timeline",
    "TimelineEvent",
    "read_recording",
    "run_backtest",
    "run_live",
    "run_replay",
    "to_wire_price",
]

__version__ = "0.1.0"
