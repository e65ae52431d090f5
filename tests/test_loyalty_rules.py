"""The arithmetic of points, refunds of points payments and a customer's order window:
pure rules, checked over many values."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.loyalty.points import PointsRates
from app.money import scale
from app.orders.history import months_before
from app.payments.models import Payment, PaymentMethod, PaymentStatus
from app.payments.refunds import points_given_back

rates = st.builds(
    PointsRates,
    earned_per_unit=st.integers(0, 50),
    per_unit=st.integers(1, 10_000),
    currency=st.sampled_from(["USD", "JPY", "EUR"]),
)


@given(rates, st.integers(0, 10**9))
def test_points_never_pay_more_than_they_are_worth(rate: PointsRates, balance: int) -> None:
    worth = rate.value_of(balance)
    # Paying all they are worth costs no more than the balance, and a cent more would.
    assert rate.cost_of(worth) <= balance
    assert rate.cost_of(worth + 1) > balance


@given(rates, st.integers(0, 10**9))
def test_paying_an_amount_costs_at_least_its_worth(rate: PointsRates, amount: int) -> None:
    assert rate.value_of(rate.cost_of(amount)) >= amount


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.lists(st.integers(1, 100), max_size=8))
def test_a_points_payment_refunded_in_parts_gives_every_point_back_once(
    points: int, amount: int, weights: list[int]
) -> None:
    payment = Payment(
        order_id=1, method=PaymentMethod.POINTS.value, status=PaymentStatus.SUCCEEDED.value,
        amount=amount, currency="USD", points=points,
    )  # fmt: skip
    parts = [scale(amount, w, sum(weights)) for w in weights] if weights else []
    parts.append(amount - sum(parts))  # the rest, so that the parts refund it all
    given_back = 0
    for part in parts:
        given_back += points_given_back(payment, part)
        payment.refunded += part
    assert given_back == points


def test_three_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    def at(y: int, m: int, d: int) -> datetime:
        return datetime(y, m, d, 9, 30, tzinfo=UTC)

    assert months_before(at(2026, 5, 31), 3) == at(2026, 2, 28)
    assert months_before(at(2028, 5, 31), 3) == at(2028, 2, 29)
    assert months_before(at(2026, 2, 15), 3) == at(2025, 11, 15)
    assert months_before(at(2026, 1, 1), 12) == at(2025, 1, 1)
