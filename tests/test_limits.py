"""What a request may ask for: depth, aliases, size and cost are bounded before anything runs."""

from __future__ import annotations

from tests.conftest import Server
from tests.support import GraphQLClient

COSTLY = """
query($n: Int!, $r: Int!) {
  products(first: $n) { edges { node { name
    recommendations(first: $r) { name variants { sku } } } } }
}
"""


async def test_cost_counts_variables_and_refuses_before_any_sql(server: Server) -> None:
    api = server.client
    cheap = await api.query(COSTLY, {"n": 5, "r": 2})
    assert cheap.status == 200
    assert cheap.data["products"] == {"edges": []}

    before = server.statements
    costly = await api.query(COSTLY, {"n": 100, "r": 20})
    assert costly.error_codes == ["QUERY_TOO_COSTLY"]
    assert costly.errors[0]["extensions"]["limit"] == 5000
    assert costly.errors[0]["extensions"]["cost"] > 5000
    assert "data" not in costly.body or costly.body["data"] is None
    assert server.statements == before, "nothing ran"


async def test_literal_first_counts_the_same(api: GraphQLClient) -> None:
    literal = await api.query(
        "{ products(first: 100) { edges { node { recommendations(first: 20)"
        " { variants { sku } } } } } }"
    )
    assert literal.error_codes == ["QUERY_TOO_COSTLY"]


async def test_depth_is_limited(api: GraphQLClient) -> None:
    nested = "{ categories { " + "parent { " * 12 + "name" + " }" * 12 + " } }"
    result = await api.query(nested)
    assert result.errors
    assert "exceeds maximum operation depth" in result.errors[0]["message"]
    shallow = "{ categories { " + "parent { " * 3 + "name" + " }" * 3 + " } }"
    assert (await api.query(shallow)).status == 200


async def test_aliases_are_limited(api: GraphQLClient) -> None:
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    result = await api.query(many)
    assert result.errors
    assert "aliases" in result.errors[0]["message"].lower()
    few = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    assert (await api.query(few)).data["a29"] == "Query"


async def test_huge_documents_are_refused(api: GraphQLClient) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(4100)) + " }"
    result = await api.query(huge)
    assert result.errors
    assert "token" in result.errors[0]["message"].lower()


async def test_page_size_is_capped(api: GraphQLClient) -> None:
    result = await api.query("{ products(first: 101) { totalCount } }")
    assert result.errors
    assert "100" in result.errors[0]["message"]
    negative = await api.query("{ products(first: -1) { totalCount } }")
    assert negative.errors
