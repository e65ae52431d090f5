"""Trusted documents: partners' manifests, and allowlist mode over HTTP and WebSocket."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from app.persisted import document_hash
from app.persisted.registry import ManifestOperation
from app.seed import seed
from app.settings import Settings
from schema import Limits, build_schema
from schema.operations import check_operation, manifest_operations
from tests.conftest import PASSWORD, SIGN_IN, Server, make_customer, make_staff, open_app
from tests.edge import persisted
from tests.support import CONTRACT, Clock
from tests.test_websocket import connect


def contract_manifest() -> list[ManifestOperation]:
    """The contract's operations, as `commerce persisted-queries manifest` lists them."""
    return manifest_operations(p.read_text() for p in sorted(CONTRACT.glob("*.graphql")))


async def register(server: Server, client: str, operations: list[ManifestOperation]) -> None:
    settings = server.services.settings
    limits = Limits.from_settings(settings)
    schema = build_schema(limits)._schema
    checked = [check_operation(schema, o, limits) for o in operations]
    assert not [c for c in checked if isinstance(c, str)], checked
    await server.services.trusted_documents.replace(client, checked)  # type: ignore[arg-type]


@pytest.fixture
async def allowlist(settings: Settings, clock: Clock) -> AsyncIterator[Server]:
    strict = settings.with_overrides(persisted_queries="allowlist", client_budgets={"web": 12_345})
    app, http, api = await open_app(strict, clock)
    async with app.router.lifespan_context(app), http:
        server = Server(app, app.state.services, api, clock)
        await seed(server.services.db, server.services.cache, products=12, staff_password=PASSWORD)
        await register(server, "web", contract_manifest())
        yield server


def by_name(name: str) -> ManifestOperation:
    return next(o for o in contract_manifest() if o.name == name)


async def test_every_contract_document_runs_by_its_hash(allowlist: Server) -> None:
    api = allowlist.client
    for operation in contract_manifest():
        result = await persisted(api, operation.body)
        codes = set(result.error_codes)
        assert not {c for c in codes if str(c).startswith("PERSISTED_QUERY")}, (
            operation.name,
            result.body,
        )
    tree = await persisted(api, by_name("CategoryTree").body, get=True)
    assert tree.data["categories"]
    # The registering client's budget pays for its documents.
    throttle = tree.body["extensions"]["cost"]["throttleStatus"]
    assert throttle["maximumAvailable"] == 12_345
    # A registered document sent in full runs too.
    full = await api.query(by_name("CategoryTree").body)
    assert full.data["categories"]


async def test_unregistered_documents_are_refused_whichever_way_they_come(
    allowlist: Server,
) -> None:
    api = allowlist.client
    before = allowlist.statements
    text = f"{{ x{secrets.token_hex(4)}: __typename }}"
    posted = await api.query(text)
    assert posted.status == 403
    assert posted.error_codes == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert "data" not in posted.body
    over_get = await api.http.get("/graphql", params={"query": text})
    assert over_get.status_code == 403
    registering = await persisted(api, text, register=True)
    assert registering.error_codes == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert (await persisted(api, text)).error_codes == ["PERSISTED_QUERY_NOT_FOUND"]
    assert (await persisted(api, "", sha=secrets.token_hex(32))).status == 404
    mutation = await api.query(
        'mutation { tokenRevoke(refreshToken: "x") { userErrors { code } } }'
    )
    assert mutation.error_codes == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert allowlist.statements == before, "nothing ran"


async def test_the_websocket_follows_the_same_allowlist(allowlist: Server) -> None:
    async with connect(allowlist) as socket:
        await socket.init()
        refused = await socket.run("1", "{ __typename }")
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        operation = by_name("CategoryTree")
        await socket.send_json(
            {
                "id": "2",
                "type": "subscribe",
                "payload": {
                    "extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation.id}}
                },
            }
        )
        answer = await socket.next_frame()
        assert answer["type"] == "next"
        assert answer["payload"]["data"]["categories"]


async def test_staff_may_be_exempted(settings: Settings, clock: Clock) -> None:
    exempt = settings.with_overrides(persisted_queries="allowlist", allowlist_exempt_staff=True)
    app, http, api = await open_app(exempt, clock)
    async with app.router.lifespan_context(app), http:
        server = Server(app, app.state.services, api, clock)
        sign_in = ManifestOperation(document_hash(SIGN_IN), None, "mutation", SIGN_IN)
        await register(server, "tests", [sign_in, by_name("AccountRegister")])
        staff = await make_staff(server)
        text = "{ warehouses { code } }"
        assert (await api.query(text, token=staff)).data == {"warehouses": []}
        assert (await api.query(text)).error_codes == ["PERSISTED_QUERY_NOT_ALLOWED"]
        customer = await make_customer(server, "allowlisted@example.com")
        refused = await api.query("{ me { email } }", token=customer)
        assert refused.error_codes == ["PERSISTED_QUERY_NOT_ALLOWED"]
