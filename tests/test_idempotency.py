"""Idempotency-Key: a mutation runs once; retries (even concurrent ones) get its answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import Server, from_address
from tests.shop import Shop, build_shop, sql
from tests.support import GraphQLClient, operation
from tests.test_checkout import ready_cart


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


async def send(
    api: GraphQLClient, name: str, variables: dict[str, Any], key: str, token: str | None = None
) -> httpx.Response:
    headers = {"idempotency-key": key}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await api.http.post(
        "/graphql", json={"query": operation(name), "variables": variables}, headers=headers
    )


async def new_cart(api: GraphQLClient) -> str:
    result = await api.op("CartCreate", {"lines": []})
    return str(result.data["cartCreate"]["cart"]["id"])


async def test_concurrent_duplicates_of_cart_lines_add_run_once(
    api: GraphQLClient, shop: Shop
) -> None:
    cart = await new_cart(api)
    add = {"cartId": cart, "lines": [{"variantId": shop.variants["sock-3"], "quantity": 2}]}
    answers = await asyncio.gather(
        *(send(api, "CartLinesAdd", add, "add-socks-1") for _ in range(5))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1, "every retry gets the same answer"
    assert sum(1 for a in answers if a.headers.get("idempotent-replayed")) == 4
    lines = (await api.op("Cart", {"id": cart})).data["cart"]["lines"]
    assert [line["quantity"] for line in lines] == [2], "added once"

    later = await send(api, "CartLinesAdd", add, "add-socks-1")
    assert later.headers["idempotent-replayed"] == "true"
    assert later.content == answers[0].content


async def test_concurrent_duplicates_of_checkout_complete_place_one_order(
    server: Server, api: GraphQLClient, shop: Shop
) -> None:
    cart = await ready_cart(api, shop, ("runner-42", 1))
    variables = {
        "cartId": cart,
        "input": {"acceptTerms": True, "idempotencyKey": "c-1", "email": "g@example.com"},
    }
    answers = await asyncio.gather(
        *(send(api, "CheckoutComplete", variables, "checkout-1") for _ in range(4))
    )
    bodies = [a.json() for a in answers]
    order = bodies[0]["data"]["checkoutComplete"]["order"]
    assert order is not None
    assert all(b["data"]["checkoutComplete"]["order"] == order for b in bodies)
    assert sum(1 for a in answers if a.headers.get("idempotent-replayed")) == 3
    assert await sql(server, "SELECT count(*) FROM shop_order") == [(1,)]


async def test_the_same_key_with_another_request_is_refused(api: GraphQLClient, shop: Shop) -> None:
    cart = await new_cart(api)
    first = {"cartId": cart, "lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]}
    second = {"cartId": cart, "lines": [{"variantId": shop.variants["sock-3"], "quantity": 9}]}
    assert (await send(api, "CartLinesAdd", first, "k-2")).status_code == 200
    refused = await send(api, "CartLinesAdd", second, "k-2")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    lines = (await api.op("Cart", {"id": cart})).data["cart"]["lines"]
    assert [line["quantity"] for line in lines] == [1]
    bad = await send(api, "CartLinesAdd", first, "x" * 300)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_INVALID"


async def test_keys_belong_to_their_caller(server: Server, api: GraphQLClient, shop: Shop) -> None:
    cart = await new_cart(api)
    add = {"cartId": cart, "lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]}
    mine = await send(api, "CartLinesAdd", add, "shared-key")
    async with from_address(server, "203.0.113.9") as stranger:
        theirs = await send(stranger, "CartLinesAdd", add, "shared-key")
    assert "idempotent-replayed" not in theirs.headers, "another caller's answer is not theirs"
    customer = await server.client.op(
        "AccountRegister",
        {"input": {"email": "k@example.com", "password": "correct horse battery 9"}},
    )
    token = customer.data["accountRegister"]["token"]["accessToken"]
    signed_in = await send(api, "CartLinesAdd", add, "shared-key", token=token)
    assert "idempotent-replayed" not in signed_in.headers
    again = await send(api, "CartLinesAdd", add, "shared-key")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == mine.content


async def test_queries_ignore_the_key(api: GraphQLClient) -> None:
    for _ in range(2):
        response = await api.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"idempotency-key": "q"}
        )
        assert "idempotent-replayed" not in response.headers
