"""Stock levels as staff set them: a variant's units per warehouse, the first rows of a
new variant, and units moved from one warehouse to another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.models import ProductVariant, Warehouse
from app.catalog.version import storefront_changed
from app.database import upsert
from app.errors import ErrorCode, fail
from app.inventory.allocation import StockRow
from app.inventory.locking import Column, adjust, lock
from app.inventory.models import Stock

MAX_UNITS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Level:
    variant_id: int
    warehouse_id: int
    quantity: int


async def add_levels(session: AsyncSession, levels: Sequence[Level], now: datetime) -> None:
    """The stock rows of new variants (product creation, demo data), in one statement."""
    if not levels:
        return
    await session.exec(  # type: ignore[call-overload]
        insert(Stock),
        params=[
            {
                "variant_id": level.variant_id,
                "warehouse_id": level.warehouse_id,
                "quantity": level.quantity,
                "reserved": 0,
                "updated_at": now,
            }
            for level in levels
        ],
    )


async def _require(
    session: AsyncSession, variant_id: int, warehouses: Sequence[tuple[int, str]]
) -> None:
    """NOT_FOUND for a variant or a warehouse (named by its field) that does not exist."""
    if await session.get(ProductVariant, variant_id) is None:
        raise fail(ErrorCode.NOT_FOUND, "no variant with this id", "variant_id")
    for warehouse_id, field in warehouses:
        if await session.get(Warehouse, warehouse_id) is None:
            raise fail(ErrorCode.NOT_FOUND, "no warehouse with this id", field)


async def _row(session: AsyncSession, variant_id: int, warehouse_id: int) -> Stock:
    return (
        await session.exec(
            select(Stock)
            .where(Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def set_level(
    session: AsyncSession, variant_id: int, warehouse_id: int, quantity: int, now: datetime
) -> Stock:
    """Sets the on-hand quantity of a variant in a warehouse (creating the stock row).

    The variant's rows are locked first, in one statement (the lock order holds), so that
    its stock status before and after is known exactly: a change of it is a storefront
    change.
    """
    if not 0 <= quantity <= MAX_UNITS:
        raise fail(ErrorCode.INVALID, f"quantity must be between 0 and {MAX_UNITS}", "quantity")
    await _require(session, variant_id, [(warehouse_id, "warehouse_id")])
    locked = await lock(session, variant_ids=[variant_id])
    before = locked.statuses([variant_id])
    statement = upsert(session)(Stock).values(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        reserved=0,
        updated_at=now,
    )
    # Units held for carts stay held: the quantity may not drop below them.
    statement = statement.on_conflict_do_update(
        index_elements=["variant_id", "warehouse_id"],
        set_={"quantity": statement.excluded.quantity, "updated_at": statement.excluded.updated_at},
        where=col(Stock.reserved) <= statement.excluded.quantity,
    ).returning(Stock.id)
    if (await session.exec(statement)).scalar_one_or_none() is None:
        held = await _row(session, variant_id, warehouse_id)
        raise fail(
            ErrorCode.INVALID,
            f"quantity cannot be below the {held.reserved} units held for carts",
            "quantity",
        )
    row = await _row(session, variant_id, warehouse_id)
    assert row.id is not None
    locked.rows[row.id] = StockRow(row.id, variant_id, warehouse_id, row.available)
    if variant_id not in locked.thresholds:  # its first stock row
        variant = await session.get(ProductVariant, variant_id)
        locked.thresholds[variant_id] = variant.low_stock_threshold if variant else 0
    if locked.statuses([variant_id]) != before:
        storefront_changed(session)
    return row


async def move(
    session: AsyncSession,
    variant_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    now: datetime,
) -> tuple[Stock, Stock]:
    """Moves `quantity` available units of a variant between warehouses (creating the
    destination's row); returns both rows as they are now.

    INSUFFICIENT_STOCK when the source has fewer available (held units stay where they are).
    """
    if not 0 < quantity <= MAX_UNITS:
        raise fail(ErrorCode.INVALID, f"quantity must be between 1 and {MAX_UNITS}", "quantity")
    if from_warehouse_id == to_warehouse_id:
        raise fail(ErrorCode.INVALID, "the warehouses must differ", "to_warehouse_id")
    await _require(
        session,
        variant_id,
        [(from_warehouse_id, "from_warehouse_id"), (to_warehouse_id, "to_warehouse_id")],
    )
    # Both rows (and any other of the variant) in one statement, before either is written.
    # (Taking units off the source may look like a stock-status change until the
    # destination gets them: the catalog version then moves once more than needed.)
    locked = await lock(session, variant_ids=[variant_id])
    source = next(
        (r for r in locked.of_variant(variant_id) if r.warehouse_id == from_warehouse_id), None
    )
    available = source.available if source else 0
    if source is None or not await adjust(
        session, locked, Column.QUANTITY, {source.stock_id: -quantity}
    ):
        raise fail(
            ErrorCode.INSUFFICIENT_STOCK,
            f"only {available} units available to move",
            "quantity",
        )
    statement = upsert(session)(Stock).values(
        variant_id=variant_id,
        warehouse_id=to_warehouse_id,
        quantity=quantity,
        reserved=0,
        updated_at=now,
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["variant_id", "warehouse_id"],
            set_={"quantity": col(Stock.quantity) + statement.excluded.quantity, "updated_at": now},
        )
    )
    return await _row(session, variant_id, from_warehouse_id), await _row(
        session, variant_id, to_warehouse_id
    )
