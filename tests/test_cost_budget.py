"""Cost: judged before an operation runs, paid from the caller's bucket, reported in every
answer; an empty bucket throttles (429, Retry-After) without running anything."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.settings import Settings
from tests.conftest import Server, from_address, make_customer, open_app
from tests.support import Clock

LISTING = "query($n: Int!) { products(first: $n) { edges { node { name } } } }"


async def test_every_answer_reports_its_cost(server: Server) -> None:
    api = server.client
    result = await api.query(LISTING, {"n": 10})
    cost = result.body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 30  # 10 x (the connection, an edge, a product)
    throttle = cost["throttleStatus"]
    settings = server.services.settings
    assert throttle["maximumAvailable"] == settings.cost_budget
    assert throttle["restoreRate"] == settings.cost_restore_rate
    assert 0 < throttle["currentlyAvailable"] <= settings.cost_budget - 30
    refused = await api.query(LISTING, {"n": 100_000})
    assert refused.error_codes == ["QUERY_TOO_COSTLY"]
    assert (
        refused.errors[0]["extensions"]["cost"]
        == refused.body["extensions"]["cost"]["requestedQueryCost"]
    )
    syntax = await api.query("{ products(")
    assert syntax.body["extensions"]["cost"]["requestedQueryCost"] == 0


@pytest.fixture
async def tight(settings: Settings, clock: Clock) -> AsyncIterator[Server]:
    small = settings.with_overrides(cost_budget=50, cost_restore_rate=1, max_query_cost=50)
    app, http, api = await open_app(small, clock)
    async with app.router.lifespan_context(app), http:
        yield Server(app, app.state.services, api, clock)


async def test_an_empty_bucket_throttles_without_running_anything(tight: Server) -> None:
    api = tight.client
    first = await api.query(LISTING, {"n": 10})
    assert first.status == 200
    assert first.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] <= 20
    before = tight.statements
    second = await api.query(LISTING, {"n": 10})
    assert second.status == 429
    assert second.error_codes == ["THROTTLED"]
    assert int(second.headers["retry-after"]) >= 1
    assert second.errors[0]["extensions"]["retryAfterSeconds"] == int(second.headers["retry-after"])
    assert "data" not in second.body or second.body["data"] is None
    assert second.body["extensions"]["cost"]["requestedQueryCost"] == 30
    assert tight.statements == before, "nothing ran"
    # Another client address has a bucket of its own; so does a signed-in user.
    async with from_address(tight, "198.51.100.4") as other:
        assert (await other.query(LISTING, {"n": 10})).status == 200
    token = await make_customer(tight, "budget@example.com")
    assert (await api.query(LISTING, {"n": 10}, token=token)).status == 200


async def test_a_cost_larger_than_the_bucket_is_refused_outright(
    settings: Settings, clock: Clock
) -> None:
    small = settings.with_overrides(cost_budget=20, max_query_cost=100)
    app, http, api = await open_app(small, clock)
    async with app.router.lifespan_context(app), http:
        result = await api.query(LISTING, {"n": 10})
        assert result.error_codes == ["QUERY_TOO_COSTLY"]
        assert result.errors[0]["extensions"] == {
            "code": "QUERY_TOO_COSTLY",
            "cost": 30,
            "limit": 20,
        }
