"""A small shop built through the back-office API, for cart and checkout tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from tests.conftest import Server, make_staff
from tests.support import GraphQLClient, Result

WAREHOUSE = (
    "mutation($n: String!, $c: String!) { warehouseCreate(input: {name: $n, code: $c})"
    " { warehouse { id } userErrors { code } } }"
)

ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postalCode": "10117",
    "country": "DE",
}


@dataclass
class Shop:
    api: GraphQLClient
    staff: str
    warehouses: list[str] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)  # sku -> id
    products: dict[str, str] = field(default_factory=dict)  # slug -> id
    shipping: dict[str, str] = field(default_factory=dict)  # name -> id

    async def admin(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = await self.api.op(name, variables, token=self.staff)
        payload = next(iter(result.data.values()))
        assert payload["userErrors"] == [], (name, payload["userErrors"])
        return payload  # type: ignore[no-any-return]

    async def product(
        self,
        slug: str,
        variants: list[tuple[str, str, list[int]]],
        category: str = "shoes",
        weight: int = 500,
        reserve_on_add: bool = False,
    ) -> None:
        """`variants`: (sku, price, stock per warehouse)."""
        payload = await self.admin(
            "ProductCreate",
            {
                "input": {
                    "name": slug.replace("-", " ").title(),
                    "slug": slug,
                    "categoryId": self.categories[category],
                    "variants": [
                        {
                            "sku": sku,
                            "name": sku.upper(),
                            "price": price,
                            "weightGrams": weight,
                            "lowStockThreshold": 2,
                            "reserveOnAdd": reserve_on_add,
                            "stock": [
                                {"warehouseId": w, "quantity": q}
                                for w, q in zip(self.warehouses, stock, strict=False)
                            ],
                        }
                        for sku, price, stock in variants
                    ],
                }
            },
        )
        product = payload["product"]
        self.products[slug] = product["id"]
        for variant in product["variants"]:
            self.variants[variant["sku"]] = variant["id"]
        await self.admin("ProductPublish", {"id": product["id"]})

    async def shipping_method(self, name: str, **fields: Any) -> str:
        data = {"name": name, "carrier": "DHL", "countries": ["DE", "AT"], "baseFee": "4.90"}
        data.update(fields)
        payload = await self.admin("ShippingMethodCreate", {"input": data})
        self.shipping[name] = payload["shippingMethod"]["id"]
        return str(payload["shippingMethod"]["id"])

    async def promotion(self, **fields: Any) -> dict[str, Any]:
        payload = await self.admin("PromotionCreate", {"input": fields})
        return payload["promotion"]  # type: ignore[no-any-return]


async def build_shop(server: Server) -> Shop:
    api = server.client
    shop = Shop(api, await make_staff(server, "shopkeeper@example.com"))
    for name, code in (("Berlin", "BER"), ("Hamburg", "HAM")):
        result = await api.query(WAREHOUSE, {"n": name, "c": code}, token=shop.staff)
        shop.warehouses.append(result.data["warehouseCreate"]["warehouse"]["id"])
    for name, parent in (("Apparel", None), ("Shoes", "apparel"), ("Bags", "apparel")):
        payload = await shop.admin(
            "CategoryCreate",
            {"input": {"name": name, "parentId": shop.categories.get(parent or "")}},
        )
        shop.categories[name.lower()] = payload["category"]["id"]
    await shop.product("runner", [("runner-42", "80.00", [5, 5]), ("runner-43", "80.00", [0, 2])])
    await shop.product("tote", [("tote-red", "19.99", [10, 0])], category="bags", weight=300)
    await shop.product("sock", [("sock-3", "3.33", [50, 50])], weight=40)
    await shop.shipping_method("Standard", perKgFee="1.00", freeOver="150.00", minDays=2, maxDays=4)
    await shop.shipping_method("Express", baseFee="14.90", countries=["DE"], minDays=1, maxDays=1)
    return shop


async def cart_op(
    api: GraphQLClient, name: str, variables: dict[str, Any], token: str | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(cart, userErrors) of a cart mutation."""
    result: Result = await api.op(name, variables, token=token)
    payload = next(iter(result.data.values()))
    return payload["cart"], payload["userErrors"]


async def sql(server: Server, query: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query, for checking what the API wrote."""
    async with server.services.db.session() as session:
        result = await session.exec(text(query), params=params)  # type: ignore[call-overload]
        return [tuple(row) for row in result.all()]


async def stock_rows(server: Server, sku: str) -> list[tuple[int, int]]:
    """(quantity, reserved) of a variant in each warehouse, sorted."""
    rows = await sql(
        server,
        "SELECT s.quantity, s.reserved FROM stock s JOIN product_variant v"
        " ON v.id = s.variant_id WHERE v.sku = :sku",
        sku=sku,
    )
    return sorted(rows)  # type: ignore[arg-type]
