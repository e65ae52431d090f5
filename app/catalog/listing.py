"""Product listings: filters, sorts and keyset pagination.

A cursor holds the sort key of the last row seen (as the database computed
it), so the next page starts strictly after it: products added meanwhile
neither shift a page nor appear twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.catalog.models import Product, ProductStatus, ProductTag, ProductVariant
from app.catalog.search import search_join, search_terms
from app.database import Database
from app.ids import InvalidCursor, decode_cursor, encode_cursor
from app.inventory.models import Stock


class ProductSort(StrEnum):
    NEWEST = "NEWEST"
    NAME_ASC = "NAME_ASC"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"
    RELEVANCE = "RELEVANCE"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """What a listing may contain. `category_ids=()` matches nothing."""

    statuses: frozenset[str] = frozenset({ProductStatus.PUBLISHED})
    category_ids: tuple[int, ...] | None = None
    search: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    tags: tuple[str, ...] = ()

    @property
    def terms(self) -> list[str]:
        return search_terms(self.search) if self.search else []


@dataclass(slots=True)
class ProductPage:
    products: list[Product] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next_page: bool = False


def _as_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor time without zone")
    return parsed


@dataclass(frozen=True, slots=True)
class _Ordering:
    name: str
    descending: bool
    keys: Callable[[ColumnElement[float] | None], list[ColumnElement[Any]]]
    parse: tuple[Callable[[Any], Any], ...]


def _price_key(_rank: object) -> list[ColumnElement[Any]]:
    return [func.coalesce(col(Product.min_price), 0), col(Product.id)]


_ORDERINGS: dict[ProductSort, _Ordering] = {
    ProductSort.NEWEST: _Ordering(
        "NEWEST", True, lambda _r: [col(Product.created_at), col(Product.id)], (_as_datetime, int)
    ),
    ProductSort.NAME_ASC: _Ordering(
        "NAME_ASC", False, lambda _r: [func.lower(col(Product.name)), col(Product.id)], (str, int)
    ),
    ProductSort.PRICE_ASC: _Ordering("PRICE_ASC", False, _price_key, (int, int)),
    ProductSort.PRICE_DESC: _Ordering("PRICE_DESC", True, _price_key, (int, int)),
    ProductSort.RELEVANCE: _Ordering(
        "RELEVANCE",
        False,
        lambda rank: [rank, col(Product.id)],
        (float, int),  # type: ignore[list-item]
    ),
}


def _filtered(
    statement: Select[Any], flt: ProductFilter, dialect: str
) -> tuple[Select[Any], ColumnElement[float] | None]:
    """Apply the filter; returns the statement and the search rank (when searching)."""
    conditions: list[ColumnElement[bool]] = [col(Product.status).in_(sorted(flt.statuses))]
    if flt.category_ids is not None:
        conditions.append(col(Product.category_id).in_(flt.category_ids))
    if flt.min_price is not None or flt.max_price is not None:
        price_ok = [col(ProductVariant.product_id) == col(Product.id)]
        if flt.min_price is not None:
            price_ok.append(col(ProductVariant.price) >= flt.min_price)
        if flt.max_price is not None:
            price_ok.append(col(ProductVariant.price) <= flt.max_price)
        conditions.append(exists().where(*price_ok))
    if flt.in_stock is not None:
        available = (
            exists()
            .where(col(ProductVariant.product_id) == col(Product.id))
            .where(col(Stock.variant_id) == col(ProductVariant.id))
            .where(Stock.available > 0)
        )
        conditions.append(available if flt.in_stock else ~available)
    if flt.tags:
        conditions.append(
            exists().where(
                col(ProductTag.product_id) == col(Product.id), col(ProductTag.tag).in_(flt.tags)
            )
        )
    rank = None
    terms = flt.terms
    if terms:
        search = search_join(dialect, terms)
        if search.subquery is not None:
            statement = statement.join(
                search.subquery, search.subquery.c.product_id == col(Product.id)
            )
        if search.condition is not None:
            conditions.append(search.condition)
        rank = search.rank
    return statement.where(and_(*conditions)), rank


async def count_products(db: Database, flt: ProductFilter) -> int:
    if flt.category_ids == ():
        return 0
    statement, _rank = _filtered(select(func.count()).select_from(Product), flt, db.dialect)
    async with db.session() as session:
        return int((await session.exec(statement)).scalar_one())


async def find_products(
    db: Database, flt: ProductFilter, sort: ProductSort, first: int, after: str | None
) -> ProductPage:
    """One page of products; raises InvalidCursor for a cursor of another ordering."""
    if sort == ProductSort.RELEVANCE and not flt.terms:
        sort = ProductSort.NEWEST  # relevance means nothing without search words
    ordering = _ORDERINGS[sort]
    statement, rank = _filtered(select(Product), flt, db.dialect)
    keys = ordering.keys(rank)
    statement = statement.add_columns(*keys)
    if after is not None:
        raw = decode_cursor(after, ordering.name, len(keys))
        try:
            values = [parse(v) for parse, v in zip(ordering.parse, raw, strict=True)]
        except (TypeError, ValueError):
            raise InvalidCursor("after is not a valid cursor") from None
        bound = tuple_(
            *(bindparam(None, v, type_=k.type) for k, v in zip(keys, values, strict=True))
        )
        statement = statement.where(
            tuple_(*keys) < bound if ordering.descending else tuple_(*keys) > bound
        )
    statement = statement.order_by(*(k.desc() if ordering.descending else k.asc() for k in keys))
    page = ProductPage()
    if flt.category_ids == ():
        return page
    async with db.session() as session:
        rows = (await session.exec(statement.limit(first + 1))).all()
    page.has_next_page = len(rows) > first
    for row in rows[:first]:
        product, *key_values = row
        page.products.append(product)
        page.cursors.append(encode_cursor(ordering.name, [_jsonable(v) for v in key_values]))
    return page


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
