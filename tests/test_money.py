"""Money: exact minor units, one rounding rule, allocations that add up to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.money import MoneyFormatError, allocate, round_half_up, to_decimal, to_minor


def test_conversions_are_exact() -> None:
    assert to_minor("19.90", "USD") == 1990
    assert to_minor(Decimal("19.9"), "USD") == 1990
    assert to_minor("0.1", "USD") + to_minor("0.2", "USD") == to_minor("0.3", "USD")
    assert to_minor("1500", "JPY") == 1500
    assert str(to_decimal(1990, "USD")) == "19.90"
    assert str(to_decimal(5, "USD")) == "0.05"
    assert str(to_decimal(1500, "JPY")) == "1500"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("19.999", "USD"), ("1.5", "JPY"), ("abc", "USD"), ("NaN", "USD"), ("Infinity", "EUR")],
)
def test_amounts_finer_than_the_currency_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(MoneyFormatError):
        to_minor(amount, currency)


def test_round_half_up_is_commercial() -> None:
    assert round_half_up(5, 2) == 3
    assert round_half_up(-5, 2) == -3
    assert round_half_up(4, 3) == 1
    assert round_half_up(1999 * 7, 100) == 140  # 7 % of 19.99 = 1.3993 -> 1.40


def test_allocate_uses_largest_remainders() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [0, 5, 5]) == [0, 5, 5]
    assert allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError, match="zero weights"):
        allocate(1, [0, 0])


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
)
def test_allocate_shares_sum_exactly_and_stay_proportional(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(share - exact) < 1
        if weight == 0:
            assert share == 0


@given(minor=st.integers(min_value=-(10**12), max_value=10**12))
def test_decimal_round_trip(minor: int) -> None:
    assert to_minor(to_decimal(minor, "USD"), "USD") == minor
