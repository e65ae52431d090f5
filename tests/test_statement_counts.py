"""SQL statements per request do not grow with page size (no N+1)."""

from __future__ import annotations

from app.seed import SeedReport
from tests.conftest import Server
from tests.support import GraphQLClient

MAX_STATEMENTS = 8


async def _warm(api: GraphQLClient) -> None:
    # Loads the category tree into the cache, as any running server has.
    await api.op("CategoryTree")


async def test_product_list_statements_do_not_grow_with_page_size(
    api: GraphQLClient, demo: SeedReport
) -> None:
    await _warm(api)
    small = await api.op("ProductList", {"first": 5})
    large = await api.op("ProductList", {"first": 100})

    assert len(small.data["products"]["edges"]) == 5
    edges = large.data["products"]["edges"]
    assert len(edges) == 100
    assert all(len(e["node"]["variants"]) >= 2 for e in edges)
    assert small.statements == large.statements
    assert large.statements <= MAX_STATEMENTS


async def test_product_list_cold_cache_stays_within_budget(
    api: GraphQLClient, demo: SeedReport
) -> None:
    result = await api.op("ProductList", {"first": 100})
    assert len(result.data["products"]["edges"]) == 100
    assert result.statements <= MAX_STATEMENTS


async def test_filtered_and_sorted_list_statements_are_constant(
    api: GraphQLClient, demo: SeedReport
) -> None:
    await _warm(api)
    counts = set()
    for first in (3, 30):
        result = await api.op(
            "ProductList",
            {
                "first": first,
                "filter": {"categorySlug": "apparel", "inStock": True},
                "sort": "PRICE_ASC",
            },
        )
        assert len(result.data["products"]["edges"]) == first
        counts.add(result.statements)
    assert len(counts) == 1
    assert counts.pop() <= MAX_STATEMENTS


async def test_product_detail_statements(api: GraphQLClient, demo: SeedReport) -> None:
    await _warm(api)
    listing = await api.op("ProductList", {"first": 1})
    slug = listing.data["products"]["edges"][0]["node"]["slug"]
    result = await api.op("ProductDetail", {"slug": slug})
    product = result.data["product"]
    assert product["slug"] == slug
    assert len(product["recommendations"]) == 4
    assert result.statements <= MAX_STATEMENTS


async def test_category_tree_statements(
    server: Server, api: GraphQLClient, demo: SeedReport
) -> None:
    cold = await api.op("CategoryTree")
    assert len(cold.data["categories"]) >= 12
    assert cold.statements <= 2
    warm = await api.op("CategoryTree")
    assert warm.statements == 0
    assert warm.data == cold.data
