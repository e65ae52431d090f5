"""Automatic persisted queries (Apollo's protocol) over GET and POST, and their bounds."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from app.persisted import document_hash
from app.settings import Settings
from tests.conftest import REDIS_URL, open_app
from tests.edge import persisted
from tests.support import Clock, GraphQLClient


def fresh(name: str = "q") -> str:
    """A document no server has seen."""
    return f"{{ {name}_{secrets.token_hex(4)}: __typename }}"


@pytest.mark.parametrize("get", [False, True])
async def test_unknown_hash_then_registration_then_the_hash_alone(
    api: GraphQLClient, get: bool
) -> None:
    document = fresh()
    unknown = await persisted(api, document, get=get)
    assert unknown.status == 404
    assert unknown.errors[0]["message"] == "PersistedQueryNotFound"
    assert unknown.error_codes == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "data" not in unknown.body
    # Apollo's link resends the text with the hash, always by POST.
    registered = await persisted(api, document, register=True)
    assert next(iter(registered.data.values())) == "Query"
    again = await persisted(api, document, get=get)
    assert again.status == 200
    assert next(iter(again.data.values())) == "Query"


async def test_a_text_that_is_not_its_hash_is_refused_and_not_stored(api: GraphQLClient) -> None:
    document, other = fresh(), fresh()
    lying = await persisted(api, document, register=True, sha=document_hash(other))
    assert lying.status == 400
    assert lying.error_codes == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert (await persisted(api, other)).error_codes == ["PERSISTED_QUERY_NOT_FOUND"]
    assert (await persisted(api, document)).error_codes == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_malformed_persisted_query_extensions_are_clear_errors(api: GraphQLClient) -> None:
    for persisted_query, code in (
        ({"version": 2, "sha256Hash": "a" * 64}, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"version": 1, "sha256Hash": "not-a-hash"}, "BAD_REQUEST"),
        ("yes", "BAD_REQUEST"),
    ):
        response = await api.http.post(
            "/graphql", json={"extensions": {"persistedQuery": persisted_query}}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_the_store_is_bounded_and_unknown_hashes_write_nothing(
    settings: Settings, clock: Clock
) -> None:
    bounded = settings.with_overrides(apq_max_documents=5, apq_max_document_bytes=300)
    app, http, api = await open_app(bounded, clock)
    async with app.router.lifespan_context(app), http:
        store = app.state.services.automatic_queries
        documents = [fresh(f"d{i}") for i in range(12)]
        for document in documents:
            assert (await persisted(api, document, register=True)).status == 200
        assert await store.backend.count() == 5
        # The most recent ones are the ones kept.
        assert await store.backend.get(document_hash(documents[-1])) is not None
        assert await store.backend.get(document_hash(documents[0])) is None

        started = time.perf_counter()
        flood = await asyncio.gather(
            *(persisted(api, "", sha=secrets.token_hex(32)) for _ in range(200))
        )
        assert {r.status for r in flood} == {404}
        assert time.perf_counter() - started < 10
        assert await store.backend.count() == 5

        # A document over the size cap still runs, but is not kept under its hash.
        large = "{ a: __typename " + "# padding\n" * 40 + "}"
        assert (await persisted(api, large, register=True)).data == {"a": "Query"}
        assert (await persisted(api, large)).error_codes == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.usefixtures("backend")
async def test_every_worker_knows_a_registered_hash(settings: Settings, clock: Clock) -> None:
    shared = settings.with_overrides(redis_url=REDIS_URL)
    app_a, http_a, api_a = await open_app(shared, clock)
    app_b, http_b, api_b = await open_app(shared, clock)
    async with (
        app_a.router.lifespan_context(app_a),
        app_b.router.lifespan_context(app_b),
        http_a,
        http_b,
    ):
        document = fresh()
        assert (await persisted(api_a, document, register=True)).status == 200
        on_b = await persisted(api_b, document, get=True)
        assert next(iter(on_b.data.values())) == "Query"


async def test_without_redis_the_database_keeps_them_for_every_worker(
    settings: Settings, clock: Clock
) -> None:
    local = settings.with_overrides(redis_url=None)
    app_a, http_a, api_a = await open_app(local, clock)
    app_b, http_b, api_b = await open_app(local, clock)
    async with (
        app_a.router.lifespan_context(app_a),
        app_b.router.lifespan_context(app_b),
        http_a,
        http_b,
    ):
        document = fresh()
        assert (await persisted(api_a, document, register=True)).status == 200
        assert (await persisted(api_b, document)).status == 200
