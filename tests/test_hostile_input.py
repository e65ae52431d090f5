"""Hostile input over HTTP: refused cheaply and clearly, never a 5xx or an internal error.

Each case is something an attacker (or a broken client) really sends: documents
whose fragments multiply their size, bodies that are not JSON objects, text
PostgreSQL cannot store, forged ids and cursors, oversized lists and strings.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from typing import Any

import httpx
import pytest

from app.seed import SeedReport
from app.settings import Settings
from schema.documents import DocumentStore
from schema.limits import Limits
from tests.conftest import Server
from tests.edge import persisted
from tests.support import GraphQLClient

GRAPHQL_RESPONSE = "application/graphql-response+json"


def fan_out(levels: int) -> str:
    """Fragment F_i spreads F_{i+1} twice: the expanded document doubles per level."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ categories {{ name slug }} }}")
    return "query FanOut { ...F0 }\n" + "\n".join(fragments)


def nested_fan_out(levels: int) -> str:
    fragments = [
        f"fragment F{i} on Category {{ parent {{ ...F{i + 1} }} children {{ ...F{i + 1} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Category {{ name }}")
    return "query Nested { categories { ...F0 } }\n" + "\n".join(fragments)


def refused(result_body: dict[str, Any]) -> list[str]:
    assert "data" not in result_body or result_body["data"] is None, result_body
    return [e["extensions"]["code"] for e in result_body["errors"]]


@pytest.mark.parametrize("build", [fan_out, nested_fan_out])
async def test_fragment_fan_out_is_refused_in_linear_time(api: GraphQLClient, build: Any) -> None:
    for levels in (20, 40):
        started = time.perf_counter()
        result = await api.query(build(levels))
        elapsed = time.perf_counter() - started
        codes = refused(result.body)
        assert codes[0] in {"QUERY_TOO_LARGE", "QUERY_TOO_DEEP", "QUERY_TOO_COSTLY"}, result.body
        # Walking the expansion would take hours at 40 levels; judging it takes milliseconds.
        assert elapsed < 1.0, f"{levels} levels took {elapsed:.2f} s"


async def test_a_legitimate_fragment_reuse_still_runs(api: GraphQLClient, demo: SeedReport) -> None:
    document = """
    query Reuse { a: products(first: 2) { edges { node { ...Card } } }
                  b: products(first: 2, sort: PRICE_ASC) { edges { node { ...Card } } } }
    fragment Card on Product { name slug variants { sku price { amount } } }
    """
    result = await api.query(document)
    assert len(result.data["a"]["edges"]) == 2


async def test_unknown_and_cyclic_fragments_are_validation_errors(api: GraphQLClient) -> None:
    missing = await api.query("{ ...Missing }")
    assert "Unknown fragment 'Missing'" in missing.errors[0]["message"]
    assert "INTERNAL_ERROR" not in missing.error_codes
    cyclic = await api.query(
        "query C { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    )
    assert "Cannot spread fragment" in cyclic.errors[0]["message"]


def chain(length: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length)]
    fragments.append(f"fragment F{length} on Query {{ __typename }}")
    return "query Chain { ...F0 }\n" + "\n".join(fragments)


async def test_a_chain_of_many_fragments_is_refused_without_recursion(api: GraphQLClient) -> None:
    assert (await api.query(chain(20))).data == {"__typename": "Query"}
    result = await api.query(chain(450))
    assert refused(result.body) == ["QUERY_TOO_DEEP"]
    assert "nest more than" in result.errors[0]["message"]


async def test_deeply_nested_brackets_are_refused_before_parsing(api: GraphQLClient) -> None:
    deep_list = (
        "{ products(first: 1, filter: {tags: " + "[" * 600 + "]" * 600 + "}) { totalCount } }"
    )
    deep_fields = "{ " + "a { " * 600 + "b" + " }" * 600 + " }"
    for document in (deep_list, deep_fields):
        result = await api.query(document, headers={"accept": GRAPHQL_RESPONSE})
        assert result.status == 400
        assert refused(result.body) == ["QUERY_TOO_DEEP"]


async def test_malformed_bodies_are_400_with_a_json_error(api: GraphQLClient) -> None:
    deep = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 1000 + b"]" * 1000 + b"}}"
    bodies = [
        b"\xff\xfe{not utf-8}",
        b'{"query": "{ __typename }", "variables": {"s": "\xed\xa0\x80"}}',  # CESU surrogate
        b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}',  # lone surrogate
        b'{"query": "query($s: String) { __typename }", "variables": {"s": "\\udfff x"}}',
        b"null",
        b"42",
        b'"{ __typename }"',
        b"[]",
        b'[{"query": "{ __typename }"}]',
        b'{"query": 12}',
        b'{"query": "{ __typename }", "variables": []}',
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"n": 1e999}}',
        deep,
        b"{",
    ]
    for body in bodies:
        for accept in ("application/json", GRAPHQL_RESPONSE):
            response = await api.http.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", "accept": accept},
            )
            assert response.status_code == 400, (body[:60], response.text)
            assert response.headers["content-type"] == accept
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body[:60]


async def test_nesting_in_get_variables_is_a_400(api: GraphQLClient) -> None:
    variables = '{"a": ' + "[" * 1000 + "]" * 1000 + "}"
    response = await api.http.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )
    assert response.status_code == 400
    assert "nests more than" in response.json()["errors"][0]["message"]


async def test_nul_is_refused_whichever_way_it_comes(api: GraphQLClient) -> None:
    literal = await api.query('{ product(slug: "a\\u0000b") { id } }')
    assert refused(literal.body) == ["BAD_REQUEST"]
    assert "NUL" in literal.errors[0]["message"]
    block = await api.query('{ product(slug: """a\x00b""") { id } }')
    assert block.status == 400
    over_get = await api.http.get(
        "/graphql",
        params={
            "query": "query($s: String!) { product(slug: $s) { id } }",
            "variables": '{"s": "\\u0000"}',
        },
    )
    assert over_get.status_code == 400
    assert "NUL" in over_get.json()["errors"][0]["message"]
    forged = base64.b64encode(b"Product:1\x00").decode()
    node = await api.query("query($id: ID!) { node(id: $id) { id } }", {"id": forged})
    assert node.data == {"node": None}
    cart = base64.b64encode(b"Cart:abc\x00def").decode()
    missing_cart = await api.query("query($id: ID!) { cart(id: $id) { id } }", {"id": cart})
    assert "INTERNAL_ERROR" not in missing_cart.error_codes
    assert missing_cart.error_codes in ([], ["NOT_FOUND"])


async def test_lone_surrogates_in_the_document_are_refused(api: GraphQLClient) -> None:
    for document in (
        '{ product(slug: "\\ud800") { id } }',
        '{ product(slug: "\\u{D800}") { id } }',
    ):
        result = await api.query(document)
        assert result.errors
        assert "INTERNAL_ERROR" not in result.error_codes


async def test_forged_cursors_are_invalid_not_internal(
    api: GraphQLClient, demo: SeedReport
) -> None:
    page = await api.query("{ products(first: 1, sort: PRICE_ASC) { edges { cursor } } }")
    assert page.data["products"]["edges"]

    def cursor(*values: object) -> str:
        text = json.dumps(["PRICE_ASC", *values]).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    forged = [
        cursor(2**63, 1),
        cursor(1, 2**63),
        cursor(-(2**63) - 1, 1),
        cursor(1e308, 1),
        cursor("\x00", 1),
        cursor(True, 1),
        cursor([1], {}),
        base64.urlsafe_b64encode(b'["PRICE_ASC", 1e999, 1]').decode(),
        "%%%not-base64",
        "A" * 5000,
    ]
    for after in forged:
        result = await api.query(
            "query($a: String) { products(first: 2, sort: PRICE_ASC, after: $a) { totalCount } }",
            {"a": after},
        )
        assert result.error_codes == ["INVALID"], (after[:40], result.body)


async def test_list_arguments_are_bounded(api: GraphQLClient) -> None:
    query = "query($t: [String!]) { products(first: 1, filter: {tags: $t}) { totalCount } }"
    huge = await api.query(query, {"t": [f"t{i}" for i in range(100_000)]})
    assert huge.status == 400
    assert "entries" in huge.errors[0]["message"]
    over_domain = await api.query(query, {"t": [f"t{i}" for i in range(51)]})
    assert over_domain.error_codes == ["INVALID"]
    fine = await api.query(query, {"t": [f"t{i}" for i in range(50)]})
    assert fine.data["products"]["totalCount"] == 0


async def test_bodies_over_the_limit_are_413(server: Server, api: GraphQLClient) -> None:
    limit = server.services.settings.max_body_bytes
    big = b'{"query": "{ __typename }", "variables": {"s": "' + b"x" * limit + b'"}}'
    response = await api.http.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = await api.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_long_strings_are_refused_in_variables_and_literals(
    server: Server, api: GraphQLClient
) -> None:
    longest = server.services.settings.max_string_length
    query = "query($s: String!) { product(slug: $s) { id } }"
    assert (await api.query(query, {"s": "x" * longest})).data == {"product": None}
    too_long = await api.query(query, {"s": "x" * (longest + 1)})
    assert too_long.status == 400
    literal = await api.query('{ product(slug: "' + "x" * (longest + 1) + '") { id } }')
    assert refused(literal.body) == ["BAD_REQUEST"]


def test_large_documents_are_never_kept() -> None:
    store = DocumentStore(Limits.from_settings(Settings()), max_documents=4, max_chars=100)
    small = "{ __typename }"
    big = "{ __typename " + "# padding\n" * 20 + "}"
    assert store.parse(small) is store.parse(small), "small documents are kept"
    store.parse(big)
    assert len(store) == 1, "a large one is parsed but not kept"
    for i in range(10):
        store.parse(f"{{ a{i}: __typename }}")
    assert len(store) == 4, "the count is bounded"


async def test_numbers_no_column_can_hold_are_clear_errors(api: GraphQLClient) -> None:
    query = "query($n: Int!) { products(first: $n) { totalCount } }"
    for value in (2**31, 2**63, 2**64, -(2**63) - 1, 10**30):
        result = await api.query(query, {"n": value})
        assert result.errors, value
        assert "INTERNAL_ERROR" not in result.error_codes
    literal = await api.query("{ products(first: 99999999999999999999999) { totalCount } }")
    assert literal.errors
    assert "INTERNAL_ERROR" not in literal.error_codes


async def test_wrong_content_types_and_methods(api: GraphQLClient) -> None:
    text = await api.http.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    assert text.status_code == 400
    assert text.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    put = await api.http.put("/graphql", json={"query": "{ __typename }"})
    assert put.status_code == 405
    assert put.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_server_stays_responsive_during_a_refused_flood(api: GraphQLClient) -> None:
    started = time.perf_counter()
    for levels in range(30, 40):
        result = await api.query(fan_out(levels).replace("FanOut", f"FanOut{levels}"))
        assert result.errors
    health = await api.http.get("/healthz")
    assert health.status_code == 200
    assert time.perf_counter() - started < 5


async def test_http_client_sees_json_for_every_request_error(server: Server) -> None:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post(
            "/graphql", content=b"\x00", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["errors"]


HOSTILE_SET = {
    "deep": ("{ categories { " + "parent { " * 40 + "name" + " }" * 40 + " } }", "QUERY_TOO_DEEP"),
    "aliases": (
        "{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }",
        "TOO_MANY_ALIASES",
    ),
    "huge": ("{ " + "__typename " * 4200 + "}", "QUERY_TOO_LARGE"),
}


async def test_the_hostile_set_is_refused_fast_while_others_are_served(
    server: Server, api: GraphQLClient, demo: SeedReport
) -> None:
    """Deep, aliased, huge and batched documents and a flood of unknown hashes, sent at once
    with ordinary storefront requests: each refused clearly and quickly, the others answered."""

    async def hostile(document: str, code: str) -> None:
        result = await api.query(document, headers={"accept": GRAPHQL_RESPONSE})
        assert result.status == 400
        assert refused(result.body) == [code]

    async def batch() -> None:
        operations = [{"query": "{ __typename }"}] * 500
        response = await api.http.post("/graphql", json=operations)
        assert response.status_code == 400
        assert "batched requests are not supported" in response.json()["errors"][0]["message"]

    async def flood() -> None:
        answers = await asyncio.gather(
            *(persisted(api, "", sha=secrets.token_hex(32)) for _ in range(300))
        )
        assert {a.error_codes[0] for a in answers} == {"PERSISTED_QUERY_NOT_FOUND"}

    async def shopper() -> None:
        for _ in range(5):
            listing = await api.op("ProductList", {"first": 10})
            assert len(listing.data["products"]["edges"]) == 10

    stored = await server.services.automatic_queries.backend.count()
    started = time.perf_counter()
    await asyncio.gather(
        *(hostile(*case) for case in HOSTILE_SET.values()), batch(), flood(), shopper()
    )
    assert time.perf_counter() - started < 15
    assert await server.services.automatic_queries.backend.count() == stored
