"""The category tree: read from the cache, written through here only.

The whole tree with published-product counts is small and read on almost
every storefront request, so it is cached as one entry and invalidated by
every write that changes a category or a product's place in the counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cache import Cache
from app.catalog.common import SLUG_RULE, is_valid_slug, require_unique, slugify
from app.catalog.models import Category, Product, ProductStatus
from app.catalog.version import storefront_changed
from app.database import Database, after_commit, flush_unique
from app.errors import ErrorCode, Problems, fail
from app.unset import UNSET, Maybe

CATEGORY_FAMILY = "categories"


@dataclass(slots=True)
class CategoryNode:
    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str
    position: int
    direct_count: int
    product_count: int = 0
    children: list[int] = field(default_factory=list)


class CategoryTree:
    """An immutable snapshot of the tree, with product counts rolled up."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.nodes: dict[int, CategoryNode] = {r["id"]: CategoryNode(**r) for r in rows}
        self.by_slug = {n.slug: n for n in self.nodes.values()}
        self.roots: list[int] = []
        for node in self.nodes.values():  # rows come ordered by position, name, id
            if node.parent_id is None or node.parent_id not in self.nodes:
                self.roots.append(node.id)
            else:
                self.nodes[node.parent_id].children.append(node.id)
        for node in self.nodes.values():
            node.product_count = sum(
                self.nodes[i].direct_count for i in self.descendant_ids(node.id)
            )

    def get(self, category_id: int) -> CategoryNode | None:
        return self.nodes.get(category_id)

    def ordered(self) -> Iterator[CategoryNode]:
        """Depth-first, each parent before its children."""
        stack = list(reversed(self.roots))
        while stack:
            node = self.nodes[stack.pop()]
            yield node
            stack.extend(reversed(node.children))

    def descendant_ids(self, category_id: int) -> list[int]:
        """The category and everything under it."""
        found: list[int] = []
        stack = [category_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.nodes[current].children)
        return found

    def ancestors(self, category_id: int) -> list[CategoryNode]:
        """From the root down to the parent of `category_id`."""
        chain: list[CategoryNode] = []
        seen = {category_id}
        parent = self.nodes[category_id].parent_id
        while parent is not None and parent in self.nodes and parent not in seen:
            seen.add(parent)
            chain.append(self.nodes[parent])
            parent = self.nodes[parent].parent_id
        chain.reverse()
        return chain


async def load_tree(db: Database, cache: Cache) -> CategoryTree:
    return CategoryTree(await cache.get_or_load(CATEGORY_FAMILY, "tree", lambda: _read_tree(db)))


async def _read_tree(db: Database) -> list[dict[str, Any]]:
    async with db.session() as session:
        categories = (
            await session.exec(
                select(Category).order_by(
                    col(Category.position), col(Category.name), col(Category.id)
                )
            )
        ).all()
        counts = dict(
            (
                await session.exec(
                    select(Product.category_id, func.count())
                    .where(
                        Product.status == ProductStatus.PUBLISHED,
                        col(Product.category_id).is_not(None),
                    )
                    .group_by(col(Product.category_id))
                )
            ).all()
        )
    return [
        {
            "id": c.id,
            "parent_id": c.parent_id,
            "name": c.name,
            "slug": c.slug,
            "description": c.description,
            "position": c.position,
            "direct_count": counts.get(c.id, 0),
        }
        for c in categories
    ]


async def invalidate_tree(cache: Cache) -> None:
    await cache.invalidate(CATEGORY_FAMILY)


@dataclass(slots=True)
class CategoryChanges:
    name: Maybe[str] = UNSET
    slug: Maybe[str] = UNSET
    description: Maybe[str | None] = UNSET
    parent_id: Maybe[int | None] = UNSET
    position: Maybe[int] = UNSET


def _check(changes: CategoryChanges, problems: Problems, creating: bool) -> None:
    if changes.name is not UNSET:
        if not changes.name or not changes.name.strip():
            problems.add(ErrorCode.REQUIRED, "name must not be empty", "input", "name")
        elif len(changes.name.strip()) > 200:
            problems.add(ErrorCode.INVALID, "name is longer than 200 characters", "input", "name")
    elif creating:
        problems.add(ErrorCode.REQUIRED, "name is required", "input", "name")
    if changes.slug is not UNSET and not is_valid_slug(changes.slug):
        problems.add(ErrorCode.INVALID, SLUG_RULE, "input", "slug")


async def create_category(
    session: AsyncSession, cache: Cache, changes: CategoryChanges, now: datetime
) -> Category:
    problems = Problems()
    if changes.slug is UNSET and changes.name:
        changes.slug = slugify(changes.name)
    _check(changes, problems, creating=True)
    problems.raise_if_any()
    if (
        changes.parent_id not in (UNSET, None)
        and await session.get(Category, changes.parent_id) is None
    ):
        raise fail(ErrorCode.NOT_FOUND, "the parent category does not exist", "input", "parent_id")
    await require_unique(session, Category.slug, str(changes.slug), None, "input", "slug")
    category = Category(
        name=str(changes.name).strip(),
        slug=str(changes.slug),
        description=changes.description or "",
        parent_id=changes.parent_id or None,
        position=changes.position if changes.position is not UNSET else 0,
        created_at=now,
        updated_at=now,
    )
    session.add(category)
    await flush_unique(session, "input", "slug")
    after_commit(session, lambda: invalidate_tree(cache))
    storefront_changed(session)
    return category


async def update_category(
    session: AsyncSession, cache: Cache, category_id: int, changes: CategoryChanges, now: datetime
) -> Category:
    problems = Problems()
    _check(changes, problems, creating=False)
    problems.raise_if_any()
    category = await session.get(Category, category_id)
    if category is None:
        raise fail(ErrorCode.NOT_FOUND, "no category with this id", "id")
    if changes.parent_id is not UNSET:
        await _check_parent(session, category_id, changes.parent_id)
        category.parent_id = changes.parent_id
    if changes.slug is not UNSET and changes.slug != category.slug:
        await require_unique(session, Category.slug, changes.slug, category_id, "input", "slug")
        category.slug = changes.slug
    if changes.name is not UNSET:
        category.name = str(changes.name).strip()
    if changes.description is not UNSET:
        category.description = changes.description or ""
    if changes.position is not UNSET:
        category.position = changes.position
    category.updated_at = now
    session.add(category)
    await flush_unique(session, "input", "slug")
    after_commit(session, lambda: invalidate_tree(cache))
    storefront_changed(session)
    return category


async def _check_parent(session: AsyncSession, category_id: int, parent_id: int | None) -> None:
    """A parent must exist and must not be the category itself or under it."""
    if parent_id is None:
        return
    current: int | None = parent_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current == category_id:
            raise fail(
                ErrorCode.INVALID, "a category cannot be moved under itself", "input", "parent_id"
            )
        seen.add(current)
        row = await session.get(Category, current)
        if row is None:
            raise fail(
                ErrorCode.NOT_FOUND, "the parent category does not exist", "input", "parent_id"
            )
        current = row.parent_id
