"""Purchase-path scenarios: a new cart, a line added to a cart, and checkout with a coupon.

What they need is prepared untimed: the back office gets a shipping method and a coupon,
and CartLinesAdd and CheckoutComplete get one cart of their own per request, since the same
cart checked out twice would answer from the first order instead of placing a new one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bench.load import Scenario, post

LINES = 3  # per created and per checked-out cart
PAGE = 100  # the server's cap on `first`
COUPON = "BENCH10"
EMAIL = "bench@example.com"
# Germany: the shipping method below serves it, and it has VAT, so checkout computes tax.
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postalCode": "10117",
    "country": "DE",
}
SHIPPING_METHOD = {
    "name": "Standard",
    "carrier": "DHL",
    "countries": ["DE"],
    "baseFee": "4.90",
    "perKgFee": "1.00",
}
PROMOTION = {"name": "Bench 10", "kind": "PERCENTAGE", "value": "10", "couponCode": COUPON}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Operations:
    storefront: dict[str, str]
    account: dict[str, str]
    admin: dict[str, str]


@dataclass(frozen=True, slots=True)
class Plan:
    staff_email: str
    staff_password: str
    concurrency: int
    # Measured requests wanted of each prepared-cart scenario, and warm-up requests before them.
    carts: int
    warmup_carts: int


class Pool:
    """Variables prepared for one request each, handed out in order."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items
        self._taken = 0

    def take(self, _number: int) -> dict[str, Any]:
        # Not indexed by the number: warm-up and measurement both count from 0.
        item = self._items[self._taken]
        self._taken += 1
        return item

    def remaining(self) -> int:
        return len(self._items) - self._taken


async def build_purchase_scenarios(
    client: httpx.AsyncClient,
    operations: Operations,
    plan: Plan,
    progress: Callable[[str], None],
) -> list[Scenario]:
    storefront = operations.storefront
    shipping_method = await _set_up_shop(client, operations, plan)
    wanted = plan.carts + plan.warmup_carts
    variants = await _in_stock_variants(client, storefront["ProductList"], LINES * wanted)
    if len(variants) < LINES:
        raise RuntimeError(f"the catalog has fewer than {LINES} variants in stock to benchmark")
    # Every checked-out line gets a variant of its own: then no checkout waits on another's
    # stock-row lock, and none runs out of stock, however little a variant has.
    checkouts = min(wanted, len(variants) // LINES)
    if checkouts < wanted:
        progress(f"only {len(variants)} variants in stock: {checkouts} carts to check out")
    checkout_warmup = plan.warmup_carts * checkouts // wanted

    started = time.perf_counter()
    add_to = await _bounded(
        plan.concurrency,
        [_lines_add_job(client, storefront, _cycle(variants, LINES * i)) for i in range(wanted)],
    )
    progress(f"prepared {wanted} carts for CartLinesAdd in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    to_check_out = await _bounded(
        plan.concurrency,
        [
            _checkout_job(
                client, storefront, variants[LINES * i : LINES * (i + 1)], shipping_method
            )
            for i in range(checkouts)
        ],
    )
    progress(
        f"prepared {checkouts} carts for CheckoutComplete "
        f"(lines, address, shipping method, coupon) in {time.perf_counter() - started:.1f} s"
    )

    adds = Pool(add_to)
    orders = Pool(to_check_out)
    return [
        Scenario(
            f"CartCreate ({LINES} lines)",
            storefront["CartCreate"],
            lambda n: {"lines": _lines(_cycle(variants, LINES * n))},
        ),
        Scenario(
            f"CartLinesAdd ({LINES - 1} lines + 1)",
            storefront["CartLinesAdd"],
            adds.take,
            remaining=adds.remaining,
            warmup_requests=plan.warmup_carts,
        ),
        Scenario(
            f"CheckoutComplete ({LINES} lines + coupon)",
            storefront["CheckoutComplete"],
            orders.take,
            remaining=orders.remaining,
            warmup_requests=checkout_warmup,
        ),
    ]


async def _set_up_shop(client: httpx.AsyncClient, operations: Operations, plan: Plan) -> str:
    """Signs in as staff and creates the shipping method and the coupon; the method's id."""
    signed_in = await _mutate(
        client,
        operations.account["TokenCreate"],
        {"email": plan.staff_email, "password": plan.staff_password},
    )
    staff = {"Authorization": f"Bearer {signed_in['token']['accessToken']}"}
    created = await _mutate(
        client, operations.admin["ShippingMethodCreate"], {"input": SHIPPING_METHOD}, staff
    )
    await _mutate(client, operations.admin["PromotionCreate"], {"input": PROMOTION}, staff)
    return str(created["shippingMethod"]["id"])


async def _in_stock_variants(client: httpx.AsyncClient, query: str, wanted: int) -> list[str]:
    """Ids of at least `wanted` IN_STOCK variants, or of all there are, in catalog order."""
    found: list[str] = []
    after: str | None = None
    while len(found) < wanted:
        variables = {"first": PAGE, "after": after, "filter": {"inStock": True}}
        page = (await post(client, query, variables))["products"]
        found.extend(
            variant["id"]
            for edge in page["edges"]
            for variant in edge["node"]["variants"]
            if variant["stockStatus"] == "IN_STOCK"
        )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return found


def _lines_add_job(
    client: httpx.AsyncClient, storefront: dict[str, str], variant_ids: list[str]
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A cart with all lines but the last; the variables that add the last one to it."""

    async def job() -> dict[str, Any]:
        created = await _mutate(
            client, storefront["CartCreate"], {"lines": _lines(variant_ids[:-1])}
        )
        return {"cartId": created["cart"]["id"], "lines": _lines(variant_ids[-1:])}

    return job


def _checkout_job(
    client: httpx.AsyncClient,
    storefront: dict[str, str],
    variant_ids: list[str],
    shipping_method: str,
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A cart ready to check out, as a shopper leaves it; the variables that check it out."""

    async def job() -> dict[str, Any]:
        created = await _mutate(client, storefront["CartCreate"], {"lines": _lines(variant_ids)})
        cart_id = created["cart"]["id"]
        await _mutate(
            client, storefront["CartShippingAddressSet"], {"cartId": cart_id, "address": ADDRESS}
        )
        await _mutate(
            client,
            storefront["CartShippingMethodSelect"],
            {"cartId": cart_id, "shippingMethodId": shipping_method},
        )
        await _mutate(client, storefront["CartCouponApply"], {"cartId": cart_id, "code": COUPON})
        checkout = {"acceptTerms": True, "idempotencyKey": uuid.uuid4().hex, "email": EMAIL}
        return {"cartId": cart_id, "input": checkout}

    return job


def _cycle(variants: Sequence[str], start: int) -> list[str]:
    """LINES variants from `start` on, wrapping; distinct as there are at least LINES."""
    return [variants[(start + k) % len(variants)] for k in range(LINES)]


def _lines(variant_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"variantId": variant_id, "quantity": 1} for variant_id in variant_ids]


async def _mutate(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A set-up mutation's payload; a userError stops the benchmark, whose set-up it voids."""
    data = await post(client, query, variables, headers)
    payload: dict[str, Any]
    name, payload = next(iter(data.items()))
    if payload["userErrors"]:
        raise RuntimeError(f"{name}: {payload['userErrors']}")
    return payload


async def _bounded(concurrency: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Runs the jobs, `concurrency` at a time; their results in the jobs' order."""
    # Not a task per job: hundreds queued on the connection pool could hit its timeout.
    results: dict[int, T] = {}
    indexes: Iterator[int] = iter(range(len(jobs)))

    async def worker() -> None:
        for index in indexes:
            results[index] = await jobs[index]()

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(jobs))):
            group.create_task(worker())
    return [results[index] for index in range(len(jobs))]
