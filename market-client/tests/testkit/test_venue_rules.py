"""FakeVenue keeps the server's rules beside its faults: message rates (announced and enforced) and admin ops."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest
from hftsim.config import RateSettings, TrafficSettings

from market_client import MarketClient, OrderRejected, ServerError
from market_client.testing import FakeVenue

TIGHT = RateSettings(burst=4, per_second=20)


def tight(policy: Literal["reject", "throttle", "disconnect"] = "reject") -> TrafficSettings:
    return TrafficSettings(per_connection=TIGHT, per_user=RateSettings(burst=8, per_second=40), breach_policy=policy)


async def test_a_client_over_the_rate_is_refused_and_a_paced_one_is_not() -> None:
    async with FakeVenue(traffic=tight()) as venue:
        venue.add_user("ann", "pw")
        venue.add_user("bob", "pw")  # a user of their own: ann's bucket is empty after her flood
        async with MarketClient(venue.url, username="ann", password="pw", pace=False) as eager:
            assert eager.limits is not None and eager.limits["messages_per_second"] == 20
            answers = await asyncio.gather(*(eager.get_book("ACME") for _ in range(12)), return_exceptions=True)
            refused = [a for a in answers if isinstance(a, ServerError)]
            assert refused and all(r.code == "RATE_LIMITED" for r in refused)
            assert "retry in" in refused[0].message
        before = venue.rate_limited
        async with MarketClient(venue.url, username="bob", password="pw") as paced:  # pacing is the default
            for _ in range(12):
                await paced.get_book("ACME")
        assert venue.rate_limited == before


async def test_under_the_throttle_policy_every_message_is_answered_late() -> None:
    async with FakeVenue(traffic=tight("throttle")) as venue, MarketClient(venue.url, pace=False) as client:
        books = await asyncio.gather(*(client.get_book("ACME") for _ in range(12)))
        assert len(books) == 12 and venue.rate_limited > 0


async def test_under_the_disconnect_policy_a_flood_loses_its_socket() -> None:
    traffic = tight("disconnect").model_copy(update={"disconnect_after": 2})
    async with (
        FakeVenue(traffic=traffic) as venue,
        MarketClient(venue.url, pace=False, liveness_timeout=None) as client,
    ):
        closes: list[str] = []
        client.set_state_hook(closes.append)
        await asyncio.gather(*(client.get_book("ACME") for _ in range(20)), return_exceptions=True)
        await venue.until(lambda: "reconnecting" in closes, timeout=30)


async def test_an_admin_halts_and_resumes_a_symbol_and_a_trader_may_not() -> None:
    async with FakeVenue() as venue:
        venue.add_user("root", "pw", admin=True)
        venue.add_user("ann", "pw")
        async with (
            MarketClient(venue.url, username="root", password="pw") as admin,
            MarketClient(venue.url, username="ann", password="pw") as trader,
        ):
            assert admin.user is not None and admin.user["is_admin"] is True
            with pytest.raises(ServerError) as forbidden:
                await trader.send("admin.halt", {"sym": "ACME"})
            assert forbidden.value.code == "FORBIDDEN"
            assert await admin.send("admin.halt", {"sym": "ACME"}) == {"sym": "ACME", "status": "halted"}
            await venue.until(lambda: trader.market.statuses.get("ACME") == "halted", timeout=30)
            with pytest.raises(OrderRejected):
                await trader.place_order("ACME", "buy", "99.00", 1)
            await admin.send("admin.auction", {"sym": "ACME"})
            await admin.send("admin.resume", {"sym": "ACME"})
            await venue.until(lambda: trader.market.statuses.get("ACME") == "trading", timeout=30)
            assert (await trader.place_order("ACME", "buy", "99.00", 1))["order"]["status"] == "new"
