from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_client import InvalidPrice, MarketClientError, _prices, to_wire_price


@pytest.mark.parametrize(
    ("price", "wire"),
    [
        ("100.25", "100.25"),
        (" 100.25 ", "100.25"),
        (100, "100"),
        (Decimal("100.10"), "100.10"),
        (Decimal("1E+2"), "100"),
    ],
)
def test_accepted_prices_become_decimal_strings(price: str | int | Decimal, wire: str) -> None:
    assert to_wire_price(price) == wire


def test_a_float_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidPrice, match=r"not float.*'100.25'") as info:
        to_wire_price(100.25)  # type: ignore[arg-type]
    assert isinstance(info.value, MarketClientError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("price", [True, None, [1], b"1"])
def test_other_types_are_refused(price: object) -> None:
    with pytest.raises(InvalidPrice, match="must be str, int or Decimal"):
        to_wire_price(price)  # type: ignore[arg-type]


@pytest.mark.parametrize("price", ["abc", "", "1.2.3", "NaN", "Infinity", Decimal("NaN")])
def test_non_numbers_are_refused(price: str | Decimal) -> None:
    with pytest.raises(InvalidPrice):
        to_wire_price(price)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimal_round_trips_exactly(value: Decimal) -> None:
    assert Decimal(to_wire_price(value)) == value
    assert "E" not in to_wire_price(value)


def test_a_price_string_seen_before_gives_the_same_wire_string_and_a_bad_one_raises_every_time() -> None:
    assert [to_wire_price(" 100.250 ") for _ in range(3)] == ["100.250"] * 3
    for _ in range(2):
        with pytest.raises(InvalidPrice):
            to_wire_price("1e999999999x")
    for n in range(_prices._KNOWN_MAX + 10):
        assert to_wire_price(f"{n}.5") == f"{n}.5"
    assert len(_prices._KNOWN) <= _prices._KNOWN_MAX
