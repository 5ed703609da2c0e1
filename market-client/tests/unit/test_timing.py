from market_client._timing import backoff_delay, renew_delay


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    top = [backoff_delay(n, initial=0.1, maximum=5.0, rng=lambda: 1.0) for n in range(10)]
    assert top[:4] == [0.1, 0.2, 0.4, 0.8]
    assert top[-1] == 5.0 and max(top) == 5.0


def test_backoff_jitter_stays_within_half_a_step() -> None:
    assert backoff_delay(3, initial=0.1, maximum=5.0, rng=lambda: 0.0) == 0.4
    assert backoff_delay(3, initial=0.1, maximum=5.0, rng=lambda: 0.5) == 0.6000000000000001
    assert backoff_delay(1000, initial=0.1, maximum=5.0, rng=lambda: 0.0) == 2.5


def test_renew_after_two_thirds_of_the_remaining_life() -> None:
    assert renew_delay(0, 900_000) == 600.0
    assert renew_delay(1_000, 4_000) == 2.0
    assert renew_delay(10_000, 5_000) == 0.05
