"""The schema comes from the migrations only, and the demo data is realistic and deterministic."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.database import create_engine
from app.migrate import drift, pending
from app.seed import seed
from app.services import Services
from tests.conftest import PASSWORD, Server, fresh_database, settings_for, sign_in
from tests.support import GraphQLClient


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(settings_for(database_url, redis=False))
    try:
        assert await drift(engine) == []
        assert await pending(engine) == []
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(server: Server, backend: str) -> None:
    if backend != "sqlite":
        return  # PostgreSQL always enforces foreign keys
    async with server.services.db.session() as session:
        journal = (await session.exec(text("PRAGMA journal_mode"))).scalar_one()  # type: ignore[call-overload]
        keys = (await session.exec(text("PRAGMA foreign_keys"))).scalar_one()  # type: ignore[call-overload]
    assert (journal, keys) == ("wal", 1)


async def test_a_database_refuses_rows_that_break_foreign_keys(server: Server) -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        async with server.services.db.transaction() as session:
            await session.exec(  # type: ignore[call-overload]
                text(
                    "INSERT INTO product_variant (product_id, sku, name, price, weight_grams,"
                    " low_stock_threshold, reserve_on_add, attributes, position, created_at,"
                    " updated_at) VALUES (424242, 'orphan', 'x', 1, 0, 0, false, '[]', 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    except IntegrityError:
        pass
    else:
        raise AssertionError("a variant of a missing product was accepted")


CATALOG = """
query { categories { id slug parent { id } productCount }
        warehouses { id code } }
"""

ALL_PRODUCTS = """
query($after: String) {
  products(first: 100, after: $after, sort: NAME_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { slug status stockStatus
      variants { sku price { amount } stockStatus quantityAvailable } } }
  }
}
"""


async def _everything(api: GraphQLClient) -> tuple[dict[str, object], list[dict[str, object]]]:
    catalog = (await api.query(CATALOG)).data
    products: list[dict[str, object]] = []
    after = None
    while True:
        page = (await api.query(ALL_PRODUCTS, {"after": after})).data["products"]
        products.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return catalog, products
        after = page["pageInfo"]["endCursor"]


async def test_seed_builds_a_realistic_catalog(server: Server, api: GraphQLClient) -> None:
    report = await seed(server.services.db, server.services.cache, staff_password=PASSWORD)
    assert report.staff_email
    staff = api.as_user(await sign_in(api, report.staff_email))
    catalog, products = await _everything(staff)

    categories = catalog["categories"]
    assert isinstance(categories, list)
    roots = [c for c in categories if c["parent"] is None]
    children = [c for c in categories if c["parent"] is not None]
    assert len(categories) >= 12
    assert roots
    assert children
    root_ids = {c["id"] for c in roots}
    assert all(c["parent"]["id"] in root_ids for c in children), "two levels"
    assert len(catalog["warehouses"]) == 2  # type: ignore[arg-type]

    assert len(products) >= 200
    assert all(2 <= len(p["variants"]) <= 4 for p in products)  # type: ignore[arg-type]
    variant_statuses = {v["stockStatus"] for p in products for v in p["variants"]}  # type: ignore[attr-defined]
    assert variant_statuses == {"IN_STOCK", "LOW_STOCK", "OUT_OF_STOCK"}
    assert "OUT_OF_STOCK" in {p["stockStatus"] for p in products}
    published = [p for p in products if p["status"] == "PUBLISHED"]
    assert len(published) >= 200
    # Customers see exactly the published ones.
    assert (await api.query("{ products(first: 1) { totalCount } }")).data["products"][
        "totalCount"
    ] == len(published)


async def test_seed_is_deterministic(backend: str, template: str, tmp_path: Path) -> None:
    dumps = []
    for _ in range(2):
        async with fresh_database(backend, template, tmp_path) as url:
            services = Services.open(settings_for(url, redis=False))
            try:
                await seed(services.db, services.cache, products=60, staff_password=PASSWORD)
                async with services.db.session() as session:
                    rows = await session.exec(  # type: ignore[call-overload]
                        text(
                            "SELECT p.slug, p.status, v.sku, v.price, s.quantity, w.code"
                            " FROM product p JOIN product_variant v ON v.product_id = p.id"
                            " JOIN stock s ON s.variant_id = v.id"
                            " JOIN warehouse w ON w.id = s.warehouse_id"
                            " ORDER BY v.sku, w.code"
                        )
                    )
                    dumps.append([tuple(row) for row in rows])
            finally:
                await services.close()
    assert len(dumps[0]) > 120
    assert dumps[0] == dumps[1]
