"""Money as exact integer minor units: the one place that converts and rounds.

Amounts are stored and computed as `int` minor units (cents). Conversion to and
from the `Decimal` strings that clients see happens only here, and so does
every rounding rule, so no float ever touches a price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.errors import ErrorCode, Problems, field_label

# ISO 4217 minor-unit exponents of the currencies a shop can be configured with.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "JPY": 0,
    "KRW": 0,
}


class MoneyFormatError(ValueError):
    """An amount that cannot be represented exactly in the currency."""


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[currency]


def to_decimal(minor: int, currency: str) -> Decimal:
    """`1990` USD -> `Decimal('19.90')`: always with the currency's number of places."""
    return Decimal(minor).scaleb(-exponent(currency))


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """`Decimal('19.9')` USD -> `1990`; refuses amounts finer than the minor unit."""
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise MoneyFormatError(f"{amount!r} is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyFormatError(f"{amount!r} is not a finite amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        places = exponent(currency)
        raise MoneyFormatError(f"{value} has more than {places} decimal places for {currency}")
    return int(scaled)


def display(minor: int, currency: str) -> str:
    """An amount as messages and event logs show it: `12.50 USD`."""
    return f"{to_decimal(minor, currency)} {currency}"


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (commercial rounding)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def scale(value: int, numerator: int, denominator: int, *, up: bool = False) -> int:
    """`value * numerator / denominator` as a whole number: rounded down, or up with `up`
    (conversions between money and other units, such as loyalty points, where one
    direction must never be in the customer's favour and the other never against it)."""
    if denominator <= 0 or value < 0 or numerator < 0:
        raise ValueError("scale takes non-negative values and a positive denominator")
    quotient, remainder = divmod(value * numerator, denominator)
    return quotient + 1 if up and remainder else quotient


def minor_per_unit(currency: str) -> int:
    """Minor units in one unit of the currency (100 cents in a dollar, 1 yen in a yen)."""
    return 10 ** exponent(currency)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` so the parts sum to `total` exactly.

    Largest-remainder method: each part gets the floor of its exact share, and the
    units left over go to the parts with the largest remainders (earliest first on
    ties), so the result is deterministic.
    """
    weight_sum = sum(weights)
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes a non-negative total and weights")
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over zero weights")
        return [0 for _ in weights]
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def units_share(total: int, units: int, first: int, count: int) -> int:
    """The part of `total` (what `units` like units came to) that units `first` to
    `first + count - 1` carry: `sum(allocate(total, [1] * units)[first:first + count])`,
    without building the list. Every unit carries `total // units`, and the remainder
    cents go to the first units, one each; so the shares of all the units, taken in any
    number of consecutive parts, add up to `total` exactly."""
    if units <= 0 or total < 0 or first < 0 or count < 0 or first + count > units:
        raise ValueError("units_share takes a non-negative total and a range within the units")
    base, extra = divmod(total, units)
    return base * count + max(0, min(first + count, extra) - min(first, extra))


MAX_AMOUNT = 10**15


def parse_amount(value: object, currency: str, problems: Problems, *path: str) -> int | None:
    """Minor units of a money input; a problem (at `path`) for negative or over-precise amounts."""
    if not isinstance(value, Decimal):
        return None
    try:
        minor = to_minor(value, currency)
    except MoneyFormatError as exc:
        problems.add(ErrorCode.INVALID, str(exc), *path)
        return None
    if minor < 0:
        problems.add(ErrorCode.INVALID, f"{field_label(path)} must not be negative", *path)
        return None
    if minor >= MAX_AMOUNT:
        problems.add(ErrorCode.INVALID, f"{field_label(path)} is too large", *path)
        return None
    return minor
