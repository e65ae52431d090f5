"""Fixtures: every test runs against a fresh database made by the migrations.

Tests run twice: on SQLite with the in-process cache, and on PostgreSQL with
Redis (127.0.0.1, default ports). Without those servers the second run is
skipped, except under CI=true, where they are required.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from app.accounts.permissions import ALL_PERMISSIONS, Permission
from app.accounts.users import create_staff
from app.database import create_engine
from app.migrate import upgrade
from app.seed import SeedReport, seed
from app.services import Services
from app.settings import Settings
from app.web.asgi import create_app
from tests.support import Clock, GraphQLClient

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
CARRIER_SECRET = "test-carrier-secret-0123456789"
PASSWORD = "correct horse battery 9"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked postgres_only are not collected for SQLite (rather than skipped there)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        (dropped if on_sqlite and item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        missing = [
            name
            for name, port in (("PostgreSQL", PG_PORT), ("Redis", 6379))
            if not _reachable(PG_HOST if name == "PostgreSQL" else "127.0.0.1", port)
        ]
        if missing:
            message = f"{' and '.join(missing)} not reachable on 127.0.0.1"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{message}: required under CI=true")
            pytest.skip(message)
    return str(request.param)


def _pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres"
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def settings_for(url: str, redis: bool) -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET,
        redis_url=REDIS_URL if redis else None,
        cache_prefix=f"test-{uuid.uuid4().hex[:12]}",
        # Upkeep is driven by the tests (with their clock), never by a timer.
        maintenance_interval_seconds=0,
        # Every test client shares one address and a frozen clock; the tests of these
        # limits set their own.
        signup_per_address_per_minute=10_000,
        signup_per_minute=10_000,
        signin_per_address_per_minute=10_000,
        signin_per_minute=10_000,
        password_hash_max_wait_ms=60_000,
        # The same for cost budgets: rushes of requests from one address are the point of
        # some tests; the budget tests set their own.
        cost_budget=100_000_000,
        cost_restore_rate=1_000_000,
        payment_webhook_secret=WEBHOOK_SECRET,
        carrier_webhook_secret=CARRIER_SECRET,
    )


@pytest.fixture(scope="session")
def template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per run; each test gets a copy of it."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"commerce_tpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)

    async def migrate() -> None:
        engine = create_engine(settings_for(url, redis=False))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url if backend == "postgres" else str(path)
    if backend == "postgres":
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def fresh_database(backend: str, template: str, folder: Path) -> AsyncIterator[str]:
    """A new database copied from the migrated template; dropped afterwards."""
    if backend == "sqlite":
        copy = folder / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(template, copy)
        yield f"sqlite+aiosqlite:///{copy}"
        return
    name = f"commerce_t_{uuid.uuid4().hex[:12]}"
    template_name = template.rsplit("/", 1)[-1]
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(backend: str, template: str, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(backend, template, tmp_path) as url:
        yield url


@pytest.fixture
def settings(backend: str, database_url: str) -> Settings:
    return settings_for(database_url, redis=backend == "postgres")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Server:
    app: Starlette
    services: Services
    client: GraphQLClient
    clock: Clock

    @property
    def statements(self) -> int:
        return self.services.db.counter.total


async def open_app(
    settings: Settings, clock: Clock
) -> tuple[Starlette, httpx.AsyncClient, GraphQLClient]:
    """One more server process on the same database (and Redis): a second worker."""
    app = create_app(settings, clock=clock)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    return app, http, GraphQLClient(http, app.state.services.db.counter)


@pytest.fixture
async def server(settings: Settings, clock: Clock) -> AsyncIterator[Server]:
    app = create_app(settings, clock=clock)
    services: Services = app.state.services
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield Server(app, services, GraphQLClient(http, services.db.counter), clock)


@pytest.fixture
def api(server: Server) -> GraphQLClient:
    return server.client


@asynccontextmanager
async def from_address(server: Server, address: str) -> AsyncIterator[GraphQLClient]:
    """A client of `server` calling from another address."""
    transport = httpx.ASGITransport(app=server.app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http, server.services.db.counter)


SIGN_IN = (
    "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) "
    "{ token { accessToken } userErrors { code } } }"
)


async def sign_in(api: GraphQLClient, email: str, password: str = PASSWORD) -> str:
    response = await api.query(SIGN_IN, {"e": email, "p": password})
    payload = response.data["tokenCreate"]
    assert payload["userErrors"] == [], payload
    return str(payload["token"]["accessToken"])


async def make_staff(
    server: Server,
    email: str = "staff@example.com",
    permissions: frozenset[Permission] = ALL_PERMISSIONS,
) -> str:
    await create_staff(
        server.services.db, server.services.cache, email, PASSWORD, permissions, server.clock()
    )
    return await sign_in(server.client, email)


async def make_customer(server: Server, email: str = "customer@example.com") -> str:
    """A customer signed up through the API; returns its access token."""
    response = await server.client.op(
        "AccountRegister",
        {
            "input": {
                "email": email,
                "password": PASSWORD,
                "firstName": "Casey",
                "lastName": "Buyer",
            }
        },
    )
    payload = response.data["accountRegister"]
    assert payload["userErrors"] == [], payload
    return str(payload["token"]["accessToken"])


@pytest.fixture
async def staff_token(server: Server) -> str:
    return await make_staff(server)


@pytest.fixture
async def customer_token(server: Server) -> str:
    return await make_customer(server)


@pytest.fixture
async def demo(server: Server) -> SeedReport:
    """The demo catalog (130 products, 2-4 variants each)."""
    return await seed(
        server.services.db, server.services.cache, products=130, staff_password=PASSWORD
    )
