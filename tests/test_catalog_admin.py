"""Back-office catalog operations: staff only, validated, all or nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.ids import to_global_id
from tests.conftest import Server, make_staff
from tests.support import GraphQLClient

PRODUCT_COUNT = "{ products(first: 0) { totalCount } }"


async def warehouses(api: GraphQLClient) -> list[dict[str, Any]]:
    return (await api.op("Warehouses")).data["warehouses"]  # type: ignore[no-any-return]


async def create_category(
    api: GraphQLClient, name: str, slug: str, parent: str | None = None
) -> str:
    result = await api.op(
        "CategoryCreate", {"input": {"name": name, "slug": slug, "parentId": parent}}
    )
    payload = result.data["categoryCreate"]
    assert payload["userErrors"] == []
    return str(payload["category"]["id"])


def product_input(
    product_slug: str, category: str | None = None, **overrides: Any
) -> dict[str, Any]:
    slug = product_slug
    data: dict[str, Any] = {
        "name": f"Product {slug}",
        "slug": slug,
        "description": "A sturdy canvas tote for everyday errands",
        "categoryId": category,
        "tags": ["Canvas", "eco"],
        "seoTitle": "Tote",
        "seoDescription": "A tote",
        "attributes": [{"name": "Material", "value": "Canvas"}],
        "images": [{"url": "https://img.example.com/a.jpg", "alt": "front"}],
        "variants": [
            {"sku": f"{slug}-s", "name": "Small", "price": "19.90", "weightGrams": 300},
            {"sku": f"{slug}-l", "name": "Large", "price": "24.50", "compareAtPrice": "29.00"},
        ],
    }
    data.update(overrides)
    return data


async def create_product(api: GraphQLClient, slug: str, **overrides: Any) -> dict[str, Any]:
    result = await api.op("ProductCreate", {"input": product_input(slug, **overrides)})
    payload = result.data["productCreate"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["product"]  # type: ignore[no-any-return]


async def total_products(staff: GraphQLClient) -> int:
    return int((await staff.query(PRODUCT_COUNT)).data["products"]["totalCount"])


async def test_staff_creates_and_publishes_a_product(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    category = await create_category(staff, "Bags", "bags")
    [warehouse, *_] = await warehouses(staff) or [None]
    if warehouse is None:
        created = await staff.query(
            'mutation { warehouseCreate(input: {name: "Main", code: "main"}) '
            "{ warehouse { id code } userErrors { code } } }"
        )
        warehouse = created.data["warehouseCreate"]["warehouse"]
        assert warehouse["code"] == "MAIN"
    variants = [
        {
            "sku": "tote-s",
            "name": "Small",
            "price": "19.90",
            "stock": [{"warehouseId": warehouse["id"], "quantity": 7}],
        },
        {"sku": "tote-l", "name": "Large", "price": "24.5"},
    ]
    product = await create_product(staff, "canvas-tote", categoryId=category, variants=variants)
    assert product["status"] == "DRAFT"
    assert [v["sku"] for v in product["variants"]] == ["tote-s", "tote-l"]

    # Drafts are not in the storefront.
    assert (await api.op("ProductDetail", {"slug": "canvas-tote"})).data["product"] is None

    published = await staff.op("ProductPublish", {"id": product["id"]})
    assert published.data["productPublish"] == {
        "product": {"id": product["id"], "status": "PUBLISHED"},
        "userErrors": [],
    }
    detail = (await api.op("ProductDetail", {"slug": "canvas-tote"})).data["product"]
    assert detail["name"] == "Product canvas-tote"
    assert detail["tags"] == ["canvas", "eco"]
    assert detail["category"]["slug"] == "bags"
    assert detail["priceRange"] == {
        "min": {"amount": "19.90", "currency": "USD"},
        "max": {"amount": "24.50", "currency": "USD"},
    }
    small, large = detail["variants"]
    assert small["quantityAvailable"] == 7
    assert small["stockStatus"] == "IN_STOCK"
    assert large["quantityAvailable"] == 0
    assert large["stockStatus"] == "OUT_OF_STOCK"

    unpublished = await staff.op("ProductUnpublish", {"id": product["id"]})
    assert unpublished.data["productUnpublish"]["product"]["status"] == "DRAFT"
    assert (await api.op("ProductDetail", {"slug": "canvas-tote"})).data["product"] is None


async def test_anonymous_and_customers_are_refused_and_nothing_changes(
    server: Server, api: GraphQLClient, staff_token: str, customer_token: str
) -> None:
    staff = api.as_user(staff_token)
    before = await total_products(staff)
    for caller in (api, api.as_user(customer_token)):
        result = await caller.op("ProductCreate", {"input": product_input("sneaky")})
        payload = result.data["productCreate"]
        assert payload["product"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["PERMISSION_DENIED"]
        category = await caller.op("CategoryCreate", {"input": {"name": "Nope", "slug": "nope"}})
        assert category.data["categoryCreate"]["userErrors"][0]["code"] == "PERMISSION_DENIED"
        listing = await caller.op("Warehouses")
        assert listing.error_codes == ["PERMISSION_DENIED"]
    assert await total_products(staff) == before
    assert (await staff.query('{ category(slug: "nope") { id } }')).data["category"] is None


async def test_staff_without_the_permission_is_refused(server: Server, api: GraphQLClient) -> None:
    token = await make_staff(server, "orders@example.com", frozenset({Permission.MANAGE_ORDERS}))
    result = await api.as_user(token).op("ProductCreate", {"input": product_input("x")})
    assert result.data["productCreate"]["userErrors"][0]["code"] == "PERMISSION_DENIED"
    assert "MANAGE_PRODUCTS" in result.data["productCreate"]["userErrors"][0]["message"]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        (
            {"variants": [{"sku": "neg", "price": "-1.00"}]},
            "INVALID",
            ["input", "variants", "0", "price"],
        ),
        (
            {"variants": [{"sku": "fine", "price": "1.999"}]},
            "INVALID",
            ["input", "variants", "0", "price"],
        ),
        ({"categoryId": to_global_id("Category", 999_999)}, "NOT_FOUND", ["input", "categoryId"]),
        ({"categoryId": "not-an-id"}, "NOT_FOUND", ["input", "categoryId"]),
        ({"slug": "Bad Slug"}, "INVALID", ["input", "slug"]),
        ({"name": "  "}, "REQUIRED", ["input", "name"]),
        (
            {"variants": [{"sku": "twice", "price": "1"}, {"sku": "twice", "price": "2"}]},
            "ALREADY_EXISTS",
            ["input", "variants", "1", "sku"],
        ),
        (
            {
                "variants": [
                    {
                        "sku": "q",
                        "price": "1",
                        "stock": [{"warehouseId": "V2FyZWhvdXNlOjk5OQ==", "quantity": 1}],
                    }
                ]
            },
            "NOT_FOUND",
            ["input", "variants", "0", "stock", "0", "warehouseId"],
        ),
        (
            {"images": [{"url": "javascript:alert(1)"}]},
            "INVALID",
            ["input", "images", "0", "url"],
        ),
    ],
)
async def test_invalid_product_input_is_a_user_error_and_writes_nothing(
    api: GraphQLClient, staff_token: str, overrides: dict[str, Any], code: str, field: list[str]
) -> None:
    staff = api.as_user(staff_token)
    result = await staff.op("ProductCreate", {"input": product_input("bad-input", **overrides)})
    payload = result.data["productCreate"]
    assert payload["product"] is None
    assert {"code": code, "field": field} in [
        {"code": e["code"], "field": e["field"]} for e in payload["userErrors"]
    ]
    assert await total_products(staff) == 0


async def test_duplicate_slug_and_sku_are_already_exists(
    api: GraphQLClient, staff_token: str
) -> None:
    staff = api.as_user(staff_token)
    await create_product(staff, "original")
    same_slug = await staff.op("ProductCreate", {"input": product_input("original", variants=[])})
    assert same_slug.data["productCreate"]["userErrors"] == [
        {
            "field": ["input", "slug"],
            "message": "'original' is already used",
            "code": "ALREADY_EXISTS",
        }
    ]
    same_sku = await staff.op(
        "ProductCreate",
        {"input": product_input("copy", variants=[{"sku": "original-s", "price": "5.00"}])},
    )
    errors = same_sku.data["productCreate"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("ALREADY_EXISTS", ["input", "variants", "0", "sku"])
    ]
    assert await total_products(staff) == 1


async def test_concurrent_creates_with_one_slug_make_one_product(
    api: GraphQLClient, staff_token: str
) -> None:
    staff = api.as_user(staff_token)
    results = await asyncio.gather(
        *(
            staff.op(
                "ProductCreate",
                {"input": product_input("race", variants=[{"sku": f"race-{i}", "price": "1"}])},
            )
            for i in range(6)
        )
    )
    created = [r for r in results if r.data["productCreate"]["product"]]
    refused = [
        r.data["productCreate"]["userErrors"][0]["code"]
        for r in results
        if not r.data["productCreate"]["product"]
    ]
    assert len(created) == 1
    assert refused == ["ALREADY_EXISTS"] * 5
    assert await total_products(staff) == 1


async def test_product_update(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    first = await create_product(staff, "first")
    await create_product(staff, "second")
    updated = await staff.op(
        "ProductUpdate",
        {"id": first["id"], "input": {"name": "Renamed", "slug": "renamed", "tags": ["Sale "]}},
    )
    assert updated.data["productUpdate"] == {
        "product": {"id": first["id"], "name": "Renamed", "slug": "renamed", "status": "DRAFT"},
        "userErrors": [],
    }
    clash = await staff.op("ProductUpdate", {"id": first["id"], "input": {"slug": "second"}})
    assert clash.data["productUpdate"]["userErrors"][0]["code"] == "ALREADY_EXISTS"
    unknown = await staff.op(
        "ProductUpdate", {"id": to_global_id("Product", 424242), "input": {"name": "x"}}
    )
    assert unknown.data["productUpdate"]["userErrors"][0]["code"] == "NOT_FOUND"
    detail = await staff.query('{ product(slug: "renamed") { name tags description } }')
    assert detail.data["product"] == {
        "name": "Renamed",
        "tags": ["sale"],
        "description": "A sturdy canvas tote for everyday errands",
    }


async def test_publishing_needs_a_variant_and_archived_products_stay_out(
    api: GraphQLClient, staff_token: str
) -> None:
    staff = api.as_user(staff_token)
    empty = await create_product(staff, "empty", variants=[])
    refused = await staff.op("ProductPublish", {"id": empty["id"]})
    assert refused.data["productPublish"]["userErrors"][0]["code"] == "INVALID"
    product = await create_product(staff, "kept")
    archived = await staff.query(
        "mutation($id: ID!) { productArchive(id: $id) { product { status } userErrors { code } } }",
        {"id": product["id"]},
    )
    assert archived.data["productArchive"]["product"]["status"] == "ARCHIVED"
    again = await staff.op("ProductPublish", {"id": product["id"]})
    assert again.data["productPublish"]["userErrors"][0]["code"] == "INVALID_STATE"


async def test_variant_update_changes_price_range(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    product = await create_product(staff, "priced")
    await staff.op("ProductPublish", {"id": product["id"]})
    small = product["variants"][0]["id"]
    result = await staff.op("VariantUpdate", {"id": small, "input": {"price": "9.99"}})
    assert result.data["variantUpdate"] == {
        "variant": {"id": small, "sku": "priced-s", "price": {"amount": "9.99", "currency": "USD"}},
        "userErrors": [],
    }
    detail = (await api.op("ProductDetail", {"slug": "priced"})).data["product"]
    assert detail["priceRange"]["min"]["amount"] == "9.99"
    negative = await staff.op("VariantUpdate", {"id": small, "input": {"price": "-3"}})
    assert negative.data["variantUpdate"]["userErrors"][0]["code"] == "INVALID"
    float_price = await staff.query(
        "mutation($id: ID!) {"
        " variantUpdate(id: $id, input: {price: 9.5}) { userErrors { code } } }",
        {"id": small},
    )
    assert float_price.status == 200
    assert "Decimal" in float_price.errors[0]["message"]


async def test_stock_set(server: Server, api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    warehouse = await staff.query(
        'mutation { warehouseCreate(input: {name: "East", code: "east"}) { warehouse { id } } }'
    )
    warehouse_id = warehouse.data["warehouseCreate"]["warehouse"]["id"]
    product = await create_product(staff, "stocked")
    variant = product["variants"][0]["id"]
    result = await staff.op(
        "StockSet", {"variantId": variant, "warehouseId": warehouse_id, "quantity": 3}
    )
    assert result.data["stockSet"] == {
        "stock": {"quantity": 3, "reserved": 0, "available": 3},
        "userErrors": [],
    }
    again = await staff.op(
        "StockSet", {"variantId": variant, "warehouseId": warehouse_id, "quantity": 40}
    )
    assert again.data["stockSet"]["stock"]["quantity"] == 40
    negative = await staff.op(
        "StockSet", {"variantId": variant, "warehouseId": warehouse_id, "quantity": -1}
    )
    assert negative.data["stockSet"]["userErrors"][0]["code"] == "INVALID"
    unknown = await staff.op(
        "StockSet",
        {
            "variantId": to_global_id("ProductVariant", 9999),
            "warehouseId": warehouse_id,
            "quantity": 1,
        },
    )
    assert unknown.data["stockSet"]["userErrors"][0] == {
        "field": ["variantId"],
        "message": "no variant with this id",
        "code": "NOT_FOUND",
    }
    anonymous = await api.op(
        "StockSet", {"variantId": variant, "warehouseId": warehouse_id, "quantity": 0}
    )
    assert anonymous.data["stockSet"]["userErrors"][0]["code"] == "PERMISSION_DENIED"
    stocks = await staff.query(
        "query($id: ID!) { node(id: $id) {"
        " ... on ProductVariant { quantityAvailable stocks { quantity } } } }",
        {"id": variant},
    )
    assert stocks.data["node"] == {"quantityAvailable": 40, "stocks": [{"quantity": 40}]}

    # Inventory is for MANAGE_PRODUCTS, by whatever path: other staff see none of it.
    orders_only = api.as_user(
        await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_ORDERS}))
    )
    hidden = await orders_only.query(
        "query($v: ID!, $w: ID!) { variant: node(id: $v) { ... on ProductVariant { stocks "
        "{ quantity } } } warehouse: node(id: $w) { id } }",
        {"v": variant, "w": warehouse_id},
    )
    assert hidden.data == {"variant": {"stocks": []}, "warehouse": None}
    listed = await orders_only.query("{ warehouses { code } }")
    assert listed.error_codes == ["PERMISSION_DENIED"]
    shown = await staff.query("query($w: ID!) { node(id: $w) { id } }", {"w": warehouse_id})
    assert shown.data == {"node": {"id": warehouse_id}}


async def test_category_create_and_update(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    root = await create_category(staff, "Garden", "garden")
    child = await create_category(staff, "Tools", "tools", parent=root)
    duplicate = await staff.op("CategoryCreate", {"input": {"name": "Garden 2", "slug": "garden"}})
    assert duplicate.data["categoryCreate"]["userErrors"][0]["code"] == "ALREADY_EXISTS"
    orphan = await staff.op(
        "CategoryCreate", {"input": {"name": "Lost", "parentId": to_global_id("Category", 12345)}}
    )
    assert orphan.data["categoryCreate"]["userErrors"][0]["code"] == "NOT_FOUND"
    nameless = await staff.op("CategoryCreate", {"input": {"slug": "nameless"}})
    assert nameless.data["categoryCreate"]["userErrors"][0]["code"] == "REQUIRED"
    cycle = await staff.op("CategoryUpdate", {"id": root, "input": {"parentId": child}})
    assert cycle.data["categoryUpdate"]["userErrors"][0]["code"] == "INVALID"
    renamed = await staff.op(
        "CategoryUpdate", {"id": child, "input": {"name": "Hand Tools", "slug": "hand-tools"}}
    )
    assert renamed.data["categoryUpdate"] == {
        "category": {"id": child, "name": "Hand Tools", "slug": "hand-tools"},
        "userErrors": [],
    }
    tree = (await api.op("CategoryTree")).data["categories"]
    assert [(c["slug"], (c["parent"] or {}).get("id")) for c in tree] == [
        ("garden", None),
        ("hand-tools", root),
    ]
