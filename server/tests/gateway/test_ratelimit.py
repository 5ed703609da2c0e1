"""Token buckets, with a fake clock."""

from __future__ import annotations

from hftsim.gateway.ratelimit import RateLimiter


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(burst=3, per_second=2, clock=lambda: now[0])
    assert [limiter.allow("ip") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other")  # keys are independent
    now[0] += 0.5  # one token back
    assert limiter.allow("ip") and not limiter.allow("ip")
    now[0] += 10  # refills up to the burst, no further
    assert [limiter.allow("ip") for _ in range(4)] == [True, True, True, False]
