"""Storefront catalog: visibility, pagination, filters, sorts, search, categories, node."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.seed import SeedReport
from tests.support import GraphQLClient
from tests.test_catalog_admin import create_category, create_product

LIST = """
query($first: Int!, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id slug name status category { slug } priceRange { min { amount } }
      tags stockStatus variants { price { amount } quantityAvailable stockStatus } } }
  }
}
"""


async def list_all(
    api: GraphQLClient, page_size: int = 7, after: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    """Every product of a listing (after `after`), following the cursors page by page."""
    nodes: list[dict[str, Any]] = []
    for _ in range(1000):
        result = await api.query(LIST, {"first": page_size, "after": after, **variables})
        connection = result.data["products"]
        nodes.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("the listing never ended")


async def test_customers_see_published_products_only(
    api: GraphQLClient, demo: SeedReport, staff_token: str
) -> None:
    everything = await list_all(api.as_user(staff_token), page_size=50)
    assert len(everything) == demo.products
    drafts = [p for p in everything if p["status"] == "DRAFT"]
    assert drafts, "the demo catalog has drafts"

    public = await list_all(api, page_size=50)
    assert {p["status"] for p in public} == {"PUBLISHED"}
    assert len(public) == demo.products - len(drafts)
    total = await api.query(LIST, {"first": 1})
    assert total.data["products"]["totalCount"] == len(public)

    draft = drafts[0]
    assert (await api.op("ProductDetail", {"slug": draft["slug"]})).data["product"] is None
    assert (await api.op("NodeById", {"id": draft["id"]})).data["node"] is None
    staff_view = await api.as_user(staff_token).op("ProductDetail", {"slug": draft["slug"]})
    assert staff_view.data["product"]["slug"] == draft["slug"]


async def test_pages_cover_every_product_once(api: GraphQLClient, demo: SeedReport) -> None:
    for sort in ("NEWEST", "NAME_ASC", "PRICE_ASC", "PRICE_DESC"):
        nodes = await list_all(api, page_size=9, sort=sort)
        ids = [n["id"] for n in nodes]
        assert len(ids) == len(set(ids))
        total = (await api.query(LIST, {"first": 0, "sort": sort})).data["products"]["totalCount"]
        assert len(ids) == total


async def test_sort_orders(api: GraphQLClient, demo: SeedReport) -> None:
    by_name = [n["name"].lower() for n in await list_all(api, page_size=40, sort="NAME_ASC")]
    assert by_name == sorted(by_name)
    cheapest = [
        Decimal(n["priceRange"]["min"]["amount"]) for n in await list_all(api, 40, sort="PRICE_ASC")
    ]
    assert cheapest == sorted(cheapest)
    dearest = [
        Decimal(n["priceRange"]["min"]["amount"])
        for n in await list_all(api, 40, sort="PRICE_DESC")
    ]
    assert dearest == sorted(dearest, reverse=True)


async def test_cursors_stay_correct_while_products_are_added(
    api: GraphQLClient, demo: SeedReport, staff_token: str
) -> None:
    staff = api.as_user(staff_token)
    first_page = (await api.query(LIST, {"first": 10})).data["products"]
    seen = [e["node"]["id"] for e in first_page["edges"]]
    # New products arrive between the first and second page.
    for i in range(3):
        product = await create_product(staff, f"fresh-{i}")
        await staff.op("ProductPublish", {"id": product["id"]})
    rest = await list_all(api, page_size=10, after=first_page["pageInfo"]["endCursor"])
    rest_ids = [n["id"] for n in rest]
    assert not set(seen) & set(rest_ids)
    assert not any(n["slug"].startswith("fresh-") for n in rest)
    assert len(seen) + len(rest_ids) == demo.products - _drafts(demo)


def _drafts(demo: SeedReport) -> int:
    # The seed makes every 19th product (from the 8th) a draft.
    return len([i for i in range(demo.products) if i % 19 == 7])


async def test_category_filter_includes_sub_categories(
    api: GraphQLClient, demo: SeedReport
) -> None:
    tree = {c["slug"]: c for c in (await api.op("CategoryTree")).data["categories"]}
    apparel = await list_all(api, page_size=50, filter={"categorySlug": "apparel"})
    children = {c["slug"] for c in tree["apparel"]["children"]}
    assert {n["category"]["slug"] for n in apparel} == children
    assert len(apparel) == tree["apparel"]["productCount"]
    tops = await list_all(api, page_size=50, filter={"categorySlug": "tops"})
    assert {n["category"]["slug"] for n in tops} == {"tops"}
    assert len(tops) == tree["tops"]["productCount"]
    unknown = await api.query(LIST, {"first": 5, "filter": {"categorySlug": "no-such-category"}})
    assert unknown.data["products"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }


async def test_price_stock_and_tag_filters(api: GraphQLClient, demo: SeedReport) -> None:
    priced = await list_all(api, page_size=50, filter={"minPrice": "20.00", "maxPrice": "45.00"})
    assert priced
    for node in priced:
        prices = [Decimal(v["price"]["amount"]) for v in node["variants"]]
        assert any(Decimal(20) <= p <= Decimal(45) for p in prices)

    everything = await list_all(api, page_size=50)
    in_stock = await list_all(api, page_size=50, filter={"inStock": True})
    out_of_stock = await list_all(api, page_size=50, filter={"inStock": False})
    assert out_of_stock, "the demo catalog has sold-out products"
    assert len(in_stock) + len(out_of_stock) == len(everything)
    assert all(n["stockStatus"] != "OUT_OF_STOCK" for n in in_stock)
    assert all(n["stockStatus"] == "OUT_OF_STOCK" for n in out_of_stock)
    assert all(v["quantityAvailable"] == 0 for n in out_of_stock for v in n["variants"])

    gifts = await list_all(api, page_size=50, filter={"tags": ["GIFT", "limited"]})
    assert gifts
    assert all({"gift", "limited"} & set(n["tags"]) for n in gifts)
    assert len(gifts) == len([n for n in everything if {"gift", "limited"} & set(n["tags"])])


async def test_stock_status_follows_thresholds(api: GraphQLClient, demo: SeedReport) -> None:
    statuses = {
        (v["stockStatus"], v["quantityAvailable"])
        for n in await list_all(api, page_size=50)
        for v in n["variants"]
    }
    kinds = {s for s, _ in statuses}
    assert kinds == {"IN_STOCK", "LOW_STOCK", "OUT_OF_STOCK"}
    for status, available in statuses:
        expected = (
            "OUT_OF_STOCK" if available == 0 else "LOW_STOCK" if available <= 5 else "IN_STOCK"
        )
        assert status == expected


async def test_search_ranks_name_matches_first(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    for slug, name, description in [
        ("desc-only", "Plain Mug", "Pairs well with walnut furniture"),
        ("name-match", "Walnut Tray", "Serve breakfast in style"),
        ("unrelated", "Steel Bottle", "Keeps drinks cold"),
    ]:
        product = await create_product(staff, slug, name=name, description=description)
        await staff.op("ProductPublish", {"id": product["id"]})
    found = await api.op("SearchProducts", {"query": "walnut", "first": 10})
    slugs = [e["node"]["slug"] for e in found.data["products"]["edges"]]
    assert slugs == ["name-match", "desc-only"]
    assert found.data["products"]["totalCount"] == 2
    prefix = await api.op("SearchProducts", {"query": "walnu tra", "first": 10})
    assert [e["node"]["slug"] for e in prefix.data["products"]["edges"]] == ["name-match"]
    stemmed = await api.op("SearchProducts", {"query": "trays", "first": 10})
    assert [e["node"]["slug"] for e in stemmed.data["products"]["edges"]] == ["name-match"]


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "walnut*",
        "NEAR(walnut tray)",
        "tray OR mug",
        "'; DROP TABLE product; --",
        "a:*|b",
        "()",
        "    ",
    ],
)
async def test_search_text_is_never_syntax(api: GraphQLClient, demo: SeedReport, text: str) -> None:
    result = await api.op("SearchProducts", {"query": text, "first": 5})
    assert result.status == 200
    assert "errors" not in result.body
    still_there = await api.query(LIST, {"first": 1})
    assert still_there.data["products"]["totalCount"] > 0


async def test_relevance_pages_are_consistent(api: GraphQLClient, demo: SeedReport) -> None:
    everything = await list_all(api, page_size=100, filter={"search": "classic"}, sort="RELEVANCE")
    paged = await list_all(api, page_size=4, filter={"search": "classic"}, sort="RELEVANCE")
    assert everything
    assert [n["id"] for n in paged] == [n["id"] for n in everything]


async def test_category_tree_shape(api: GraphQLClient, demo: SeedReport) -> None:
    categories = (await api.op("CategoryTree")).data["categories"]
    assert len(categories) >= 12
    by_id = {c["id"]: c for c in categories}
    roots = [c for c in categories if c["parent"] is None]
    assert roots
    for category in categories:
        if category["parent"]:
            parent = by_id[category["parent"]["id"]]
            assert category["id"] in [child["id"] for child in parent["children"]]
    for root in roots:
        assert root["productCount"] == sum(by_id[c["id"]]["productCount"] for c in root["children"])
    detail = await api.op("ProductList", {"first": 1})
    slug = detail.data["products"]["edges"][0]["node"]["slug"]
    product = (await api.op("ProductDetail", {"slug": slug})).data["product"]
    ancestors = product["category"]["ancestors"]
    assert len(ancestors) == 1
    assert ancestors[0]["slug"] in {r["slug"] for r in roots}


async def test_node_resolves_every_catalog_type(api: GraphQLClient, demo: SeedReport) -> None:
    listing = (await api.op("ProductList", {"first": 1})).data["products"]["edges"][0]["node"]
    product = await api.op("NodeById", {"id": listing["id"]})
    assert product.data["node"] == {
        "id": listing["id"],
        "name": listing["name"],
        "slug": listing["slug"],
    }
    variant = listing["variants"][0]
    assert (await api.op("NodeById", {"id": variant["id"]})).data["node"] == {
        "id": variant["id"],
        "sku": variant["sku"],
    }
    category = listing["category"]
    assert (await api.op("NodeById", {"id": category["id"]})).data["node"] == {
        "id": category["id"],
        "name": category["name"],
    }
    for bogus in ("nonsense", "UHJvZHVjdDp4", "VW5rbm93bjox", "UHJvZHVjdDo5OTk5OTk="):
        assert (await api.op("NodeById", {"id": bogus})).data["node"] is None


async def test_product_detail_fields(api: GraphQLClient, staff_token: str) -> None:
    staff = api.as_user(staff_token)
    shoes = await create_category(staff, "Shoes", "shoes")
    runners = await create_category(staff, "Runners", "runners", parent=shoes)
    product = await create_product(
        staff,
        "road-runner",
        categoryId=runners,
        images=[
            {"url": "https://img.example.com/1.jpg", "alt": "side"},
            {"url": "https://img.example.com/2.jpg"},
        ],
    )
    await staff.op("ProductPublish", {"id": product["id"]})
    sibling = await create_product(staff, "trail-runner", categoryId=runners)
    await staff.op("ProductPublish", {"id": sibling["id"]})
    detail = (await api.op("ProductDetail", {"slug": "road-runner"})).data["product"]
    assert detail["seoTitle"] == "Tote"
    assert detail["images"] == [
        {"url": "https://img.example.com/1.jpg", "alt": "side"},
        {"url": "https://img.example.com/2.jpg", "alt": ""},
    ]
    assert detail["attributes"] == [{"name": "Material", "value": "Canvas"}]
    assert detail["category"]["ancestors"] == [{"name": "Shoes", "slug": "shoes"}]
    assert detail["variants"][1]["compareAtPrice"] == {"amount": "29.00", "currency": "USD"}
    assert detail["recommendations"] == [
        {"id": sibling["id"], "name": "Product trail-runner", "slug": "trail-runner"}
    ]


async def test_bad_paging_arguments_are_clear_errors(api: GraphQLClient, demo: SeedReport) -> None:
    too_many = await api.op("ProductList", {"first": 101})
    assert too_many.error_codes == ["INVALID"]
    assert "between 0 and 100" in too_many.errors[0]["message"]
    bad_cursor = await api.op("ProductList", {"first": 5, "after": "garbage"})
    assert bad_cursor.error_codes == ["INVALID"]
    cursor = (await api.op("ProductList", {"first": 1})).data["products"]["pageInfo"]["endCursor"]
    other_sort = await api.op("ProductList", {"first": 5, "after": cursor, "sort": "PRICE_ASC"})
    assert other_sort.error_codes == ["INVALID"]
    bad_price = await api.query(LIST, {"first": 5, "filter": {"minPrice": "1.234"}})
    assert bad_price.error_codes == ["INVALID"]


PRODUCT_FIELDS = """
  id stockStatus thumbnail { url alt } images { url } category { slug }
  variants { sku stockStatus quantityAvailable price { amount } }
"""


async def test_prefetched_and_lazily_loaded_products_answer_alike(
    api: GraphQLClient, demo: SeedReport
) -> None:
    listing = await api.query(
        f"{{ products(first: 40) {{ edges {{ node {{ {PRODUCT_FIELDS} }} }} }} }}"
    )
    listed = [edge["node"] for edge in listing.data["products"]["edges"]]
    assert {p["stockStatus"] for p in listed} >= {"IN_STOCK", "OUT_OF_STOCK"}
    for product in listed:
        one = await api.query(
            f"query($id: ID!) {{ node(id: $id) {{ ... on Product {{ {PRODUCT_FIELDS} }} }} }}",
            {"id": product["id"]},
        )
        assert one.data["node"] == product
