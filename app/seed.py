"""Demo data: a realistic, deterministic catalog for trying the API and benchmarks.

The same arguments give the same catalog (names, prices, stock and order),
so benchmark figures are comparable between runs.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from app.accounts.permissions import ALL_PERMISSIONS
from app.accounts.users import create_staff
from app.cache import Cache
from app.catalog.categories import invalidate_tree
from app.catalog.common import slugify
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductTag,
    ProductVariant,
    Warehouse,
)
from app.catalog.version import CATALOG_FAMILY
from app.database import Database
from app.errors import DomainError
from app.inventory.levels import Level, add_levels
from app.shipping.models import ShippingMethod

# (root, [(child, nouns, price range in cents, variant axis)])
_TREE: list[tuple[str, list[tuple[str, list[str], tuple[int, int], str]]]] = [
    (
        "Apparel",
        [
            ("Tops", ["T-Shirt", "Polo", "Henley", "Blouse", "Tank Top"], (1500, 6000), "size"),
            ("Bottoms", ["Chinos", "Jeans", "Shorts", "Joggers", "Skirt"], (2500, 9000), "size"),
            (
                "Outerwear",
                ["Jacket", "Parka", "Windbreaker", "Fleece", "Vest"],
                (5000, 25000),
                "size",
            ),
            ("Shoes", ["Sneaker", "Boot", "Loafer", "Sandal", "Trail Shoe"], (4000, 18000), "shoe"),
        ],
    ),
    (
        "Home",
        [
            (
                "Kitchen",
                ["Chef Knife", "Skillet", "Cutting Board", "Kettle", "Mixing Bowl"],
                (1200, 15000),
                "color",
            ),
            (
                "Bedding",
                ["Duvet Cover", "Pillowcase Set", "Throw Blanket", "Sheet Set"],
                (2500, 20000),
                "bed",
            ),
            (
                "Decor",
                ["Vase", "Wall Clock", "Table Lamp", "Picture Frame", "Candle"],
                (900, 12000),
                "color",
            ),
        ],
    ),
    (
        "Electronics",
        [
            ("Audio", ["Headphones", "Earbuds", "Speaker", "Soundbar"], (2900, 39900), "color"),
            (
                "Phones",
                ["Phone Case", "Screen Protector", "Charging Dock", "Phone Grip"],
                (900, 6900),
                "model",
            ),
            (
                "Accessories",
                ["USB-C Cable", "Power Bank", "Laptop Sleeve", "Wireless Charger"],
                (1200, 8900),
                "color",
            ),
        ],
    ),
    (
        "Outdoors",
        [
            (
                "Camping",
                ["Tent", "Sleeping Bag", "Camp Stove", "Lantern", "Water Filter"],
                (1900, 45000),
                "capacity",
            ),
            (
                "Cycling",
                ["Helmet", "Bike Light", "Saddle Bag", "Cycling Gloves"],
                (1500, 14000),
                "size",
            ),
            (
                "Running",
                ["Running Vest", "Hydration Belt", "Running Cap", "Arm Band"],
                (1200, 9000),
                "size",
            ),
        ],
    ),
    (
        "Beauty",
        [
            (
                "Skincare",
                ["Face Serum", "Moisturizer", "Cleanser", "Sunscreen"],
                (1400, 7900),
                "volume",
            ),
            ("Fragrance", ["Eau de Parfum", "Body Mist", "Solid Perfume"], (2500, 14000), "volume"),
        ],
    ),
]

_AXES: dict[str, list[str]] = {
    "size": ["XS", "S", "M", "L", "XL"],
    "shoe": ["38", "39", "40", "41", "42", "43", "44"],
    "color": ["Black", "White", "Slate", "Sage", "Terracotta", "Navy"],
    "bed": ["Single", "Double", "Queen", "King"],
    "model": ["Model 12", "Model 13", "Model 14", "Model 15"],
    "capacity": ["1 person", "2 person", "3 person", "4 person"],
    "volume": ["30 ml", "50 ml", "100 ml"],
}
_ADJECTIVES = [
    "Classic",
    "Everyday",
    "Essential",
    "Premium",
    "Lightweight",
    "Heritage",
    "Urban",
    "Alpine",
    "Coastal",
    "Nordic",
    "Vintage",
    "Modern",
    "Rugged",
    "Soft",
    "Organic",
    "Studio",
]
_MATERIALS = [
    "Cotton",
    "Linen",
    "Merino",
    "Bamboo",
    "Recycled",
    "Canvas",
    "Leather",
    "Ceramic",
    "Oak",
    "Steel",
    "Aluminium",
    "Wool",
    "Hemp",
    "Silk",
]
_QUALITIES = ["durable", "comfortable", "versatile", "hand-finished"]
_PROMISES = ["made to last", "easy to care for", "responsibly sourced", "designed in-house"]
_TAGS = ["new", "sale", "bestseller", "eco", "gift", "limited", "staff-pick", "bundle"]

_IMAGES = "https://images.example.com/products"
BATCH = 1000
STAFF_EMAIL = "admin@example.com"


def _shipping_methods(base: datetime) -> list[dict[str, Any]]:
    common = {"active": True, "created_at": base}
    return [
        {**common, "name": "Standard", "carrier": "dhl", "base_fee": 495, "per_kg_fee": 100,
         "free_over": 10000, "min_days": 2, "max_days": 5,
         "countries": ["AT", "BE", "CA", "DE", "ES", "FR", "GB", "IT", "NL", "US"]},
        {**common, "name": "Express", "carrier": "ups", "base_fee": 1490, "per_kg_fee": 0,
         "free_over": None, "min_days": 1, "max_days": 2,
         "countries": ["DE", "FR", "NL", "US"]},
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeedReport:
    categories: int
    products: int
    variants: int
    warehouses: int
    staff_email: str | None
    staff_password: str | None


async def database_is_empty(db: Database) -> bool:
    async with db.session() as session:
        products = (await session.exec(select(func.count()).select_from(Product))).scalar_one()
        categories = (await session.exec(select(func.count()).select_from(Category))).scalar_one()
    return products == 0 and categories == 0


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def _insert(session: Any, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many rows, returning their ids in the order given."""
    ids: list[int] = []
    for chunk in _chunks(rows):
        result = await session.exec(
            insert(model).returning(model.id, sort_by_parameter_order=True), params=list(chunk)
        )
        ids.extend(result.scalars().all())
    return ids


async def seed(
    db: Database,
    cache: Cache,
    products: int = 240,
    random_seed: int = 20261122,
    staff_password: str | None = None,
    now: datetime | None = None,
) -> SeedReport:
    """Build the demo catalog (and a staff account) in an empty database."""
    rng = random.Random(random_seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.transaction() as session:
        warehouse_ids = await _insert(
            session,
            Warehouse,
            [
                {"name": "Central Warehouse", "code": "CENTRAL", "created_at": base},
                {"name": "North Depot", "code": "NORTH", "created_at": base},
            ],
        )
        leaves: list[tuple[int, str, list[str], tuple[int, int], str]] = []
        position = 0
        for root_name, children in _TREE:
            (root_id,) = await _insert(
                session,
                Category,
                [
                    {
                        "name": root_name,
                        "slug": slugify(root_name),
                        "description": f"All {root_name.lower()}",
                        "position": position,
                        "created_at": base,
                        "updated_at": base,
                        "parent_id": None,
                    }
                ],
            )
            position += 1
            for child_name, nouns, prices, axis in children:
                slug = slugify(
                    child_name if child_name != "Accessories" else f"{root_name} {child_name}"
                )
                (child_id,) = await _insert(
                    session,
                    Category,
                    [
                        {
                            "name": child_name,
                            "slug": slug,
                            "description": f"{child_name} in {root_name.lower()}",
                            "position": position,
                            "created_at": base,
                            "updated_at": base,
                            "parent_id": root_id,
                        }
                    ],
                )
                position += 1
                leaves.append((child_id, child_name, nouns, prices, axis))

        product_rows: list[dict[str, Any]] = []
        plans: list[tuple[list[str], list[int], list[str]]] = []
        for i in range(products):
            category_id, category_name, nouns, (low, high), axis = leaves[i % len(leaves)]
            name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {rng.choice(nouns)}"
            slug = f"{slugify(name)}-{i + 1}"
            tags = sorted({*rng.sample(_TAGS, rng.randint(1, 3)), slugify(category_name)})
            price = rng.randint(low // 100, high // 100) * 100 - rng.choice([1, 5, 0])
            options = rng.sample(_AXES[axis], min(rng.randint(2, 4), len(_AXES[axis])))
            prices = [price + rng.choice([0, 0, 0, 500, 1000]) for _ in options]
            created = base + timedelta(minutes=7 * i)
            status = ProductStatus.DRAFT if i % 19 == 7 else ProductStatus.PUBLISHED
            product_rows.append(
                {
                    "category_id": category_id,
                    "status": status.value,
                    "name": name,
                    "slug": slug,
                    "description": (
                        f"The {name.lower()} is part of our {category_name.lower()} range: "
                        f"{rng.choice(_QUALITIES)} and {rng.choice(_PROMISES)}."
                    ),
                    "seo_title": f"{name} | Demo Shop",
                    "seo_description": f"Buy the {name} online.",
                    "tags_text": " ".join(tags),
                    "attributes": [
                        {"name": "Material", "value": name.split()[1]},
                        {
                            "name": "Care",
                            "value": rng.choice(["Machine wash", "Hand wash", "Wipe clean"]),
                        },
                    ],
                    "min_price": min(prices),
                    "max_price": max(prices),
                    "published_at": created if status == ProductStatus.PUBLISHED else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            plans.append((options, prices, tags))
        product_ids = await _insert(session, Product, product_rows)

        tag_rows, image_rows, variant_rows = [], [], []
        for product_id, row, (options, prices, tags) in zip(
            product_ids, product_rows, plans, strict=True
        ):
            tag_rows.extend({"product_id": product_id, "tag": t} for t in tags)
            for position in range(rng.randint(1, 3)):
                image_rows.append(
                    {
                        "product_id": product_id,
                        "position": position,
                        "url": f"{_IMAGES}/{row['slug']}/{position + 1}.jpg",
                        "alt": f"{row['name']}, view {position + 1}",
                    }
                )
            for position, (option, price) in enumerate(zip(options, prices, strict=True)):
                variant_rows.append(
                    {
                        "product_id": product_id,
                        "sku": f"{row['slug'][:40].upper()}-{slugify(option).upper()}",
                        "name": option,
                        "price": price,
                        "compare_at_price": price + 1000 if "sale" in tags else None,
                        "weight_grams": rng.randint(50, 3000),
                        "low_stock_threshold": 5,
                        "reserve_on_add": False,
                        "attributes": [{"name": "Option", "value": option}],
                        "position": position,
                        "created_at": row["created_at"],
                        "updated_at": row["created_at"],
                    }
                )
        await session.exec(insert(ProductTag), params=tag_rows)
        await _insert(session, ProductImage, image_rows)
        variant_ids = await _insert(session, ProductVariant, variant_rows)

        # Every 17th product is sold out in every variant; others vary per variant.
        sold_out = {product_ids[i] for i in range(3, len(product_ids), 17)}
        stock_levels = []
        for variant_id, variant in zip(variant_ids, variant_rows, strict=True):
            roll = rng.random()
            if roll < 0.08 or variant["product_id"] in sold_out:
                levels = (0, 0)  # out of stock everywhere
            elif roll < 0.20:
                levels = (rng.randint(1, 3), 0)  # low stock
            else:
                levels = (rng.randint(6, 120), rng.randint(0, 60))
            stock_levels.extend(
                Level(variant_id, w, q) for w, q in zip(warehouse_ids, levels, strict=True)
            )
        await add_levels(session, stock_levels, base)
        # Carts of the demo shop can check out: a method for Europe and North America, and
        # a faster one for a few countries, sent with carriers of the default CARRIERS.
        await _insert(session, ShippingMethod, _shipping_methods(base))

    await invalidate_tree(cache)
    await cache.invalidate(CATALOG_FAMILY)
    password = staff_password or secrets.token_urlsafe(12)
    try:
        await create_staff(
            db, cache, STAFF_EMAIL, password, ALL_PERMISSIONS, now or datetime.now(UTC)
        )
        email, shown = STAFF_EMAIL, password
    except DomainError:
        email, shown = None, None  # kept from an earlier seed
    return SeedReport(
        categories=len(leaves) + len(_TREE),
        products=len(product_ids),
        variants=len(variant_ids),
        warehouses=len(warehouse_ids),
        staff_email=email,
        staff_password=shown,
    )
