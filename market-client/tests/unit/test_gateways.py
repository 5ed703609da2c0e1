"""The gateway list: the client's reconnect target moves on in turn, and only when there is another."""

from __future__ import annotations

import pytest

from market_client._gateways import Gateways


def test_the_next_gateway_comes_in_turn_and_wraps_around() -> None:
    gateways = Gateways(["http://a:8000/", "http://b:8000"])
    assert gateways.current == "http://a:8000"
    assert gateways.move_on() and gateways.current == "http://b:8000"
    assert gateways.move_on() and gateways.current == "http://a:8000"


def test_one_gateway_has_nowhere_to_move() -> None:
    gateways = Gateways(["http://a:8000"])
    assert not gateways.move_on()
    assert gateways.current == "http://a:8000"
    with pytest.raises(ValueError):
        Gateways([])
