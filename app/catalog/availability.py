"""Stock status as customers see it."""

from __future__ import annotations

from collections.abc import Iterable

from app.catalog.models import StockStatus


def stock_status(available: int, low_stock_threshold: int) -> StockStatus:
    """OUT_OF_STOCK at zero; LOW_STOCK at or under the variant's threshold."""
    if available <= 0:
        return StockStatus.OUT_OF_STOCK
    if available <= low_stock_threshold:
        return StockStatus.LOW_STOCK
    return StockStatus.IN_STOCK


def product_stock_status(variant_statuses: Iterable[StockStatus]) -> StockStatus:
    """The best status among a product's variants: in stock if any variant is."""
    statuses = set(variant_statuses)
    for status in (StockStatus.IN_STOCK, StockStatus.LOW_STOCK):
        if status in statuses:
            return status
    return StockStatus.OUT_OF_STOCK
