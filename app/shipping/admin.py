"""Staff define shipping methods: checked in full first, then written in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.countries import normalize_country
from app.errors import ErrorCode, Problems, field_label
from app.shipping.models import ShippingMethod


@dataclass(frozen=True, slots=True)
class ShippingMethodData:
    name: str
    carrier: str
    countries: Sequence[str]
    base_fee: int
    per_kg_fee: int
    free_over: int | None
    min_days: int
    max_days: int


def _countries(codes: Sequence[str], problems: Problems) -> list[str]:
    countries: list[str] = []
    for code in codes:
        country = normalize_country(code)
        if country is None:
            problems.add(
                ErrorCode.INVALID,
                f"{code!r} is not an ISO 3166-1 alpha-2 country code",
                "input",
                "countries",
            )
        elif country not in countries:
            countries.append(country)
    if not codes:
        problems.add(ErrorCode.REQUIRED, "serve at least one country", "input", "countries")
    return countries


def new_shipping_method(data: ShippingMethodData, now: datetime) -> ShippingMethod:
    """The method `data` describes, not yet saved; every problem with it raised at once."""
    problems = Problems()
    name = data.name.strip()
    if not 0 < len(name) <= 200:
        problems.add(
            ErrorCode.REQUIRED, "name is required (at most 200 characters)", "input", "name"
        )
    countries = _countries(data.countries, problems)
    for value, field in (
        (data.base_fee, "base_fee"),
        (data.per_kg_fee, "per_kg_fee"),
        (data.free_over or 0, "free_over"),
    ):
        if value < 0:
            problems.add(
                ErrorCode.INVALID, f"{field_label([field])} cannot be negative", "input", field
            )
    if not 0 <= data.min_days <= data.max_days <= 365:
        problems.add(
            ErrorCode.INVALID,
            "the days must satisfy 0 <= min days <= max days <= 365",
            "input",
            "max_days",
        )
    problems.raise_if_any()
    return ShippingMethod(
        name=name,
        carrier=data.carrier.strip()[:100],
        countries=countries,
        base_fee=data.base_fee,
        per_kg_fee=data.per_kg_fee,
        free_over=data.free_over,
        min_days=data.min_days,
        max_days=data.max_days,
        created_at=now,
    )


async def add_shipping_method(session: AsyncSession, method: ShippingMethod) -> ShippingMethod:
    session.add(method)
    await session.flush()
    return method
