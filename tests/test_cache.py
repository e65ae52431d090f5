"""Categories and user info come from the cache, never stale, and Redis may fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.seed import SeedReport
from app.settings import Settings
from tests.conftest import REDIS_URL, Server, make_staff, open_app
from tests.support import Clock, GraphQLClient, TcpProxy

RENAME = (
    "mutation($id: ID!, $name: String!) {"
    " categoryUpdate(id: $id, input: {name: $name}) { userErrors { code } } }"
)


async def _tops(api: GraphQLClient) -> dict[str, object]:
    tree = (await api.op("CategoryTree")).data["categories"]
    return next(c for c in tree if c["slug"] == "tops")


async def test_second_category_tree_runs_no_sql_and_writes_are_seen_at_once(
    api: GraphQLClient, demo: SeedReport, staff_token: str
) -> None:
    first = await api.op("CategoryTree")
    second = await api.op("CategoryTree")
    assert first.statements > 0
    assert second.statements == 0
    tops = await _tops(api)
    renamed = await api.as_user(staff_token).query(
        RENAME, {"id": tops["id"], "name": "Shirts & Tops"}
    )
    assert renamed.data["categoryUpdate"]["userErrors"] == []
    assert (await _tops(api))["name"] == "Shirts & Tops"
    assert (await api.op("CategoryTree")).statements == 0


async def test_product_counts_follow_publishing(
    api: GraphQLClient, demo: SeedReport, staff_token: str
) -> None:
    staff = api.as_user(staff_token)
    before = (await _tops(api))["productCount"]
    listing = await api.query(
        '{ products(first: 1, filter: {categorySlug: "tops"}) { edges { node { id } } } }'
    )
    product = listing.data["products"]["edges"][0]["node"]["id"]
    await staff.op("ProductUnpublish", {"id": product})
    assert (await _tops(api))["productCount"] == before - 1
    await staff.op("ProductPublish", {"id": product})
    assert (await _tops(api))["productCount"] == before


async def test_user_info_is_cached_per_user(
    server: Server, api: GraphQLClient, staff_token: str
) -> None:
    me = "{ me { email isStaff } }"
    first = await api.query(me, token=staff_token)
    assert first.data["me"] == {"email": "staff@example.com", "isStaff": True}
    again = await api.query(me, token=staff_token)
    assert again.statements == 0


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    host, port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    relay = TcpProxy(host, int(port))
    await relay.start()
    yield relay
    await relay.stop()


@pytest.mark.usefixtures("backend")
async def test_server_answers_while_redis_is_down_and_is_never_stale_after(
    settings: Settings, clock: Clock, proxy: TcpProxy
) -> None:
    redis_settings = settings.with_overrides(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    app, http, api = await open_app(redis_settings, clock)
    services = app.state.services
    services.cache.breaker.cool_down_seconds = 0.0  # try Redis again on every call in this test
    async with app.router.lifespan_context(app), http:
        from app.seed import seed

        await seed(services.db, services.cache, products=30)
        server = Server(app, services, api, clock)
        staff = api.as_user(await make_staff(server))
        tops = await _tops(api)
        assert (await api.op("CategoryTree")).statements == 0  # served by Redis

        await proxy.stop()  # Redis goes away
        down = await api.op("CategoryTree")
        assert down.status == 200
        assert down.statements > 0  # answered from the database
        renamed = await staff.query(RENAME, {"id": tops["id"], "name": "During Outage"})
        assert renamed.data["categoryUpdate"]["userErrors"] == []
        assert (await _tops(api))["name"] == "During Outage"
        assert (await api.query("{ me { email } }", token=staff.token)).data["me"][
            "email"
        ] == "staff@example.com"
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["redis"] == "unavailable"

        await proxy.start()  # Redis is back, still holding the entry cached before the write
        assert (await _tops(api))["name"] == "During Outage"
        assert (await api.op("CategoryTree")).statements == 0
        assert (await http.get("/readyz")).status_code == 200


@pytest.mark.usefixtures("backend")
async def test_a_write_in_one_process_is_seen_by_another(settings: Settings, clock: Clock) -> None:
    """Two servers (as two workers) share the database and Redis."""
    shared = settings.with_overrides(redis_url=REDIS_URL)
    app_a, http_a, api_a = await open_app(shared, clock)
    app_b, http_b, api_b = await open_app(shared, clock)
    async with (
        app_a.router.lifespan_context(app_a),
        app_b.router.lifespan_context(app_b),
        http_a,
        http_b,
    ):
        services = app_a.state.services
        from app.seed import seed

        await seed(services.db, services.cache, products=30)
        staff = api_a.as_user(await make_staff(Server(app_a, services, api_a, clock)))
        tops = await _tops(api_b)
        assert (await api_b.op("CategoryTree")).statements == 0
        await staff.query(RENAME, {"id": tops["id"], "name": "Renamed Elsewhere"})
        assert (await _tops(api_b))["name"] == "Renamed Elsewhere"
