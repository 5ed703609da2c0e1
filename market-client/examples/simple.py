"""The Quickstart: connect, look at the market, chart candles, place and cancel an order.

Run the server first (`make run` at the repository root), then:

    python examples/simple.py [http://localhost:8000]
"""

import asyncio
import sys
from decimal import ROUND_DOWN, Decimal

from market_client import MarketClient


async def main(base_url: str) -> None:
    # One call connects: handshake -> CMD -> login (as a guest) -> MD
    client = await MarketClient.connect(base_url, connect_md=True)

    # High-level helpers
    symbols = await client.get_symbols()
    print("symbols:", symbols[:3])

    sym = symbols[0]["sym"]
    book = await client.get_book(sym, depth=10)
    print("book:", book)

    # Candles: configure and read
    await client.configure_candles(sym, interval_ms=1000, depth=50)
    print("candles:", client.get_candles(sym)[:3])

    # The MD-maintained book answers without a network round trip
    print("top of book:", client.best_bid_ask(sym))

    # Orders: a bid 5% under the reference price (on the tick grid), so it rests; then cancel it
    ref, tick = Decimal(symbols[0]["ref_price"]), Decimal(symbols[0]["tick"])
    price = (ref * Decimal("0.95") / tick).to_integral_value(ROUND_DOWN) * tick
    placed = await client.place_order(sym, side="buy", price=price, qty=1)
    print("placed:", placed["order"]["order_id"], placed["order"]["status"], placed["order"]["price"])
    orders = await client.list_orders()
    print("orders:", [(o["order_id"], o["sym"], o["side"], o["price"], o["qty"]) for o in orders])
    canceled = await client.cancel_order(placed["order"]["order_id"])
    print("canceled:", canceled["order"]["status"])
    print("events:", [event["op"] for event in client.get_transactions()])

    await client.aclose()


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000"))
