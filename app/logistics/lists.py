"""Shipments as staff list them: newest first, of one status if asked (EXCEPTION: the
parcels a carrier reports in trouble)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from app.database import Database
from app.logistics.models import Shipment
from app.logistics.status import ShipmentStatus
from app.paging import Keyset, Page, keyset_page

NEWEST = Keyset("SHIPMENTS", [col(Shipment.id)], [int])


async def page(
    db: Database, status: ShipmentStatus | None, first: int, after: str | None
) -> Page[Shipment]:
    statement = select(Shipment)
    if status is not None:
        statement = statement.where(Shipment.status == status.value)
    async with db.session() as session:
        return await keyset_page(session, statement, NEWEST, first, after, lambda s: [s.id])


async def count(db: Database, status: ShipmentStatus | None) -> int:
    statement = select(func.count()).select_from(Shipment)
    if status is not None:
        statement = statement.where(Shipment.status == status.value)
    async with db.session() as session:
        return int((await session.exec(statement)).one())
