"""The HTTP surface: health checks, request ids, GraphQL-over-HTTP rules, masked errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.seed import SeedReport
from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import Server
from tests.support import GraphQLClient, operation

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_healthz_and_readyz_report_the_parts(server: Server, backend: str) -> None:
    http = server.client.http
    alive = await http.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    expected = {"status": "ok", "database": "ok"}
    if backend == "postgres":
        expected["redis"] = "ok"
    assert ready.json() == expected


async def test_readyz_is_503_naming_what_is_down(settings: Settings, tmp_path: Path) -> None:
    # Nothing listens on port 1, and the database file's directory does not exist.
    down = settings.with_overrides(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'shop.db'}",
        redis_url="redis://127.0.0.1:1/0",
    )
    app = create_app(down)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "redis": "unavailable",
    }
    assert alive.status_code == 200


async def test_request_id_is_echoed_or_made(api: GraphQLClient) -> None:
    given = await api.query("{ __typename }", headers={"x-request-id": "lb-abc-123"})
    assert given.headers["x-request-id"] == "lb-abc-123"
    # A value that could forge log lines is replaced, not trusted.
    forged = await api.query("{ __typename }", headers={"x-request-id": "x\\n[ERROR] fake"})
    assert forged.headers["x-request-id"] != "x\\n[ERROR] fake"
    made = await api.query("{ __typename }")
    assert len(made.headers["x-request-id"]) >= 16


async def test_request_errors_with_graphql_response_json_are_400_without_data(
    api: GraphQLClient,
) -> None:
    syntax = await api.query("{ products(first: 1) {", headers={"accept": GRAPHQL_RESPONSE})
    assert syntax.status == 400
    assert syntax.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in syntax.body
    assert "Syntax Error" in syntax.errors[0]["message"]

    unknown = await api.query("{ nope }", headers={"accept": GRAPHQL_RESPONSE})
    assert unknown.status == 400
    assert "data" not in unknown.body
    assert "nope" in unknown.errors[0]["message"]

    # Legacy JSON clients get 200 with errors, as the GraphQL-over-HTTP spec allows.
    legacy = await api.query("{ nope }", headers={"accept": "application/json"})
    assert legacy.status == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert "nope" in legacy.errors[0]["message"]


async def test_field_errors_keep_status_200_and_data(api: GraphQLClient) -> None:
    result = await api.query(
        "query { products(first: 500) { totalCount } __typename }",
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert result.status == 200
    # products is non-null, so its error nulls the whole data; the key stays (execution ran).
    assert "data" in result.body
    assert result.body["data"] is None
    assert result.errors[0]["path"] == ["products"]
    assert "100" in result.errors[0]["message"]


async def test_malformed_bodies_get_a_json_error(api: GraphQLClient) -> None:
    http = api.http
    not_json = await http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    no_query = await http.post("/graphql", json={"variables": {}})
    assert no_query.status_code == 400
    assert no_query.json()["errors"][0]["message"]


async def test_mutation_over_get_is_405(api: GraphQLClient) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": 'mutation { tokenRevoke(refreshToken: "x") { userErrors { code } } }'},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_queries_over_get_work(api: GraphQLClient, demo: SeedReport) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": "{ categories { name } }"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["categories"]) == demo.categories


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    server: Server, demo: SeedReport, caplog: pytest.LogCaptureFixture
) -> None:
    # An outage the client did not cause: the variants table has gone.
    async with server.services.db.transaction() as session:
        await session.exec(text("ALTER TABLE product_variant RENAME TO product_variant_gone"))  # type: ignore[call-overload]
    with caplog.at_level(logging.ERROR, logger="commerce.graphql"):
        result = await server.client.op(
            "ProductList", {"first": 3}, headers={"x-request-id": "req-boom-1"}
        )
    assert result.status == 200
    assert result.errors, result.body
    for error in result.errors:
        assert error["message"] == "internal error"
        assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "req-boom-1"}
    body = result.body.__repr__().lower()
    assert "product_variant" not in body
    assert "sql" not in body
    logged = [r for r in caplog.records if "req-boom-1" in r.getMessage()]
    assert logged, "the masked error is logged with its request id"
    assert logged[0].exc_info is not None, "with the traceback"


async def test_operation_names_select_from_a_multi_operation_document(
    api: GraphQLClient, demo: SeedReport
) -> None:
    document = operation("CategoryTree") + "\nquery Other { __typename }"
    response = await api.http.post(
        "/graphql", json={"query": document, "operationName": "Other", "variables": {}}
    )
    assert response.json()["data"] == {"__typename": "Query"}
    ambiguous = await api.http.post(
        "/graphql", json={"query": document}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert ambiguous.status_code == 400
    assert "operationName" in ambiguous.json()["errors"][0]["message"]


async def test_nul_characters_are_refused_up_front(api: GraphQLClient) -> None:
    for value in ("abc\x00", "\x00"):
        result = await api.query("query($q: String!) { cart(id: $q) { id } }", {"q": value})
        assert result.status == 400
        assert result.error_codes == ["BAD_REQUEST"]
        assert "NUL" in result.errors[0]["message"]
    escaped_backslash = await api.query(
        "query($q: String!) { products(first: 1, filter: {search: $q}) { totalCount } }",
        {"q": "\\u0000 is fine as text"},
    )
    assert escaped_backslash.status == 200
    over_get = await api.http.get("/graphql", params={"query": "{ __typename }\x00"})
    assert over_get.status_code == 400


async def test_logs_hold_no_bind_parameters(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # A failure inside the database while the statement carries a customer's details.
    async with server.services.db.transaction() as session:
        await session.exec(text("ALTER TABLE user_account RENAME TO user_account_gone"))  # type: ignore[call-overload]
    with caplog.at_level(logging.DEBUG):
        result = await server.client.op(
            "AccountRegister",
            {
                "input": {
                    "email": "private.person@example.com",
                    "password": "correct horse battery 9",
                    "firstName": "Private",
                    "lastName": "Person",
                }
            },
        )
    assert result.error_codes == ["INTERNAL_ERROR"]
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "user_account" in logged, "the failure itself is logged"
    assert "private.person@example.com" not in logged
    assert "$argon2" not in logged


async def test_cors_is_off_unless_origins_are_configured(api: GraphQLClient) -> None:
    preflight = await api.http.options(
        "/graphql",
        headers={"origin": "https://shop.example.com", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


@asynccontextmanager
async def _cors_app(
    settings: Settings, origins: tuple[str, ...]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_overrides(cors_origins=origins))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http


async def test_cors_answers_configured_origins(settings: Settings) -> None:
    async with _cors_app(settings, ("https://shop.example.com",)) as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "origin": "https://shop.example.com",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example.com"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        stranger = await http.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert stranger.headers.get("access-control-allow-origin") is None
        answered = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": "https://shop.example.com"},
        )
        assert answered.headers["access-control-allow-origin"] == "https://shop.example.com"
        assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()


async def test_a_wildcard_origin_never_allows_credentials(settings: Settings) -> None:
    async with _cors_app(settings, ("*",)) as http:
        preflight = await http.options(
            "/graphql",
            headers={"origin": "https://any.example", "access-control-request-method": "POST"},
        )
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers


async def test_graphiql_and_introspection_follow_one_setting(settings: Settings) -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    for enabled in (True, False):
        app = create_app(settings.with_overrides(graphiql=enabled))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            ide = await http.get("/graphql", headers={"accept": "text/html"})
            schema = (await http.post("/graphql", json=introspect)).json()
            schema.pop("extensions", None)
            typename = (await http.post("/graphql", json={"query": "{ __typename }"})).json()
        assert typename["data"] == {"__typename": "Query"}
        if enabled:
            assert ide.status_code == 200
            assert "graphiql" in ide.text.lower()
            assert schema == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        else:
            assert ide.status_code == 404
            assert ide.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert "introspection" in schema["errors"][0]["message"].lower()


async def test_a_browser_form_cannot_post_a_mutation(server: Server, api: GraphQLClient) -> None:
    """CSRF: a form can send urlencoded, multipart or text/plain bodies without a CORS
    preflight, never application/json; GET runs no mutation. Nothing runs either way."""
    mutation = (
        'mutation { accountRegister(input: {email: "csrf@example.com", '
        'password: "correct horse battery 9"}) { userErrors { code } } }'
    )
    before = server.statements
    for content_type, body in (
        ("application/x-www-form-urlencoded", {"query": mutation}),
        ("text/plain", None),
        ("multipart/form-data; boundary=x", None),
    ):
        response = await api.http.post(
            "/graphql",
            content=None if body else f'{{"query": {mutation!r}}}'.encode(),
            data=body,
            headers={"content-type": content_type},
        )
        assert response.status_code == 400, content_type
        assert "application/json" in response.json()["errors"][0]["message"]
    over_get = await api.http.get("/graphql", params={"query": mutation})
    assert over_get.status_code == 405
    assert server.statements == before, "nothing ran"
