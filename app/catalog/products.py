"""Back-office writes to products and variants (their stock rows are `app.inventory`'s).

Every write validates all of its input first (so the client hears of every
problem at once), then writes through the caller's session: one transaction (a
mutation's unit of work) that a failure rolls back whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cache import Cache
from app.catalog.categories import invalidate_tree
from app.catalog.common import SLUG_RULE, is_valid_slug, require_unique, slugify
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductTag,
    ProductVariant,
    Warehouse,
)
from app.catalog.version import storefront_changed
from app.database import after_commit, flush_unique
from app.errors import ErrorCode, Problems, fail, field_label
from app.inventory.levels import Level, add_levels
from app.money import parse_amount
from app.unset import UNSET, Maybe

MAX_TAGS = 50
MAX_ATTRIBUTES = 100
MAX_IMAGES = 50
MAX_VARIANTS = 100
MAX_QUANTITY = 1_000_000_000
DEFAULT_LOW_STOCK = 5


def _or_default(value: Maybe[int | None], default: int) -> int:
    return default if value is None or value is UNSET else value


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt: str = ""


@dataclass(frozen=True, slots=True)
class StockLevel:
    warehouse_id: int
    quantity: int


@dataclass(slots=True)
class VariantChanges:
    sku: Maybe[str] = UNSET
    name: Maybe[str | None] = UNSET
    price: Maybe[Decimal | None] = UNSET
    compare_at_price: Maybe[Decimal | None] = UNSET
    weight_grams: Maybe[int | None] = UNSET
    low_stock_threshold: Maybe[int | None] = UNSET
    reserve_on_add: Maybe[bool | None] = UNSET
    attributes: Maybe[list[Attribute] | None] = UNSET
    stock: list[StockLevel] = field(default_factory=list)


@dataclass(slots=True)
class ProductChanges:
    name: Maybe[str | None] = UNSET
    slug: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    category_id: Maybe[int | None] = UNSET
    tags: Maybe[list[str] | None] = UNSET
    seo_title: Maybe[str | None] = UNSET
    seo_description: Maybe[str | None] = UNSET
    attributes: Maybe[list[Attribute] | None] = UNSET
    images: Maybe[list[Image] | None] = UNSET


# --- validation -----------------------------------------------------------------


def normalize_tags(tags: list[str]) -> list[str]:
    """Trimmed, lower-cased, de-duplicated, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = " ".join(tag.split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def _text(
    value: object, limit: int, problems: Problems, *path: str, required: bool = False
) -> None:
    if value is UNSET:
        if required:
            problems.add(ErrorCode.REQUIRED, f"{field_label(path)} is required", *path)
        return
    text = value if isinstance(value, str) else ""
    if required and not text.strip():
        problems.add(ErrorCode.REQUIRED, f"{field_label(path)} must not be empty", *path)
    elif len(text) > limit:
        problems.add(
            ErrorCode.INVALID, f"{field_label(path)} is longer than {limit} characters", *path
        )


def _attributes(attributes: object, problems: Problems, *path: str) -> None:
    if not isinstance(attributes, list):
        return
    if len(attributes) > MAX_ATTRIBUTES:
        problems.add(ErrorCode.INVALID, f"at most {MAX_ATTRIBUTES} attributes", *path)
    for i, attribute in enumerate(attributes):
        _text(attribute.name, 100, problems, *path, str(i), "name", required=True)
        _text(attribute.value, 500, problems, *path, str(i), "value")


def _count(value: object, problems: Problems, *path: str) -> None:
    if isinstance(value, int) and not 0 <= value <= MAX_QUANTITY:
        problems.add(
            ErrorCode.INVALID, f"{field_label(path)} must be between 0 and {MAX_QUANTITY}", *path
        )


def _check_product(changes: ProductChanges, problems: Problems, creating: bool) -> None:
    _text(
        changes.name, 300, problems, "input", "name", required=creating or changes.name is not UNSET
    )
    if changes.slug not in (UNSET, None) and not is_valid_slug(str(changes.slug)):
        problems.add(ErrorCode.INVALID, SLUG_RULE, "input", "slug")
    _text(changes.description, 100_000, problems, "input", "description")
    _text(changes.seo_title, 300, problems, "input", "seo_title")
    _text(changes.seo_description, 1000, problems, "input", "seo_description")
    if isinstance(changes.tags, list):
        tags = normalize_tags(changes.tags)
        if len(tags) > MAX_TAGS:
            problems.add(ErrorCode.INVALID, f"at most {MAX_TAGS} tags", "input", "tags")
        if any(len(t) > 100 for t in tags):
            problems.add(ErrorCode.INVALID, "a tag is longer than 100 characters", "input", "tags")
    _attributes(changes.attributes, problems, "input", "attributes")
    if isinstance(changes.images, list):
        if len(changes.images) > MAX_IMAGES:
            problems.add(ErrorCode.INVALID, f"at most {MAX_IMAGES} images", "input", "images")
        for i, image in enumerate(changes.images):
            if not image.url.startswith(("https://", "http://")) or len(image.url) > 2000:
                problems.add(
                    ErrorCode.INVALID,
                    "url must be an http(s) URL",
                    "input",
                    "images",
                    str(i),
                    "url",
                )
            _text(image.alt, 500, problems, "input", "images", str(i), "alt")


def _check_variant(
    changes: VariantChanges,
    currency: str,
    problems: Problems,
    path: tuple[str, ...],
    creating: bool,
) -> tuple[int | None, int | None]:
    """Validates a variant's fields; returns its price and compare-at price in minor units."""
    if creating:
        _text(changes.sku, 100, problems, *path, "sku", required=True)
        if changes.price in (UNSET, None):
            problems.add(ErrorCode.REQUIRED, "price is required", *path, "price")
    elif changes.price is None:
        problems.add(ErrorCode.REQUIRED, "price cannot be removed", *path, "price")
    _text(changes.name, 300, problems, *path, "name")
    price = parse_amount(changes.price, currency, problems, *path, "price")
    compare_at = parse_amount(
        changes.compare_at_price, currency, problems, *path, "compare_at_price"
    )
    _count(changes.weight_grams, problems, *path, "weight_grams")
    _count(changes.low_stock_threshold, problems, *path, "low_stock_threshold")
    _attributes(changes.attributes, problems, *path, "attributes")
    warehouses: set[int] = set()
    for i, level in enumerate(changes.stock):
        _count(level.quantity, problems, *path, "stock", str(i), "quantity")
        if level.warehouse_id in warehouses:
            problems.add(ErrorCode.INVALID, "a warehouse is listed twice", *path, "stock", str(i))
        warehouses.add(level.warehouse_id)
    return price, compare_at


def _attribute_rows(attributes: list[Attribute] | None) -> list[dict[str, str]]:
    return [{"name": a.name.strip(), "value": a.value} for a in attributes or []]


# --- products -------------------------------------------------------------------


async def create_product(
    session: AsyncSession,
    currency: str,
    changes: ProductChanges,
    variants: list[VariantChanges],
    now: datetime,
) -> Product:
    """A new DRAFT product with its variants and stock."""
    if changes.slug in (UNSET, None) and isinstance(changes.name, str):
        changes.slug = slugify(changes.name)
    problems = Problems()
    _check_product(changes, problems, creating=True)
    if len(variants) > MAX_VARIANTS:
        problems.add(ErrorCode.INVALID, f"at most {MAX_VARIANTS} variants", "input", "variants")
    prices = [
        _check_variant(v, currency, problems, ("input", "variants", str(i)), creating=True)
        for i, v in enumerate(variants)
    ]
    skus = [str(v.sku).strip() for v in variants]
    for i, sku in enumerate(skus):
        if sku and sku in skus[:i]:
            problems.add(
                ErrorCode.ALREADY_EXISTS,
                f"SKU {sku!r} is given twice",
                "input",
                "variants",
                str(i),
                "sku",
            )
    problems.raise_if_any()

    await _require_category(session, changes.category_id)
    await require_unique(session, Product.slug, str(changes.slug), None, "input", "slug")
    await _require_free_skus(session, skus)
    await _require_warehouses(session, variants)
    product = Product(
        name=str(changes.name).strip(),
        slug=str(changes.slug),
        description=changes.description or "",
        category_id=changes.category_id or None,
        seo_title=changes.seo_title or "",
        seo_description=changes.seo_description or "",
        attributes=_attribute_rows(changes.attributes or None),
        status=ProductStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    await flush_unique(session, "input", "slug")
    assert product.id is not None
    await _replace_tags(session, product, changes.tags or [])
    await _replace_images(session, product.id, changes.images or [])
    rows = []
    for position, (spec, (price, compare_at)) in enumerate(zip(variants, prices, strict=True)):
        variant = ProductVariant(
            product_id=product.id,
            sku=str(spec.sku).strip(),
            name=spec.name or "",
            price=price or 0,
            compare_at_price=compare_at,
            weight_grams=_or_default(spec.weight_grams, 0),
            low_stock_threshold=_or_default(spec.low_stock_threshold, DEFAULT_LOW_STOCK),
            reserve_on_add=bool(spec.reserve_on_add),
            attributes=_attribute_rows(spec.attributes or None),
            position=position,
            created_at=now,
            updated_at=now,
        )
        session.add(variant)
        rows.append((variant, spec.stock))
    await flush_unique(session, "input", "variants")
    await add_levels(
        session,
        [
            Level(variant.id, level.warehouse_id, level.quantity)  # type: ignore[arg-type]
            for variant, levels in rows
            for level in levels
        ],
        now,
    )
    await _refresh_price_bounds(session, product.id)
    await session.refresh(product)
    storefront_changed(session)
    return product


async def update_product(
    session: AsyncSession, cache: Cache, product_id: int, changes: ProductChanges, now: datetime
) -> Product:
    problems = Problems()
    if changes.slug is None:
        problems.add(ErrorCode.INVALID, "slug cannot be removed", "input", "slug")
    _check_product(changes, problems, creating=False)
    problems.raise_if_any()
    product = await _get_product(session, product_id)
    if changes.category_id is not UNSET and changes.category_id != product.category_id:
        await _require_category(session, changes.category_id)
        if product.status == ProductStatus.PUBLISHED:
            # The published counts of the category tree move with the product.
            after_commit(session, lambda: invalidate_tree(cache))
        product.category_id = changes.category_id
    if isinstance(changes.slug, str) and changes.slug != product.slug:
        await require_unique(session, Product.slug, changes.slug, product_id, "input", "slug")
        product.slug = changes.slug
    if isinstance(changes.name, str):
        product.name = changes.name.strip()
    for attr in ("description", "seo_title", "seo_description"):
        value = getattr(changes, attr)
        if value is not UNSET:
            setattr(product, attr, value or "")
    if changes.attributes is not UNSET:
        product.attributes = _attribute_rows(changes.attributes)
    if changes.tags is not UNSET:
        await _replace_tags(session, product, changes.tags or [])
    if changes.images is not UNSET:
        await _replace_images(session, product_id, changes.images or [])
    product.updated_at = now
    session.add(product)
    await flush_unique(session, "input", "slug")
    storefront_changed(session)
    return product


# Allowed status changes: the one place that says which transitions exist.
_TRANSITIONS: dict[ProductStatus, frozenset[ProductStatus]] = {
    ProductStatus.DRAFT: frozenset({ProductStatus.PUBLISHED, ProductStatus.ARCHIVED}),
    ProductStatus.PUBLISHED: frozenset({ProductStatus.DRAFT, ProductStatus.ARCHIVED}),
    ProductStatus.ARCHIVED: frozenset({ProductStatus.DRAFT}),
}


async def set_product_status(
    session: AsyncSession, cache: Cache, product_id: int, target: ProductStatus, now: datetime
) -> Product:
    """Move a product to `target`; asking for the status it already has is a no-op."""
    product = await _get_product(session, product_id)
    current = ProductStatus(product.status)
    if current == target:
        return product
    if target not in _TRANSITIONS[current]:
        raise fail(
            ErrorCode.INVALID_STATE,
            f"a {current.value} product cannot become {target.value}",
            "id",
        )
    if target == ProductStatus.PUBLISHED and product.min_price is None:
        raise fail(ErrorCode.INVALID, "a product needs at least one variant to be published", "id")
    values: dict[str, object] = {"status": target, "updated_at": now}
    if target == ProductStatus.PUBLISHED and product.published_at is None:
        values["published_at"] = now
    # Conditional on the status read above: a concurrent change makes this fail cleanly.
    moved = await session.exec(
        update(Product)
        .where(col(Product.id) == product_id, col(Product.status) == current)
        .values(**values)
    )
    if moved.rowcount != 1:
        raise fail(ErrorCode.INVALID_STATE, "the product was changed meanwhile; try again", "id")
    await session.refresh(product)
    after_commit(session, lambda: invalidate_tree(cache))
    storefront_changed(session)
    return product


async def _get_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise fail(ErrorCode.NOT_FOUND, "no product with this id", "id")
    return product


async def _require_category(session: AsyncSession, category_id: int | object | None) -> None:
    if isinstance(category_id, int) and await session.get(Category, category_id) is None:
        raise fail(ErrorCode.NOT_FOUND, "the category does not exist", "input", "category_id")


async def _require_free_skus(session: AsyncSession, skus: list[str]) -> None:
    if not skus:
        return
    taken = set(
        (
            await session.exec(select(ProductVariant.sku).where(col(ProductVariant.sku).in_(skus)))
        ).all()
    )
    problems = Problems()
    for i, sku in enumerate(skus):
        if sku in taken:
            problems.add(
                ErrorCode.ALREADY_EXISTS,
                f"SKU {sku!r} is already used",
                "input",
                "variants",
                str(i),
                "sku",
            )
    problems.raise_if_any()


async def _require_warehouses(session: AsyncSession, variants: list[VariantChanges]) -> None:
    wanted = {level.warehouse_id for v in variants for level in v.stock}
    if not wanted:
        return
    found = set(
        (await session.exec(select(Warehouse.id).where(col(Warehouse.id).in_(wanted)))).all()
    )
    problems = Problems()
    for i, variant in enumerate(variants):
        for j, level in enumerate(variant.stock):
            if level.warehouse_id not in found:
                problems.add(
                    ErrorCode.NOT_FOUND,
                    "the warehouse does not exist",
                    "input",
                    "variants",
                    str(i),
                    "stock",
                    str(j),
                    "warehouse_id",
                )
    problems.raise_if_any()


async def _replace_tags(session: AsyncSession, product: Product, tags: list[str]) -> None:
    assert product.id is not None
    normalized = normalize_tags(tags)
    await session.exec(delete(ProductTag).where(col(ProductTag.product_id) == product.id))
    session.add_all(ProductTag(product_id=product.id, tag=tag) for tag in normalized)
    product.tags_text = " ".join(normalized)
    session.add(product)


async def _replace_images(session: AsyncSession, product_id: int, images: list[Image]) -> None:
    await session.exec(delete(ProductImage).where(col(ProductImage.product_id) == product_id))
    session.add_all(
        ProductImage(product_id=product_id, position=i, url=image.url, alt=image.alt or "")
        for i, image in enumerate(images)
    )


async def _refresh_price_bounds(session: AsyncSession, product_id: int) -> None:
    """Keep the product's cheapest and dearest variant prices (for sorting and filters)."""
    await session.flush()
    prices = (
        select(ProductVariant.price).where(col(ProductVariant.product_id) == product_id).subquery()
    )
    await session.exec(
        update(Product)
        .where(col(Product.id) == product_id)
        .values(
            min_price=select(func.min(prices.c.price)).scalar_subquery(),
            max_price=select(func.max(prices.c.price)).scalar_subquery(),
        )
    )


# --- variants -------------------------------------------------------------------


async def update_variant(
    session: AsyncSession, currency: str, variant_id: int, changes: VariantChanges, now: datetime
) -> ProductVariant:
    problems = Problems()
    price, compare_at = _check_variant(changes, currency, problems, ("input",), creating=False)
    problems.raise_if_any()
    variant = await session.get(ProductVariant, variant_id)
    if variant is None:
        raise fail(ErrorCode.NOT_FOUND, "no variant with this id", "id")
    if price is not None:
        variant.price = price
    if changes.compare_at_price is not UNSET:
        variant.compare_at_price = compare_at
    if changes.name is not UNSET:
        variant.name = changes.name or ""
    if changes.weight_grams not in (UNSET, None):
        variant.weight_grams = changes.weight_grams
    if changes.low_stock_threshold not in (UNSET, None):
        variant.low_stock_threshold = changes.low_stock_threshold
    if changes.reserve_on_add not in (UNSET, None):
        variant.reserve_on_add = changes.reserve_on_add
    if changes.attributes is not UNSET:
        variant.attributes = _attribute_rows(changes.attributes)
    variant.updated_at = now
    session.add(variant)
    if price is not None:
        await _refresh_price_bounds(session, variant.product_id)
    storefront_changed(session)
    return variant
