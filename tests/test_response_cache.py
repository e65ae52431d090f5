"""Public persisted queries: answered from the response cache, cacheable by CDNs, never stale."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings
from tests.conftest import REDIS_URL, Server, open_app
from tests.edge import persisted
from tests.shop import Shop, build_shop
from tests.support import Clock, GraphQLClient
from tests.test_checkout import checkout, ready_cart

SHELF = (
    "query Shelf($slug: String!) { product(slug: $slug) { name "
    "variants { sku stockStatus price { amount } } } }"
)
EXACT = "query Exact($slug: String!) { product(slug: $slug) { variants { quantityAvailable } } }"


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


async def shelf(api: GraphQLClient, slug: str, **kwargs: Any) -> tuple[dict[str, Any], int]:
    """The product as the storefront shows it, by hash over GET; and the SQL it took."""
    result = await persisted(api, SHELF, {"slug": slug}, get=True, **kwargs)
    if result.status == 404:  # first time: the client registers it, as Apollo's link does
        result = await persisted(api, SHELF, {"slug": slug}, register=True, **kwargs)
    return result.data["product"], result.statements


async def test_a_repeated_public_query_skips_everything(server: Server, shop: Shop) -> None:
    api = server.client
    registered = await persisted(api, SHELF, {"slug": "runner"}, register=True)
    assert registered.headers["cache-control"] == "private, no-store", "POST is never public"
    first = await persisted(api, SHELF, {"slug": "runner"}, get=True)
    assert first.statements == 0, "served from the response cache"
    assert first.data == registered.data
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["etag"].startswith('W/"')
    assert "Authorization" in first.headers["vary"]
    cost = first.body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == registered.body["extensions"]["cost"]["requestedQueryCost"]
    assert cost["throttleStatus"]["maximumAvailable"] == server.services.settings.cost_budget

    etag = first.headers["etag"]
    unchanged = await persisted(
        api, SHELF, {"slug": "runner"}, get=True, headers={"if-none-match": etag}
    )
    assert unchanged.status == 304
    assert unchanged.body == {}
    other = await persisted(api, SHELF, {"slug": "tote"}, get=True)
    assert other.statements > 0, "other variables, another entry"
    assert other.data["product"]["name"] == "Tote"


async def test_private_and_signed_in_requests_are_never_cached(server: Server, shop: Shop) -> None:
    api = server.client
    await persisted(api, EXACT, {"slug": "runner"}, register=True)
    await shelf(api, "runner")
    for _ in range(2):
        exact = await persisted(api, EXACT, {"slug": "runner"}, get=True)
        assert exact.statements > 0
        assert exact.headers["cache-control"] == "private, no-store"
    for _ in range(2):
        signed_in = await persisted(api.as_user(shop.staff), SHELF, {"slug": "runner"}, get=True)
        assert signed_in.statements > 0
        assert signed_in.headers["cache-control"] == "private, no-store"
        assert "etag" not in signed_in.headers
    text = await api.http.get(
        "/graphql", params={"query": SHELF, "variables": '{"slug": "runner"}'}
    )
    assert text.headers["cache-control"] == "private, no-store"


async def test_every_storefront_write_is_seen_on_the_next_read(server: Server, shop: Shop) -> None:
    api = server.client
    staff = api.as_user(shop.staff)
    product = shop.products["runner"]
    await shelf(api, "runner")
    assert (await shelf(api, "runner"))[1] == 0

    await shop.admin("ProductUpdate", {"id": product, "input": {"name": "Trail Runner"}})
    renamed, statements = await shelf(api, "runner")
    assert renamed["name"] == "Trail Runner"
    assert statements > 0
    assert (await shelf(api, "runner"))[1] == 0

    await shop.admin(
        "VariantUpdate", {"id": shop.variants["runner-42"], "input": {"price": "75.00"}}
    )
    repriced, _ = await shelf(api, "runner")
    assert repriced["variants"][0]["price"]["amount"] == "75.00"

    await staff.op("ProductUnpublish", {"id": product})
    gone, _ = await shelf(api, "runner")
    assert gone is None


async def test_stock_moves_the_cache_only_when_a_stock_status_changes(
    server: Server, shop: Shop
) -> None:
    api = server.client
    tote, _ = await shelf(api, "tote")
    assert tote["variants"][0]["stockStatus"] == "IN_STOCK"  # 10 units, low at 2

    order, errors = await checkout(api, await ready_cart(api, shop, ("tote-red", 1)))
    assert (order is not None, errors) == (True, [])
    still, statements = await shelf(api, "tote")
    assert statements == 0, "9 units are still IN_STOCK: the cached answer stands"
    assert still == tote

    await shop.admin(
        "StockSet",
        {"variantId": shop.variants["tote-red"], "warehouseId": shop.warehouses[0], "quantity": 2},
    )
    low, statements = await shelf(api, "tote")
    assert statements > 0
    assert low["variants"][0]["stockStatus"] == "LOW_STOCK"

    order, errors = await checkout(api, await ready_cart(api, shop, ("tote-red", 2)))
    assert (order is not None, errors) == (True, [])
    out, _ = await shelf(api, "tote")
    assert out["variants"][0]["stockStatus"] == "OUT_OF_STOCK"


@pytest.mark.usefixtures("backend")
async def test_a_write_in_one_worker_is_seen_by_the_other(settings: Settings, clock: Clock) -> None:
    shared = settings.with_overrides(redis_url=REDIS_URL)
    app_a, http_a, api_a = await open_app(shared, clock)
    app_b, http_b, api_b = await open_app(shared, clock)
    async with (
        app_a.router.lifespan_context(app_a),
        app_b.router.lifespan_context(app_b),
        http_a,
        http_b,
    ):
        shop = await build_shop(Server(app_a, app_a.state.services, api_a, clock))
        await shelf(api_b, "sock")
        assert (await shelf(api_b, "sock"))[1] == 0
        await shop.admin("ProductUpdate", {"id": shop.products["sock"], "input": {"name": "Wool"}})
        renamed, statements = await shelf(api_b, "sock")
        assert renamed["name"] == "Wool"
        assert statements > 0
