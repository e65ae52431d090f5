"""GraphQL over WebSocket (graphql-transport-ws): the same checks and error policy as HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Server, make_customer, make_staff
from tests.test_hostile_input import fan_out


class Socket:
    """The client end of an in-process ASGI WebSocket connection."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.outgoing.put(message)

    async def send_json(self, data: object) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def send_text(self, data: str) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": data})

    async def next_message(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outgoing.get(), timeout=10)

    async def next_frame(self) -> dict[str, Any]:
        message = await self.next_message()
        assert message["type"] == "websocket.send", message
        assert message.get("text") is not None, "a text frame, not binary"
        return json.loads(message["text"])  # type: ignore[no-any-return]

    async def closed_with(self) -> int:
        message = await self.next_message()
        assert message["type"] == "websocket.close", message
        return int(message["code"])

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self.send_json({"type": "connection_init", "payload": payload or {}})
        assert await self.next_frame() == {"type": "connection_ack"}

    async def run(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        await self.send_json(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return await self.next_frame()


@asynccontextmanager
async def connect(
    server: Server, headers: list[tuple[bytes, bytes]] | None = None
) -> AsyncIterator[Socket]:
    socket = Socket()
    scope = {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"sec-websocket-protocol", b"graphql-transport-ws"), *(headers or [])],
        "subprotocols": ["graphql-transport-ws"],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "asgi": {"version": "3.0"},
    }
    await socket.incoming.put({"type": "websocket.connect"})
    app = asyncio.create_task(server.app(scope, socket.receive, socket.send))
    try:
        accepted = await socket.next_message()
        assert accepted["type"] == "websocket.accept"
        assert accepted["subprotocol"] == "graphql-transport-ws"
        yield socket
    finally:
        await socket.incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(app, timeout=10)


async def test_queries_over_graphql_transport_ws(server: Server) -> None:
    async with connect(server) as socket:
        await socket.init()
        answer = await socket.run("1", "{ __typename }")
        assert (answer["id"], answer["type"]) == ("1", "next")
        assert answer["payload"]["data"] == {"__typename": "Query"}
        assert answer["payload"]["extensions"]["cost"]["requestedQueryCost"] == 0
        assert await socket.next_frame() == {"id": "1", "type": "complete"}


async def test_the_token_goes_in_connection_init(server: Server) -> None:
    token = await make_customer(server, "ws@example.com")
    async with connect(server) as socket:
        await socket.init({"Authorization": f"Bearer {token}"})
        me = await socket.run("1", "{ me { email } }")
        assert me["payload"]["data"] == {"me": {"email": "ws@example.com"}}
    async with connect(server, [(b"authorization", f"Bearer {token}".encode())]) as socket:
        await socket.init()
        me = await socket.run("1", "{ me { email } }")
        assert me["payload"]["data"] == {"me": {"email": "ws@example.com"}}


@pytest.mark.parametrize(
    "payload",
    [{"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}, {"Authorization": 1}],
)
async def test_bad_credentials_close_with_4403(server: Server, payload: dict[str, Any]) -> None:
    async with connect(server) as socket:
        await socket.send_json({"type": "connection_init", "payload": payload})
        if isinstance(payload["Authorization"], str):
            assert await socket.closed_with() == 4403
        else:  # not text at all: read as no credentials, so an anonymous connection
            assert await socket.next_frame() == {"type": "connection_ack"}


async def test_bad_header_at_upgrade_closes_with_4403(server: Server) -> None:
    async with connect(server, [(b"authorization", b"Bearer forged")]) as socket:
        await socket.send_json({"type": "connection_init"})
        assert await socket.closed_with() == 4403


async def test_an_expired_token_fails_each_operation(server: Server) -> None:
    token = await make_customer(server, "late@example.com")
    async with connect(server) as socket:
        await socket.init({"Authorization": f"Bearer {token}"})
        server.clock.advance(hours=1)
        late = await socket.run("1", "{ me { email } }")
        assert late["type"] == "error"
        assert late["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_subscribe_before_init_closes_with_4401(server: Server) -> None:
    async with connect(server) as socket:
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        )
        assert await socket.closed_with() == 4401


async def test_payloads_pass_the_http_checks(server: Server) -> None:
    async with connect(server) as socket:
        await socket.init()
        nul = await socket.run(
            "1", "query($s: String!) { product(slug: $s) { id } }", {"s": "x\u0000y"}
        )
        assert nul["type"] == "error"
        assert nul["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "NUL" in nul["payload"][0]["message"]
        literal = await socket.run("2", '{ product(slug: "a\\u0000b") { id } }')
        assert literal["type"] == "error"
        assert literal["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        huge = await socket.run(
            "3",
            "query($t: [String!]) { products(first: 1, filter: {tags: $t}) { totalCount } }",
            {"t": ["x"] * 100_000},
        )
        assert huge["type"] == "error"
        fan = await socket.run("4", fan_out(40))
        assert fan["type"] == "error"
        assert fan["payload"][0]["extensions"]["code"] == "QUERY_TOO_LARGE"
        missing = await socket.run("5", "{ ...Missing }")
        assert missing["type"] == "error"
        assert "Unknown fragment" in missing["payload"][0]["message"]
        # The socket is still usable after all of that.
        assert (await socket.run("6", "{ __typename }"))["type"] == "next"


async def test_malformed_messages_close_with_4400(server: Server) -> None:
    for bad in ("[" * 2000, "not json", json.dumps({"id": 5, "type": "subscribe"})):
        async with connect(server) as socket:
            await socket.init()
            await socket.send_text(bad)
            assert await socket.closed_with() == 4400


async def test_registration_with_a_nul_name_is_refused_not_leaked(server: Server) -> None:
    async with connect(server) as socket:
        await socket.init()
        result = await socket.run(
            "1",
            "mutation($i: AccountRegisterInput!) { accountRegister(input: $i) "
            "{ userErrors { code } } }",
            {
                "i": {
                    "email": "nul@example.com",
                    "password": "correct horse battery 9",
                    "firstName": "x\u0000y",
                    "lastName": "z",
                }
            },
        )
        assert result["type"] == "error"
        assert result["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_unexpected_errors_are_masked_with_a_request_id(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # A real outage of one table: the statement fails inside the database.
    async with server.services.db.transaction() as session:
        await session.exec(text("ALTER TABLE warehouse RENAME TO warehouse_gone"))  # type: ignore[call-overload]
    staff = await make_staff(server, "ws-staff@example.com")
    async with connect(server) as socket:
        await socket.init({"Authorization": f"Bearer {staff}"})
        with caplog.at_level(logging.ERROR):
            result = await socket.run("1", "{ warehouses { code } }")
        error = result["payload"]["errors"][0] if result["type"] == "next" else result["payload"][0]
        assert error["message"] == "internal error"
        assert error["extensions"]["code"] == "INTERNAL_ERROR"
        request_id = error["extensions"]["requestId"]
        assert "warehouse" not in json.dumps(result).lower().replace("warehouses", "")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged, "the error is logged"
    assert any(request_id in (getattr(r, "request_id", "") or r.getMessage()) for r in logged)
