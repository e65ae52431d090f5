"""The storefront scenarios, with slugs and search words taken from the seeded catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bench.load import Scenario, post

SEARCH_WORDS = 6


async def build_scenarios(client: httpx.AsyncClient, operations: dict[str, str]) -> list[Scenario]:
    page = await post(client, operations["ProductList"], {"first": 100})
    products = [edge["node"] for edge in page["products"]["edges"]]
    if not products:
        raise RuntimeError("the catalog has no published products to benchmark")
    slugs = [p["slug"] for p in products]
    # Seeded names are "Adjective Material Noun": their words are what shoppers type.
    words = list(dict.fromkeys(w for p in products for w in p["name"].split() if len(w) > 3))
    words = words[:SEARCH_WORDS]

    def fixed(variables: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
        return lambda _number: variables

    return [
        Scenario("ProductList first=20", operations["ProductList"], fixed({"first": 20})),
        Scenario("ProductList first=100", operations["ProductList"], fixed({"first": 100})),
        Scenario(
            f"ProductDetail ({len(slugs)} slugs)",
            operations["ProductDetail"],
            lambda n: {"slug": slugs[n % len(slugs)]},
        ),
        Scenario(
            f"SearchProducts ({len(words)} words)",
            operations["SearchProducts"],
            lambda n: {"query": words[n % len(words)], "first": 20},
        ),
        Scenario("CategoryTree", operations["CategoryTree"], fixed({})),
    ]
