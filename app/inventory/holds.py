"""Stock held for cart lines (reserve-on-add variants).

A hold moves units into `stock.reserved` with a conditional update, so the
units cannot be promised twice, and records them in `stock_hold` with an
expiry. Releasing gives them back. Expired holds are released lazily by the
writes that need those units, and by the background sweeper.

Holds are written only under the lock on their stock row (`locking` has the
lock order): `release` and `hold` work on rows the caller has locked, all of
them up front in one `locking.lock`, and each is one statement per table
however many lines and rows it concerns.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.locking import Column, LockedStock, adjust, lock
from app.inventory.models import StockHold


def held_by_line(held: Iterable[StockHold]) -> dict[int, tuple[int, datetime]]:
    """Units held per line, and when the first of its holds runs out."""
    by_line: dict[int, tuple[int, datetime]] = {}
    for hold in held:
        quantity, until = by_line.get(hold.line_id, (0, hold.expires_at))
        by_line[hold.line_id] = (quantity + hold.quantity, min(until, hold.expires_at))
    return by_line


@dataclass(frozen=True, slots=True)
class HoldRequest:
    line_id: int
    variant_id: int
    quantity: int


async def holds_of_lines(session: AsyncSession, line_ids: Collection[int]) -> list[StockHold]:
    if not line_ids:
        return []
    rows = await session.exec(select(StockHold).where(col(StockHold.line_id).in_(line_ids)))
    return list(rows.all())


async def release(
    session: AsyncSession,
    locked: LockedStock,
    *,
    lines: Collection[int] = (),
    holds: Collection[int] = (),
    expired_at: datetime | None = None,
) -> int:
    """Gives back to the locked rows the units held for `lines`, by the holds `holds`, and
    (with `expired_at`) by every hold on them that has run out by then; how many holds
    ended.

    Only the holds this call deletes are given back: one that a concurrent release
    (another request, the upkeep) got to first is not counted twice.
    """
    which: list[ColumnElement[bool]] = []
    if lines:
        which.append(col(StockHold.line_id).in_(sorted(lines)))
    if holds:
        which.append(col(StockHold.id).in_(sorted(holds)))
    if expired_at is not None:
        which.append(col(StockHold.expires_at) <= expired_at)
    if not which or not locked.rows:
        return 0
    deleted = (
        await session.exec(  # type: ignore[call-overload]
            delete(StockHold)
            .where(col(StockHold.stock_id).in_(locked.stock_ids), or_(*which))
            .returning(StockHold.stock_id, StockHold.quantity)
        )
    ).all()
    freed: dict[int, int] = {}
    for stock_id, quantity in deleted:
        freed[stock_id] = freed.get(stock_id, 0) - quantity
    await adjust(session, locked, Column.RESERVED, freed)
    return len(deleted)


async def release_for(
    session: AsyncSession,
    lines: Collection[int],
    *,
    holding: Collection[int] = (),
    now: datetime | None = None,
) -> LockedStock:
    """Ends the holds of `lines` (changed, merged or deleted) before anything else of a
    cart change is written, and returns every stock row the change may write, locked up
    front in one statement: the rows of the variants it will hold units of (`holding`),
    and any other row `lines` hold units on. With `holding`, holds on those rows that ran
    out by `now` are released too: they no longer count, swept or not."""
    held = await holds_of_lines(session, lines)
    locked = await lock(session, variant_ids=holding, stock_ids={h.stock_id for h in held})
    await release(session, locked, lines=lines, expired_at=now if holding else None)
    return locked


async def release_expired(session: AsyncSession, now: datetime) -> int:
    """Gives back the units of every hold past its expiry (the background sweeper)."""
    stock_ids = set(
        (
            await session.exec(
                select(StockHold.stock_id).where(col(StockHold.expires_at) <= now).distinct()
            )
        ).all()
    )
    if not stock_ids:
        return 0
    # Only holds of the rows locked here: one that expired meanwhile elsewhere waits its turn.
    return await release(session, await lock(session, stock_ids=stock_ids), expired_at=now)


def _parts(
    locked: LockedStock, spare: dict[int, int], request: HoldRequest
) -> dict[int, int] | None:
    """Units per stock row for one request, from the rows with most to spare (`spare`, what
    earlier requests left); None when the variant's locked rows do not have enough."""
    rows = sorted(
        locked.of_variant(request.variant_id), key=lambda r: (-spare[r.stock_id], r.stock_id)
    )
    parts: dict[int, int] = {}
    left = request.quantity
    for row in rows:
        part = min(left, spare[row.stock_id])
        if part > 0:
            parts[row.stock_id] = part
            spare[row.stock_id] -= part
            left -= part
    return parts if left == 0 else None


async def hold(
    session: AsyncSession, locked: LockedStock, requests: Sequence[HoldRequest], until: datetime
) -> list[int]:
    """Holds units for each request until `until`, from the locked rows of its variant.

    Returns the variants that lack the units, and then holds nothing.
    """
    spare = {stock_id: row.available for stock_id, row in locked.rows.items()}
    per_request = [(request, _parts(locked, spare, request)) for request in requests]
    short = [request.variant_id for request, parts in per_request if parts is None]
    if short or not requests:
        return short
    reserving: dict[int, int] = {}
    records = []
    for request, parts in per_request:
        assert parts is not None
        for stock_id, part in parts.items():
            reserving[stock_id] = reserving.get(stock_id, 0) + part
            records.append(
                {
                    "line_id": request.line_id,
                    "stock_id": stock_id,
                    "quantity": part,
                    "expires_at": until,
                }
            )
    if not await adjust(session, locked, Column.RESERVED, reserving):
        return [request.variant_id for request in requests]
    await session.exec(insert(StockHold), params=records)  # type: ignore[call-overload]
    return []
