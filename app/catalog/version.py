"""The storefront's catalog version: one number that every change to what shoppers see moves.

Whatever is cached from the public catalog as a whole (whole responses of public
persisted queries) is kept under this version (`app.cache` families), so a
write makes all of it unreachable at once, in every process. Writes call
`storefront_changed` inside their transaction; the version moves once, after
the commit. Stock moves it only when a variant's `stockStatus` changes
(`app.inventory.locking`): exact quantities are never part of cached answers.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import changed

CATALOG_FAMILY = "catalog"


def storefront_changed(session: AsyncSession) -> None:
    """The transaction changes products, variants, prices, categories, publication,
    promotions or a stock status: cached storefront answers must not outlive its commit."""
    changed(session, CATALOG_FAMILY)
