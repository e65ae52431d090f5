"""Shipping methods: rate templates, and what one costs for a cart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checkout.models import ShippingMethod
from app.countries import normalize_country
from app.database import Database
from app.errors import ErrorCode, Problems

GRAMS_PER_KG = 1000


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


def quote(method: ShippingMethod, weight_grams: int, subtotal: int) -> int:
    """The fee: free over `free_over`, else the base fee plus per started kilogram."""
    if method.free_over is not None and subtotal >= method.free_over:
        return 0
    started_kg = -(-weight_grams // GRAMS_PER_KG)
    return method.base_fee + method.per_kg_fee * started_kg


def serves(method: ShippingMethod, country: str | None) -> bool:
    return method.active and country is not None and country in method.countries


async def active_methods(session: AsyncSession) -> list[ShippingMethod]:
    rows = await session.exec(
        select(ShippingMethod)
        .where(col(ShippingMethod.active).is_(True))
        .order_by(col(ShippingMethod.base_fee), col(ShippingMethod.id))
    )
    return list(rows.all())


async def create_shipping_method(
    db: Database, data: ShippingMethodData, now: datetime
) -> ShippingMethod:
    problems = Problems()
    name = data.name.strip()
    if not 0 < len(name) <= 200:
        problems.add(
            ErrorCode.REQUIRED, "name is required (at most 200 characters)", "input", "name"
        )
    countries: list[str] = []
    for code in data.countries:
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
    if not data.countries:
        problems.add(ErrorCode.REQUIRED, "serve at least one country", "input", "countries")
    for value, field in (
        (data.base_fee, "baseFee"),
        (data.per_kg_fee, "perKgFee"),
        (data.free_over or 0, "freeOver"),
    ):
        if value < 0:
            problems.add(ErrorCode.INVALID, f"{field} cannot be negative", "input", field)
    if not 0 <= data.min_days <= data.max_days <= 365:
        problems.add(ErrorCode.INVALID, "need 0 <= minDays <= maxDays <= 365", "input", "maxDays")
    problems.raise_if_any()
    async with db.transaction() as session:
        method = ShippingMethod(
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
        session.add(method)
        await session.flush()
    return method
