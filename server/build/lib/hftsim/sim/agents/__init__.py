"""The simulated participants. Each kind lives in its own module; see `base` for the shared sink."""

from .base import Agent, Orders
from .informed import InformedTrader
from .institutional import InstitutionalTrader
from .liquidity import LiquidityProvider
from .market_maker import MarketMaker
from .mean_reversion import MeanReversionTrader
from .momentum import MomentumTrader
from .noise import HawkesState, NoiseTrader

__all__ = [
    "Agent",
    "HawkesState",
    "InformedTrader",
    "InstitutionalTrader",
    "LiquidityProvider",
    "MarketMaker",
    "MeanReversionTrader",
    "MomentumTrader",
    "NoiseTrader",
    "Orders",
]
